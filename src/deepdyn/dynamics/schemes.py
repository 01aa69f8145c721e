"""Schemes: how layers compose, i.e. which dynamical system the network is (DESIGN.md).

* ``map``       z_{l+1} = f_l(z_l)                                  multilayer perceptron (eq. 3.7)
* ``euler``     z_{l+1} = z_l + h_l f_l(z_l)                        ResNet (eq. 3.21, 7.8)
* ``heun``      z_{l+1} = z_l + h_l/2 (k₁ + f_l(z_l + h_l k₁)), k₁ = f_l(z_l)   two-stage residual
* ``leapfrog``  z_{l+1} = 2 z_l − z_{l−1} + h² f_l(z_l)              second-order net (eq. 7.9)
* ``ode``       dz/dt = f(z; θ(t)), θ(t) = θ_l on [t_l, t_{l+1})    neural ODE (eq. 5.7)

States are (ensemble, sample, component) tensors; a run returns the list z_0 … z_L.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torchdiffeq
from torchdiffeq._impl.odeint import SOLVERS as _TORCHDIFFEQ_SOLVERS

from deepdyn import _checks
from deepdyn.dynamics.fields import Field

SCHEMES = ("map", "euler", "heun", "leapfrog", "ode")
RESIDUAL_SCHEMES = ("euler", "heun", "leapfrog", "ode")
SOLVERS = tuple(_TORCHDIFFEQ_SOLVERS)


def check_scheme(name: str) -> str:
    return _checks.choice("scheme", name, SCHEMES)


def check_solver(name: str) -> str:
    return _checks.choice("solver", name, SOLVERS)


def run_fixed(
    scheme: str,
    field: Field,
    z0: torch.Tensor,
    h: Sequence[float],
    *,
    preactivations: bool = False,
    keep: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> tuple[list[torch.Tensor], list[torch.Tensor] | None]:
    """Iterate a fixed-step scheme. Returns states z_0 … z_L and, on request, the hidden
    pre-activations of each layer's field at its input state (layer l = 0 … L−1).

    ``keep`` maps each state before it is recorded (e.g. to a norm), so that large ensembles
    need not hold every full state in memory."""
    record = keep if keep is not None else (lambda t: t)
    states = [record(z0)]
    pres: list[torch.Tensor] | None = [] if preactivations else None
    z_prev: torch.Tensor | None = None
    z = z0
    for l in range(field.depth):
        if pres is not None:
            f, pre = field.evaluate(l, z)
            pres.append(pre)
        else:
            f = field(l, z)
        if scheme == "map":
            z_next = f
        elif scheme == "euler":
            z_next = z + h[l] * f
        elif scheme == "heun":
            z_next = z + (0.5 * h[l]) * (f + field(l, z + h[l] * f))
        else:  # leapfrog, central second difference with steps h_{l−1}, h_l
            if z_prev is None:
                # Taylor start with zero initial velocity: z_1 = z_0 + h_0²/2 f_0(z_0),
                # which keeps the scheme second-order accurate for z'' = f(z), z'(0) = 0.
                z_next = z + (0.5 * h[0] ** 2) * f
            else:
                r = h[l] / h[l - 1]
                z_next = z + r * (z - z_prev) + (0.5 * h[l] * (h[l] + h[l - 1])) * f
        z_prev, z = z, z_next
        states.append(record(z))
    return states, pres


def run_ode(
    field: Field,
    z0: torch.Tensor,
    knots: Sequence[float],
    *,
    solver: str,
    rtol: float,
    atol: float,
    adjoint: bool,
    options: dict[str, Any] | None = None,
    times: Sequence[float] | None = None,
) -> tuple[list[torch.Tensor], list[float], list[int]]:
    """Solve dz/dt = f_l(z) on each control interval [t_l, t_{l+1}] with torchdiffeq.

    Returns the states at every recorded time (the knots t_0 … t_L plus any extra ``times``),
    those times, and the positions of the knots in that list.
    """
    extra = sorted(float(t) for t in times) if times is not None else []
    if extra and (extra[0] < knots[0] or extra[-1] > knots[-1]):
        raise ValueError(f"times must lie in [{knots[0]}, {knots[-1]}], got {extra[0]}…{extra[-1]}")
    states = [z0]
    out_times = [float(knots[0])]
    layer_index = [0]
    z = z0
    solve = torchdiffeq.odeint_adjoint if adjoint else torchdiffeq.odeint
    for l in range(field.depth):
        a, b = float(knots[l]), float(knots[l + 1])
        inner = [t for t in extra if a < t < b]
        grid = torch.tensor([a, *inner, b], dtype=z0.dtype, device=z0.device)

        def rhs(t: torch.Tensor, y: torch.Tensor, l: int = l) -> torch.Tensor:
            return field(l, y)

        kwargs: dict[str, Any] = {"rtol": rtol, "atol": atol, "method": solver}
        if options:
            kwargs["options"] = dict(options)
        if adjoint:
            kwargs["adjoint_params"] = tuple(field.layer_parameters(l))
        path = solve(rhs, z, grid, **kwargs)  # (time, ensemble, sample, component)
        for i in range(1, path.shape[0]):
            states.append(path[i])
        out_times.extend([*inner, b])
        layer_index.append(len(states) - 1)
        z = path[-1]
    return states, out_times, layer_index
