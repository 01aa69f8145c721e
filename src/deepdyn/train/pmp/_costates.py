"""Costates, layer Hamiltonians and the PMP residual of a fixed-step network (thesis ch. 3–4).

A network with a fixed-step scheme is the discrete control system z_{l+1} = F_l(z_l; θ_l)
(``leapfrog``: z_{l+1} = F_l(z_l, z_{l−1}; θ_l)), l = 0 … L−1, with the layer maps

* ``map``       F_l(z) = f_l(z)
* ``euler``     F_l(z) = z + h_l f_l(z)
* ``heun``      F_l(z) = z + h_l/2 (f_l(z) + f_l(z + h_l f_l(z)))
* ``leapfrog``  F_l(z, z') = z + r_l (z − z') + h_l (h_l + h_{l−1})/2 f_l(z), r_l = h_l / h_{l−1}
                (F_0(z) = z + h_0²/2 f_0(z): started at rest)

and the objective of one member J(θ) = (1/N) Σ_i loss(g(W z_L^i + μ), y^i) + R(θ).

* **costates** (eq. 3.15–3.16, 4.8, with the convention of NOTES.md item 7):
  p_L = −∂J/∂z_L, p_l = (∂F_l/∂z_l)ᵀ p_{l+1} (+ (∂F_{l+1}/∂z_l)ᵀ p_{l+2} for ``leapfrog``,
  whose step reaches back two layers), computed by this backward recursion, one
  vector-Jacobian product of one layer map at a time — never by differentiating the loss.
  Because J averages over the N samples, p_l^i carries the factor 1/N: p_l = −∂J/∂z_l exactly.
* **Hamiltonian** (eq. 4.6 with the running cost): H_l(θ_l) = Σ_i p_{l+1}^i · F_l(z_l^i; θ_l)
  − R_l(θ_l), with R_l = λ‖θ_l‖² for a float regularizer λ (the part of λ Σ‖θ‖² that
  depends on θ_l); a callable regularizer R(net) enters as R_l(θ_l) = R(net) with the other
  layers held, i.e. up to a constant in θ_l.
* **eq. 4.17**: ∂H_l/∂θ_l = −∂J/∂θ_l, so the **PMP residual** max_l ‖∂H_l/∂θ_l‖ vanishes
  exactly at the stationary points of J (eq. 4.9 at an interior maximum).
"""

from __future__ import annotations

from typing import Any

import torch

from deepdyn.dynamics import SCHEMES, Network
from deepdyn.train._problem import (
    Problem,
    objective,
    problem,
    running_cost,
    terminal_loss,
)
from deepdyn.train.pmp._ode import ode_costates_problem
from deepdyn.train.pmp._result import Costates, member_norm

__all__ = [
    "Costates",
    "Problem",
    "backward",
    "costate_schemes",
    "costates",
    "fixed_schemes",
    "forward",
    "hamiltonian",
    "layer_step",
    "member_norm",
    "objective",
    "problem",
    "running_cost",
    "terminal_loss",
]  # fmt: skip


def fixed_schemes() -> list[str]:
    """Registered schemes with explicit layer maps (the discrete costate recursion)."""
    return [n for n, s in SCHEMES.items() if s.fixed_step]


def costate_schemes() -> list[str]:
    """Every registered scheme: fixed-step ones by recursion, ``ode`` by the adjoint."""
    return list(SCHEMES)


# --------------------------------------------------------------------------- layer maps
def layer_step(
    net: Network, l: int, z: torch.Tensor, z_prev: torch.Tensor | None = None
) -> torch.Tensor:
    """F_l(z_l[, z_{l−1}]; θ_l): (ensemble, sample, C_l) → (ensemble, sample, C_{l+1}), the
    scheme's own step (``net.layer_step``)."""
    return net.layer_step(l, z, z_prev)


def forward(net: Network, X: torch.Tensor) -> list[torch.Tensor]:
    """z_0 … z_L for X (ensemble, sample, input), detached: each (ensemble, sample, C_l)."""
    with torch.no_grad():
        states = [net.lift(X)]
        for l in range(net.depth):
            prev = states[l - 1] if l > 0 else None
            states.append(net.layer_step(l, states[l], prev))
    return states


