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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from deepdyn import _checks
from deepdyn.dynamics import Network
from deepdyn.train import _losses
from deepdyn.train._fit import _check_inputs, _check_regularizer

FIXED_SCHEMES = ("map", "euler", "heun", "leapfrog")
COSTATE_SCHEMES = (*FIXED_SCHEMES, "ode")


@dataclass(frozen=True)
class Costates:
    """States, costates and Hamiltonians of one forward and one backward pass.

    Attributes:
        states: list of L + 1 tensors z_l, each (ensemble, sample, C_l).
        costates: list of L + 1 tensors p_l = −∂J/∂z_l, each (ensemble, sample, C_l).
        hamiltonian: (layer − 1, ensemble) H_l at the current θ (fixed-step schemes; for
            ``ode`` the integral ∫ p · f dt is not formed and this is None).
        gradient_norm: (layer − 1, ensemble) ‖Σ_samples ∂H_l/∂θ_l‖ = ‖∂J/∂θ_l‖.
        residual: (ensemble,) the PMP residual max_l ‖Σ_samples ∂H_l/∂θ_l‖.
        loss: (ensemble,) J per member, regularizer included.
        times: (layer,) the layer times t_0 … t_L.
    """

    states: list[torch.Tensor]
    costates: list[torch.Tensor]
    hamiltonian: torch.Tensor | None
    gradient_norm: torch.Tensor
    residual: torch.Tensor
    loss: torch.Tensor
    times: torch.Tensor

    def stacked(self, which: str = "costates") -> torch.Tensor:
        """``states`` or ``costates`` as one (layer, ensemble, sample, component) tensor,
        zero-padded to the widest layer."""
        rows = _checks.choice("which", which, ("states", "costates"))
        ts = self.states if rows == "states" else self.costates
        w = max(t.shape[-1] for t in ts)
        return torch.stack([torch.nn.functional.pad(t, (0, w - t.shape[-1])) for t in ts])


# --------------------------------------------------------------------------- problem setup
@dataclass(frozen=True)
class Problem:
    """Validated data of one control problem: inputs ``X`` as given ((sample, input) or
    (ensemble, sample, input)) and ``Xe`` always (ensemble, sample, input), targets in the form
    the loss uses, the resolved loss name and the regularizer."""

    X: torch.Tensor
    Xe: torch.Tensor
    target: torch.Tensor
    loss: str
    regularizer: _losses.Regularizer


def problem(
    net: Network, X: Any, y: Any, loss: str, regularizer: Any, *, schemes: Sequence[str]
) -> Problem:
    """Validate (net, X, y, loss, regularizer) as :func:`deepdyn.fit` does, plus the scheme."""
    if not isinstance(net, Network):
        raise ValueError(f"net must be a deepdyn Network, got {type(net).__name__}")
    if net.scheme not in schemes:
        raise ValueError(
            f'scheme "{net.scheme}" not supported here: choose a network with scheme '
            f"{', '.join(schemes)}"
        )
    name = _losses.resolve_loss(net, loss)
    Xc = _check_inputs(net, X, "X")
    target = _losses.check_targets(net, y, name, samples=Xc.shape[-2], ensemble_axis=Xc.dim() == 3)
    Xe = Xc if Xc.dim() == 3 else Xc.unsqueeze(0).expand(net.members, -1, -1)
    return Problem(Xc, Xe, target, name, _check_regularizer(regularizer))


# --------------------------------------------------------------------------- layer maps
def layer_step(
    net: Network, l: int, z: torch.Tensor, z_prev: torch.Tensor | None = None
) -> torch.Tensor:
    """F_l(z_l[, z_{l−1}]; θ_l): (ensemble, sample, C_l) → (ensemble, sample, C_{l+1})."""
    h = net.h
    f = net.field(l, z)
    if net.scheme == "map":
        return f
    if net.scheme == "euler":
        return z + h[l] * f
    if net.scheme == "heun":
        return z + (0.5 * h[l]) * (f + net.field(l, z + h[l] * f))
    if l == 0 or z_prev is None:  # leapfrog, started at rest
        return z + (0.5 * h[0] ** 2) * f
    r = h[l] / h[l - 1]
    return z + r * (z - z_prev) + (0.5 * h[l] * (h[l] + h[l - 1])) * f


def forward(net: Network, X: torch.Tensor) -> list[torch.Tensor]:
    """z_0 … z_L for X (ensemble, sample, input), detached: each (ensemble, sample, C_l)."""
    with torch.no_grad():
        states = [net.lift(X)]
        for l in range(net.depth):
            prev = states[l - 1] if l > 0 else None
            states.append(layer_step(net, l, states[l], prev))
    return states


def terminal_loss(net: Network, zL: torch.Tensor, pb: Problem) -> torch.Tensor:
    """(ensemble,) data loss of each member from its final state z_L (ensemble, sample, C)."""
    if net.readout is None:
        out = zL
    else:
        out = net.readout(zL) if pb.loss == "mse" else net.readout.logits(zL)
    M, n, k = out.shape
    if pb.loss == "cross_entropy":
        t = pb.target.expand(M, n)
        ce = torch.nn.functional.cross_entropy(out.transpose(1, 2), t, reduction="none")
        return ce.mean(dim=1)
    t = pb.target.expand(M, n, k)
    if pb.loss == "bce":
        bce = torch.nn.functional.binary_cross_entropy_with_logits(out, t, reduction="none")
        return bce.mean(dim=(1, 2))
    return ((out - t) ** 2).mean(dim=(1, 2))


def running_cost(net: Network, params: Sequence[torch.Tensor], pb: Problem) -> torch.Tensor:
    """R_l(θ_l) per member (ensemble,) for the parameters ``params`` of one control."""
    M = net.members
    if pb.regularizer is None:
        return params[0].new_zeros(M)
    if callable(pb.regularizer):
        r = _losses.penalty(net, pb.regularizer)
        assert r is not None
        return (r / M).expand(M) if r.dim() == 0 else r  # one shared term: split evenly
    lam = float(pb.regularizer)
    return lam * sum((p**2).reshape(M, -1).sum(dim=1) for p in params)  # type: ignore[return-value]


def objective(net: Network, pb: Problem) -> torch.Tensor:
    """(ensemble,) J per member (data loss + regularizer), differentiable in θ."""
    per = _losses.per_member(net, pb.X, pb.target, pb.loss)
    r = _losses.penalty(net, pb.regularizer)
    if r is None:
        return per
    return per + (r / net.members if r.dim() == 0 else r)


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
            pl = _vjp(layer_step(net, l, z, prev), z, p[l + 1])  # type: ignore[arg-type]
            if net.scheme == "leapfrog" and l + 2 <= L:
                zl = states[l].detach().requires_grad_(True)
                out = layer_step(net, l + 1, states[l + 1], zl)
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
    F = layer_step(net, l, states[l], prev)  # (ensemble, sample, C_{l+1})
    value = (costates[l + 1] * F).sum(dim=(1, 2))
    return value - running_cost(net, net.field.layer_parameters(l), pb)


def member_norm(grads: Sequence[torch.Tensor], members: int) -> torch.Tensor:
    """(ensemble,) Euclidean norm over all entries but the leading ensemble axis."""
    sq = sum((g**2).reshape(members, -1).sum(dim=1) for g in grads)
    return torch.as_tensor(sq).sqrt()


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
    pb = problem(net, X, y, loss, regularizer, schemes=COSTATE_SCHEMES)
    if net.scheme == "ode":
        from deepdyn.train.pmp._ode import ode_costates_problem

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
