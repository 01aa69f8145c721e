"""Public builders: MLP, ResNet and NeuralODE are one object, a :class:`Network`, with a
different scheme (DESIGN.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from deepdyn import _checks
from deepdyn.dynamics import schemes as _schemes
from deepdyn.dynamics.ends import Lift, Readout
from deepdyn.dynamics.fields import FIELDS, Field
from deepdyn.dynamics.network import Network


def _common(
    in_features: int, out_features: int, ensemble: int | None
) -> tuple[int, int, int | None]:
    d = _checks.integer("in_features", in_features)
    k = _checks.integer("out_features", out_features)
    e = None if ensemble is None else _checks.integer("ensemble", ensemble)
    return d, k, e


def _readout(
    readout: str | None, width: int, k: int, e: int | None, dtype: torch.dtype
) -> Readout | None:
    if readout is None:
        return None
    return Readout(width, k, readout, ensemble=e or 1, dtype=dtype)


class MLP(Network):
    """Multilayer perceptron z_{l+1} = σ(A_l z_l + b_l) (thesis eq. 3.7, scheme ``map``).

    Args:
        in_features: d, the input dimension.
        width: C, neurons per hidden layer, or a sequence of ``depth`` widths (§10.1).
        depth: L, the number of hidden layers.
        out_features: k, the readout dimension.
        activation: relu, tanh, sigmoid, softplus, leaky_relu or identity.
        readout: terminal function after the affine readout (identity, sigmoid, softmax), or
            None for no readout (the output is z_L).
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
        init: str = "uniform",
        scale: float | Sequence[float] = 1.0,
        bias_init: str = "auto",
        ensemble: int | None = None,
        seed: int | Sequence[int] = 0,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        d, k, e = _common(in_features, out_features, ensemble)
        L = _checks.integer("depth", depth)
        if isinstance(width, Sequence) and not isinstance(width, str):  # "3" is no width list
            if len(width) != L:
                raise ValueError(f"width has {len(width)} entries, expected depth = {L}")
            hidden = [_checks.integer("width", w) for w in width]
        else:
            hidden = [_checks.integer("width", width)] * L
        field = Field(
            "perceptron", [d, *hidden], activation=activation, ensemble=e or 1, dtype=dtype
        )
        super().__init__(
            in_features=d,
            field=field,
            scheme="map",
            steps=[1.0] * L,
            lift=Lift("identity", d, d, ensemble=e or 1, dtype=dtype),
            readout=_readout(readout, hidden[-1], k, e, dtype),
            ensemble=e,
            seed=seed,
            init=init,
            scale=scale,
            bias_init=bias_init,
        )


def _residual_parts(
    d: int,
    width: int,
    depth: int,
    e: int | None,
    *,
    field: str,
    hidden: int | None,
    q: int,
    activation: str,
    lift: str,
    dtype: torch.dtype,
) -> tuple[int, int, Field, Lift]:
    C = _checks.integer("width", width)
    L = _checks.integer("depth", depth)
    _checks.choice("field", field, FIELDS)
    if hidden is not None:
        _checks.integer("hidden", hidden)
    _checks.integer("q", q)
    if lift == "auto":
        lift = "identity" if d == C else ("pad" if d < C else "affine")
    f = Field(field, [C] * (L + 1), activation=activation, hidden=hidden, q=q, ensemble=e or 1,
              dtype=dtype)  # fmt: skip
    return C, L, f, Lift(lift, d, C, ensemble=e or 1, dtype=dtype)


def _steps(L: int, T: float, h: float | Sequence[float] | None) -> list[float]:
    if h is None:
        return [_checks.positive("T", T) / L] * L
    if isinstance(h, Sequence):
        if len(h) != L:
            raise ValueError(f"h has {len(h)} steps, expected one per layer (depth = {L})")
        return [_checks.positive("h", s) for s in h]
    return [_checks.positive("h", h)] * L


class ResNet(Network):
    """Residual network z_{l+1} = z_l + h_l f_l(z_l) (thesis eq. 3.21, 7.8) and its relatives.

    Args:
        in_features, width, depth, out_features: d, C, L, k.
        scheme: ``euler`` (ResNet), ``heun`` (two-stage residual step) or ``leapfrog``
            (second-order net z_{l+1} = 2z_l − z_{l−1} + h² f, eq. 7.9, started at rest).
        T: horizon; the uniform step is h = T/L.
        h: a step for every layer (a float or a sequence of L floats); overrides T.
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
        T: float = 1.0,
        h: float | Sequence[float] | None = None,
        field: str = "perceptron",
        hidden: int | None = None,
        q: int = 2,
        activation: str = "tanh",
        lift: str = "auto",
        readout: str | None = "sigmoid",
        init: str = "uniform",
        scale: float | Sequence[float] = 1.0,
        bias_init: str = "auto",
        ensemble: int | None = None,
        seed: int | Sequence[int] = 0,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        d, k, e = _common(in_features, out_features, ensemble)
        _schemes.check_scheme(scheme)
        if scheme not in ("euler", "heun", "leapfrog"):
            raise ValueError(
                f'ResNet scheme "{scheme}" unknown: choose one of euler, heun, leapfrog '
                "(use MLP for map, NeuralODE for ode)"
            )
        C, L, f, lf = _residual_parts(
            d, width, depth, e, field=field, hidden=hidden, q=q, activation=activation,
            lift=lift, dtype=dtype,
        )  # fmt: skip
        super().__init__(
            in_features=d,
            field=f,
            scheme=scheme,
            steps=_steps(L, T, h),
            lift=lf,
            readout=_readout(readout, C, k, e, dtype),
            ensemble=e,
            seed=seed,
            init=init,
            scale=scale,
            bias_init=bias_init,
        )


class NeuralODE(Network):
    """Neural ODE dz/dt = f(z; θ(t)) on [0, T], θ piecewise constant on ``depth`` equal control
    intervals (thesis eq. 5.7), solved by torchdiffeq.

    Args:
        solver: any torchdiffeq method (dopri5, rk4, euler, …); fixed-step solvers take
            ``options={"step_size": …}``.
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
        options: dict[str, Any] | None = None,
        field: str = "perceptron",
        hidden: int | None = None,
        q: int = 2,
        activation: str = "tanh",
        lift: str = "auto",
        readout: str | None = "sigmoid",
        init: str = "uniform",
        scale: float | Sequence[float] = 1.0,
        bias_init: str = "auto",
        ensemble: int | None = None,
        seed: int | Sequence[int] = 0,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        d, k, e = _common(in_features, out_features, ensemble)
        _schemes.check_solver(solver)
        C, L, f, lf = _residual_parts(
            d, width, depth, e, field=field, hidden=hidden, q=q, activation=activation,
            lift=lift, dtype=dtype,
        )  # fmt: skip
        super().__init__(
            in_features=d,
            field=f,
            scheme="ode",
            steps=_steps(L, T, None),
            lift=lf,
            readout=_readout(readout, C, k, e, dtype),
            ensemble=e,
            seed=seed,
            init=init,
            scale=scale,
            bias_init=bias_init,
            ode={
                "solver": solver,
                "rtol": _checks.positive("rtol", rtol),
                "atol": _checks.positive("atol", atol),
                "adjoint": bool(adjoint),
                "options": options,
            },
        )
