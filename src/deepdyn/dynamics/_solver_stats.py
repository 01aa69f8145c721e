"""Solver statistics of ``ode`` networks: function evaluations and steps, per solve.

Every torchdiffeq solve of a control interval [t_l, t_{l+1}] gets a :class:`SolveStats`: the
number of evaluations of the field f_l in the forward solve and, for the adjoint method, in the
backward (costate) solve, and the solver's steps — attempted, accepted and rejected — read from
torchdiffeq's own step callbacks (``callback_step``, ``callback_accept_step``,
``callback_reject_step`` and their ``_adjoint`` twins for the backward solve). Fixed-grid solvers
(rk4, euler, …) report ``callback_step`` only: every step they take is accepted. Backprop
through the solver evaluates no field in the backward pass (autograd replays the recorded
operations), so its ``nfe_backward`` is 0.

The counts are taken by wrapping the right-hand side in a counter, not by the solver; they are
live: the backward counts appear once the backward pass has run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torchdiffeq._impl.odeint import SOLVERS as _TORCHDIFFEQ_SOLVERS

COUNTS = (
    "nfe_forward",
    "nfe_backward",
    "steps_forward",
    "accepted_forward",
    "rejected_forward",
    "steps_backward",
    "accepted_backward",
    "rejected_backward",
)


@dataclass
class SolveStats:
    """One solve of one control interval.

    Attributes:
        interval: l, the control interval [t_l, t_{l+1}].
        t0, t1: its ends.
        solver: the torchdiffeq method.
        adjoint: gradients by the adjoint method (a backward solve) or backprop.
        nfe_forward, nfe_backward: evaluations of the field in the forward solve and in the
            backward (adjoint) solve.
        steps_*, accepted_*, rejected_*: the solver's steps (attempted = accepted + rejected),
            None where the solver reports none (scipy_solver).
    """

    interval: int
    t0: float
    t1: float
    solver: str
    adjoint: bool
    nfe_forward: int = 0
    nfe_backward: int = 0
    steps_forward: int | None = 0
    accepted_forward: int | None = 0
    rejected_forward: int | None = 0
    steps_backward: int | None = 0
    accepted_backward: int | None = 0
    rejected_backward: int | None = 0

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("interval", "t0", "t1", "solver", "adjoint", *COUNTS)}


@dataclass
class SolverTotals:
    """Running totals over every solve of a network (``net.solver_totals``): what a training
    step costs is the difference of two :meth:`snapshot` s."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))

    def snapshot(self) -> dict[str, int]:
        return dict(self.counts)


def totals(stats: list[SolveStats]) -> dict[str, int | None]:
    """The counts summed over solves (None where a solver reports none)."""
    out: dict[str, int | None] = {}
    for k in COUNTS:
        vals = [getattr(s, k) for s in stats]
        out[k] = None if any(v is None for v in vals) else sum(vals)
    return out


class CountedField:
    """The right-hand side (t, y) ↦ f_l(y) with counters, and the step callbacks torchdiffeq
    calls on it (only those the solver supports, so it warns about none)."""

    def __init__(
        self,
        rhs: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        stats: SolveStats,
        running: SolverTotals | None = None,
    ) -> None:
        self.rhs, self.stats, self.running = rhs, stats, running
        self.forward = True
        valid = _TORCHDIFFEQ_SOLVERS[stats.solver].valid_callbacks()
        self._fixed = "callback_accept_step" not in valid
        if "callback_step" in valid:
            self.callback_step = lambda *_: self._step("forward")
            self.callback_step_adjoint = lambda *_: self._step("backward")
        else:
            for k in COUNTS[2:]:
                setattr(stats, k, None)
        if not self._fixed:
            self.callback_accept_step = lambda *_: self._add("accepted_forward")
            self.callback_reject_step = lambda *_: self._add("rejected_forward")
            self.callback_accept_step_adjoint = lambda *_: self._add("accepted_backward")
            self.callback_reject_step_adjoint = lambda *_: self._add("rejected_backward")

    def _add(self, key: str) -> None:
        setattr(self.stats, key, getattr(self.stats, key) + 1)
        if self.running is not None:
            self.running.counts[key] += 1

    def _step(self, phase: str) -> None:
        self._add(f"steps_{phase}")
        if self._fixed:  # a fixed grid accepts every step it takes
            self._add(f"accepted_{phase}")

    def __call__(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        self._add("nfe_forward" if self.forward else "nfe_backward")
        return self.rhs(t, y)
