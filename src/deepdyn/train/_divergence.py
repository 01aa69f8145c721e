"""Divergence: training that blows up is stopped, not stored as finished.

A non-finite loss was always caught (``_fit._check_loss``); a loss of 8e29 was not. A run
*diverges* when a member's loss rises above ``diverge_factor × max(its initial loss, 1)`` (the
floor keeps a loss that starts near 0 from tripping on noise), or when a parameter's magnitude
passes ``parameter_bound``. Either raises :class:`Diverged` (a ValueError: one line, exit 2 on
the command line) naming the step, the member and the knob to turn; the run store records it as
failed with the error ``Diverged: …``, and sweeps count such runs as ``diverged``.
"""

from __future__ import annotations

import torch

from deepdyn import _checks
from deepdyn.dynamics import Network


class Diverged(ValueError):
    """Training diverged: the loss or a parameter grew past its bound (see the module doc)."""


class DivergenceWatch:
    """Called with each step's per-member losses (before the step) and after each update."""

    def __init__(
        self,
        net: Network,
        hint: str,
        *,
        factor: float | None,
        parameter_bound: float | None,
    ) -> None:
        self.net = net
        self.hint = hint
        self.factor = None if factor is None else _checks.positive("diverge_factor", factor)
        if self.factor is not None and self.factor <= 1:
            raise ValueError(f"diverge_factor must be > 1 (or None to switch off), got {factor}")
        self.bound = (
            None
            if parameter_bound is None
            else _checks.positive("parameter_bound", parameter_bound)
        )
        self.limit: torch.Tensor | None = None  # (members,)
        self.params: list[torch.Tensor] = list(net.parameters())  # fixed while fit runs

    def loss(self, step: int, per: torch.Tensor) -> None:
        """``per``: (members,) losses at θ_step, before the update."""
        if self.factor is None:
            return
        if self.limit is None:
            self.limit = self.factor * per.detach().clamp(min=1.0)
            return
        over = per.detach() > self.limit
        if bool(over.any()):
            k = int(torch.nonzero(over)[0, 0])
            member = f" (member {k})" if self.net.ensemble is not None else ""
            raise Diverged(
                f"training diverged at step {step}{member}: loss {per[k].item():.3g} rose above "
                f"{self.factor:g} × its initial value ({self.limit[k].item() / self.factor:.3g}): "
                f"{self.hint}, or pass a larger diverge_factor"
            )

    def parameters(self, step: int) -> None:
        """After the update of ``step``: every parameter magnitude within the bound."""
        if self.bound is None:
            return
        with torch.no_grad():
            params = self.params
            # one fused max |θ| per tensor and one comparison: the per-tensor search below runs
            # only when something is over the bound (nan is left to the finiteness check)
            peaks_all = torch._foreach_norm(params, float("inf"))
            if not bool((torch.stack(peaks_all) > self.bound).any()):
                return
            for name, p in self.net.named_parameters():
                ensemble = self.net.ensemble is not None and p.dim() > 1
                peaks = p.abs().flatten(1).amax(1) if ensemble else p.abs().max().reshape(1)
                over = peaks > self.bound
                if bool(over.any()):
                    k = int(torch.nonzero(over)[0, 0])
                    member = f" (member {k})" if ensemble else ""
                    raise Diverged(
                        f"training diverged at step {step}{member}: parameter {name} reached "
                        f"|θ| = {peaks[k].item():.3g} > parameter_bound = {self.bound:g}: "
                        f"{self.hint}, or pass a larger parameter_bound"
                    )
