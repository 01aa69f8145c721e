"""The result of a costate computation (shared by the discrete recursion and the ODE adjoint)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from deepdyn import _checks


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


def member_norm(grads: Sequence[torch.Tensor], members: int) -> torch.Tensor:
    """(ensemble,) Euclidean norm over all entries but the leading ensemble axis."""
    sq = sum((g**2).reshape(members, -1).sum(dim=1) for g in grads)
    return torch.as_tensor(sq).sqrt()
