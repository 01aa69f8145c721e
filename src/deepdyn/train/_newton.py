"""Damped Newton's method (thesis App. A.1.2.2, eq. A.12–A.14) for small networks.

θ ← θ − Δ with (H + λI) Δ = g, g and H the exact gradient and Hessian of the loss ξ(θ) by
``torch.func``. The damping λ starts at ``newton_damping`` each step and grows ×10 until the
step lowers the loss (Levenberg's safeguard for an indefinite H far from a minimum); when no
step within :data:`MAX_TRIES` lowers it, θ stays where it is.

Ensemble members are independent, so the Hessian is block diagonal across them: it is built and
solved member by member, at a cost E·P³ rather than (E·P)³.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.func import functional_call, grad, hessian

from deepdyn.dynamics import Network
from deepdyn.train import _losses

MAX_PARAMETERS = 5000
MAX_TRIES = 8


class _MemberObjective(nn.Module):
    """ξ(θ) for one member: data loss + regularizer, a scalar (parameters swapped in by
    ``functional_call``)."""

    def __init__(self, net: Network, loss: str, regularizer: _losses.Regularizer) -> None:
        super().__init__()
        self.net = net
        self.loss = loss
        self.regularizer = regularizer

    def forward(self, X: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        obj, _ = _losses.objective(self.net, X, target, self.loss, self.regularizer)
        return obj


class NewtonStepper:
    """One damped Newton step per call, for every member of ``net``.

    A callable regularizer is evaluated on each member as a network of its own.
    """

    def __init__(
        self, net: Network, loss: str, regularizer: _losses.Regularizer, damping: float
    ) -> None:
        self.net = net
        self.damping = damping
        self.names = [name for name, _ in net.named_parameters()]
        self.shapes = [tuple(p.shape[1:]) for p in net.parameters()]
        self.sizes = [int(torch.Size(s).numel()) for s in self.shapes]
        P = sum(self.sizes)
        if P > MAX_PARAMETERS:
            raise ValueError(
                f"newton needs the exact Hessian of {P} parameters per member (limit "
                f'{MAX_PARAMETERS}): use optimizer="lbfgs" or "adam" for this network'
            )
        template = net if net.ensemble is None else net.member(0)
        self.objective = _MemberObjective(template, loss, regularizer)
        self.functorch = True  # False once torch.func failed on this network

    def _theta(self, k: int) -> torch.Tensor:
        """θ_k flat: (parameter,)."""
        return torch.cat([p.detach()[k].reshape(-1) for p in self.net.parameters()])

    def _set(self, k: int, theta: torch.Tensor) -> None:
        with torch.no_grad():
            for p, chunk in zip(self.net.parameters(), theta.split(self.sizes)):
                p[k] = chunk.view(p.shape[1:])

    def _loss_fn(self, X: torch.Tensor, target: torch.Tensor) -> Any:
        def xi(theta: torch.Tensor) -> torch.Tensor:
            chunks = theta.split(self.sizes)
            params = {
                f"net.{name}": c.view(1, *shape)
                for name, shape, c in zip(self.names, self.shapes, chunks)
            }
            return functional_call(self.objective, params, (X, target))

        return xi

    def _derivatives(self, xi: Any, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """g and H of ξ at θ: by ``torch.func`` (forward-over-reverse), or by plain autograd
        (one double-backward per parameter) for parts ``torch.func`` cannot transform, such
        as torchdiffeq's adaptive solvers."""
        if self.functorch:
            try:
                with warnings.catch_warnings():  # torch's forward-AD set-up: torch.jit.script
                    warnings.filterwarnings("ignore", ".*torch.jit.script", DeprecationWarning)
                    return grad(xi)(theta), hessian(xi)(theta)
            except RuntimeError as err:
                if "functorch" not in str(err) and "torch.func" not in str(err):
                    raise
                self.functorch = False
        th = theta.detach().requires_grad_(True)
        with torch.enable_grad():
            (g,) = torch.autograd.grad(xi(th), th)
        H = torch.autograd.functional.hessian(xi, theta.detach())
        return g.detach(), H.detach()  # type: ignore[union-attr]

    def __call__(
        self, X: torch.Tensor, target: torch.Tensor, check: Callable[[torch.Tensor], None]
    ) -> torch.Tensor:
        """Step every member on (X, target); returns the (members,) losses before the step.
        ``check`` sees them first and raises on a non-finite one, before any update."""
        thetas = [self._theta(k) for k in range(self.net.members)]
        fns = []
        before = []
        for k in range(self.net.members):
            Xk = X[k] if X.dim() == 3 else X
            tk = target[k] if X.dim() == 3 else target
            fns.append(self._loss_fn(Xk, tk))
            with torch.no_grad():
                before.append(fns[k](thetas[k]))
        losses = torch.stack(before)  # (members,)
        check(losses)
        for k, (xi, theta, f0) in enumerate(zip(fns, thetas, before)):
            g, H = self._derivatives(xi, theta)  # (parameter,), (parameter, parameter)
            eye = torch.eye(theta.numel(), dtype=theta.dtype, device=theta.device)
            lam = self.damping
            for _ in range(MAX_TRIES):
                try:
                    delta = torch.linalg.solve(H + lam * eye, g)
                except RuntimeError:  # singular: damp more
                    lam *= 10
                    continue
                new = theta - delta
                with torch.no_grad():
                    f1 = xi(new)
                if bool(torch.isfinite(f1)) and bool(f1 < f0):
                    self._set(k, new)
                    break
                lam *= 10
        return losses
