"""Public builders: MLP, ResNet and NeuralODE are one object, a :class:`Network`, with a
different scheme (DESIGN.md). Each makes a :class:`NetworkSpec` and builds it; ``build(spec)``
makes the same network from the spec alone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from deepdyn.dynamics import _schemes
from deepdyn.dynamics._network import Network, _step_size_option
from deepdyn.dynamics._spec import NetworkSpec, ODEOptions


def build(spec: NetworkSpec | dict[str, Any]) -> Network:
    """The Network described by ``spec`` (a :class:`NetworkSpec`, or its dict form)."""
    if not isinstance(spec, NetworkSpec):
        spec = NetworkSpec.from_dict(spec)
    return Network(spec)


def _dtype(dtype: torch.dtype | str) -> str:
    if isinstance(dtype, str):
        return dtype
    return {torch.float32: "float32", torch.float64: "float64"}.get(dtype, str(dtype))


def _seq(v: Any) -> Any:
    return list(v) if isinstance(v, Sequence) and not isinstance(v, str) else v


class MLP(Network):
    """Multilayer perceptron z_{l+1} = σ(A_l z_l + b_l) (thesis eq. 3.7, scheme ``map``).

    Args:
        in_features: d, the input dimension.
        width: C, neurons per hidden layer, or a sequence of ``depth`` widths (§10.1).
        depth: L, the number of hidden layers.
        out_features: k, the readout dimension.
        activation: relu, tanh, sigmoid, softplus, leaky_relu or identity.
        readout: terminal function after the readout map (identity, sigmoid, softmax), or
            None for no readout (the output is z_L).
        readout_map: ``affine`` (trainable W z + μ) or ``projection`` (fixed, z ↦ z_1 … z_k).
        init, scale, bias_init: initializer (uniform, normal, glorot, he, lecun, orthogonal,
            zero), its scale (γ for uniform, σ for normal, a gain otherwise) — one per member
            or shared — and the bias rule (auto, zero, uniform, normal).
        ensemble: E independent networks in batched tensors, or None for one network.
        seed: the seed, or one per member; an int gives member k the seed ``seed + k``.
    """

    def __init__(
        self,
        in_features: int,
        width: int | Sequence[int],
        depth: int,
        out_features: int = 1,
        *,
        activation: str = "relu",
        readout: str | None = "sigmoid",
        readout_map: str = "affine",
        init: str = "uniform",
        scale: float | Sequence[float] = 1.0,
        bias_init: str = "auto",
        ensemble: int | None = None,
        seed: int | Sequence[int] = 0,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__(
            NetworkSpec(
                in_features,
                _seq(width),
                depth,
                out_features,
                scheme="map",
                activation=activation,
                readout=readout,
                readout_map=readout_map,
                init=init,
                scale=_seq(scale),
                bias_init=bias_init,
                ensemble=ensemble,
                seed=_seq(seed),
                dtype=_dtype(dtype),
            )
        )


class ResNet(Network):
    """Residual network z_{l+1} = z_l + h_l f_l(z_l) (thesis eq. 3.21, 7.8) and its relatives.

    Args:
        in_features, width, depth, out_features: d, C, L, k.
        scheme: a residual fixed-step scheme: ``euler`` (ResNet), ``heun`` (two-stage
            residual step), ``rk4`` (classical four-stage step), ``leapfrog`` (second-order
            net z_{l+1} = 2z_l − z_{l−1} + h² f, eq. 7.9, started at rest), or one registered
            with :func:`deepdyn.dynamics.register_scheme`.
        T: horizon; the uniform step is h = T/L. One horizon per member for an ensemble
            (``T=[0.5, 1, 2]`` with ``ensemble=3``).
        h: a step for every layer (a float, a sequence of L floats, or one such sequence per
            member); overrides T.
        field: ``perceptron`` σ(Az + b), ``bottleneck`` A₂σ(A₁z + b) with ``hidden`` units
            (eq. 5.5), or ``block`` a q-layer perceptron (Def. 8.2.1).
        lift: identity, pad (zero augmentation), affine, or auto (identity if C = d, pad if
            C > d, affine if C < d).
        The other arguments are those of :class:`MLP`.
    """

    def __init__(
        self,
        in_features: int,
        width: int,
        depth: int,
        out_features: int = 1,
        *,
        scheme: str = "euler",
        T: float | Sequence[float] = 1.0,
        h: float | Sequence[float] | Sequence[Sequence[float]] | None = None,
        field: str = "perceptron",
        hidden: int | None = None,
        q: int = 2,
        activation: str = "tanh",
        lift: str = "auto",
        readout: str | None = "sigmoid",
        readout_map: str = "affine",
        init: str = "uniform",
        scale: float | Sequence[float] = 1.0,
        bias_init: str = "auto",
        ensemble: int | None = None,
        seed: int | Sequence[int] = 0,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        sch = _schemes.scheme(scheme)
        if not (sch.residual and sch.fixed_step):
            raise ValueError(
                f'ResNet scheme "{sch.name}" unknown: choose one of '
                f"{', '.join(_schemes.residual_fixed())} (use MLP for map, NeuralODE for ode)"
            )
        if isinstance(width, Sequence):
            raise ValueError(f"ResNet width must be one integer, got {list(width)}")
        super().__init__(
            NetworkSpec(
                in_features,
                width,
                depth,
                out_features,
                scheme=sch.name,
                field=field,
                hidden=hidden,
                q=q,
                activation=activation,
                T=_seq(T),
                h=h if h is None or not isinstance(h, Sequence) else _seq(h),  # type: ignore[arg-type]
                lift=lift,
                readout=readout,
                readout_map=readout_map,
                init=init,
                scale=_seq(scale),
                bias_init=bias_init,
                ensemble=ensemble,
                seed=_seq(seed),
                dtype=_dtype(dtype),
            )
        )


class NeuralODE(Network):
    """Neural ODE dz/dt = f(z; θ(t)) on [0, T], θ piecewise constant on ``depth`` equal control
    intervals (thesis eq. 5.7), solved by torchdiffeq.

    Args:
        solver: any torchdiffeq method (dopri5, rk4, euler, …); fixed-step solvers take
            ``step_size`` (or ``options={"step_size": …}``).
        rtol, atol: solver tolerances.
        adjoint: gradients by the adjoint method (``odeint_adjoint``) instead of backprop
            through the solver.
        The other arguments are those of :class:`ResNet`.
    """

    def __init__(
        self,
        in_features: int,
        width: int,
        depth: int = 1,
        out_features: int = 1,
        *,
        T: float = 1.0,
        solver: str = "dopri5",
        rtol: float = 1e-6,
        atol: float = 1e-8,
        adjoint: bool = False,
        step_size: float | None = None,
        options: dict[str, Any] | None = None,
        field: str = "perceptron",
        hidden: int | None = None,
        q: int = 2,
        activation: str = "tanh",
        lift: str = "auto",
        readout: str | None = "sigmoid",
        readout_map: str = "affine",
        init: str = "uniform",
        scale: float | Sequence[float] = 1.0,
        bias_init: str = "auto",
        ensemble: int | None = None,
        seed: int | Sequence[int] = 0,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        if options:
            step_size = _step_size_option(options)
        ode = ODEOptions(solver, rtol, atol, bool(adjoint), step_size)
        super().__init__(
            NetworkSpec(
                in_features,
                width,
                depth,
                out_features,
                scheme="ode",
                field=field,
                hidden=hidden,
                q=q,
                activation=activation,
                T=_seq(T),
                lift=lift,
                readout=readout,
                readout_map=readout_map,
                init=init,
                scale=_seq(scale),
                bias_init=bias_init,
                ode=ode,
                ensemble=ensemble,
                seed=_seq(seed),
                dtype=_dtype(dtype),
            )
        )
