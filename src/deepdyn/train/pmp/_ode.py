"""The continuous costate of a neural ODE (thesis eq. 4.7–4.8, §9): optimize-then-discretize.

For dz/dt = f(z; θ_l) on [t_l, t_{l+1}] the costate solves ṗ = −(∂f/∂z)ᵀ p backwards from
p(T) = −∂J/∂z(T), and ∂J/∂θ_l = −∫_{t_l}^{t_{l+1}} (∂f/∂θ)ᵀ p dt = −∫ ∂H/∂θ_l dt. torchdiffeq's
``odeint_adjoint`` integrates exactly this system (with the sign a = −p) by its own solver
backwards in time; here it runs once per control interval, so the costate is read at every
knot t_l. With ``adjoint=False`` the same numbers come from backpropagation through the
forward solver's operations instead (discretize-then-optimize); the two agree to within the
solver tolerance.
"""

from __future__ import annotations

from typing import Any

import torch

from deepdyn.dynamics import Network, run_ode
from deepdyn.train._problem import Problem, problem, regularization, terminal_loss
from deepdyn.train.pmp._result import Costates, member_norm


def _solve(net: Network, z0: torch.Tensor, adjoint: bool) -> list[torch.Tensor]:
    """z(t_0) … z(t_L), one torchdiffeq solve per control interval; every knot state is the
    very tensor the next interval starts from, so that autograd can read ∂J/∂z(t_l) there."""
    assert net.ode is not None
    knots = [float(t) for t in net.times]
    states, _, _ = run_ode(net.field, z0, knots, solver=net.ode.solver, rtol=net.ode.rtol,
                           atol=net.ode.atol, adjoint=adjoint,
                           options=net.ode.torchdiffeq_options())  # fmt: skip
    return states


def ode_costates_problem(net: Network, pb: Problem, *, adjoint: bool = True) -> Costates:
    """:func:`ode_costates` on validated data."""
    M = net.members
    with torch.enable_grad():
        z0 = net.lift(pb.Xe)
        if not z0.requires_grad:  # identity or pad lift: z_0 is data, but p_0 is still wanted
            z0 = z0.detach().requires_grad_(True)
        knot_states = _solve(net, z0, adjoint)  # z(t_0) … z(t_L), (ensemble, sample, C)
        data = terminal_loss(net, knot_states[-1], pb)  # (ensemble,)
        r = regularization(net, pb)
        J = data if r is None else data + r
        layers = [net.field.layer_parameters(l) for l in range(net.depth)]
        flat = [p for ps in layers for p in ps]
        grads = torch.autograd.grad(J.sum(), [*knot_states, *flat], allow_unused=True)
    L = net.depth
    p = [
        -(g if g is not None else torch.zeros_like(z)) for g, z in zip(grads[: L + 1], knot_states)
    ]
    rest = list(grads[L + 1 :])
    norms = []
    for ps in layers:
        gl = [g if g is not None else torch.zeros_like(q) for g, q in zip(rest[: len(ps)], ps)]
        rest = rest[len(ps) :]
        norms.append(member_norm(gl, M))
    gn = torch.stack(norms)  # (layer − 1, ensemble)
    return Costates(
        states=[z.detach() for z in knot_states],
        costates=[t.detach() for t in p],
        hamiltonian=None,
        gradient_norm=gn.detach(),
        residual=gn.max(dim=0).values.detach(),
        loss=J.detach(),
        times=net.times.detach().clone(),
    )


def ode_costates(
    net: Network,
    X: Any,
    y: Any,
    *,
    loss: str = "auto",
    regularizer: Any = None,
    adjoint: bool = True,
) -> Costates:
    """Costates p(t_l) = −∂J/∂z(t_l) of an ``ode`` network at its knots t_0 … t_L.

    ``adjoint=True``: the continuous costate equation ṗ = −(∂f/∂z)ᵀ p (eq. 4.8) solved
    backwards by torchdiffeq's adjoint method (optimize-then-discretize), whatever the
    network's own ``adjoint`` flag. ``adjoint=False``: backpropagation through the solver
    (discretize-then-optimize). The solver, rtol and atol are the network's.
    """
    pb = problem(net, X, y, loss, regularizer, schemes=("ode",))
    return ode_costates_problem(net, pb, adjoint=bool(adjoint))