# --------------------------------------------------------------------------- the recursion
def _vjp(out: torch.Tensor, inp: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    (g,) = torch.autograd.grad(out, inp, v, retain_graph=False)
    return g


def backward(net: Network, states: list[torch.Tensor], pb: Problem) -> list[torch.Tensor]:
    """p_0 … p_L by the backward recursion (eq. 3.15–3.16, 4.8); each (ensemble, sample, C_l).

    p_L = −∂J/∂z_L (terminal condition), then p_l = (∂F_l/∂z_l)ᵀ p_{l+1} — and, for
    ``leapfrog``, + (∂F_{l+1}/∂z_l)ᵀ p_{l+2}, the second path from z_l — one layer's
    vector-Jacobian product at a time.
    """
    L = net.depth
    with torch.enable_grad():
        zL = states[L].detach().requires_grad_(True)
        J = terminal_loss(net, zL, pb).sum()  # members are independent: Σ_members
        p: list[torch.Tensor | None] = [None] * (L + 1)
        p[L] = -_vjp(J, zL, torch.ones_like(J))
        for l in range(L - 1, -1, -1):
            z = states[l].detach().requires_grad_(True)
            prev = states[l - 1] if l > 0 else None
            pl = _vjp(net.layer_step(l, z, prev), z, p[l + 1])  # type: ignore[arg-type]
            if net.scheme.history == 2 and l + 2 <= L:  # F_{l+1} reads z_l too
                zl = states[l].detach().requires_grad_(True)
                out = net.layer_step(l + 1, states[l + 1], zl)
                pl = pl + _vjp(out, zl, p[l + 2])  # type: ignore[arg-type]
            p[l] = pl
    return [t.detach() for t in p]  # type: ignore[union-attr]


def hamiltonian(
    net: Network,
    l: int,
    states: list[torch.Tensor],
    costates: list[torch.Tensor],
    pb: Problem,
) -> torch.Tensor:
    """H_l(z_l, p_{l+1}, θ_l) = Σ_samples p_{l+1} · F_l(z_l; θ_l) − R_l(θ_l) (eq. 4.6), per
    member (ensemble,); differentiable in θ_l (the states and costates are held fixed)."""
    prev = states[l - 1] if l > 0 else None
    F = net.layer_step(l, states[l], prev)  # (ensemble, sample, C_{l+1})
    value = (costates[l + 1] * F).sum(dim=(1, 2))
    return value - running_cost(net, net.field.layer_parameters(l), pb)


def costates(
    net: Network,
    X: Any,
    y: Any,
    *,
    loss: str = "auto",
    regularizer: Any = None,
) -> Costates:
    """Forward pass, backward (costate) pass and the layer Hamiltonians of ``net`` on (X, y).

    Fixed-step schemes (map, euler, heun, leapfrog) use the explicit backward recursion of
    the module docstring; ``ode`` networks get the continuous costate of eq. 4.8,
    ṗ = −(∂f/∂z)ᵀ p, integrated backwards by torchdiffeq's adjoint method
    (:func:`deepdyn.train.pmp.ode_costates`).

    X: (sample, input) or (ensemble, sample, input); y, loss and regularizer as for
    :func:`deepdyn.fit`. Returns a :class:`Costates` (every tensor keeps the ensemble axis).
    """
    pb = problem(net, X, y, loss, regularizer, schemes=costate_schemes())
    if not net.scheme.fixed_step:
        return ode_costates_problem(net, pb)
    states = forward(net, pb.Xe)
    p = backward(net, states, pb)
    M = net.members
    Hs, norms = [], []
    with torch.enable_grad():
        for l in range(net.depth):
            H = hamiltonian(net, l, states, p, pb)
            grads = torch.autograd.grad(H.sum(), net.field.layer_parameters(l))
            Hs.append(H.detach())
            norms.append(member_norm(grads, M))
    with torch.no_grad():
        J = objective(net, pb)
    gn = torch.stack(norms)  # (layer − 1, ensemble)
    return Costates(
        states=states,
        costates=p,
        hamiltonian=torch.stack(Hs),
        gradient_norm=gn,
        residual=gn.max(dim=0).values,
        loss=J.detach(),
        times=net.times.detach().clone(),
    )
