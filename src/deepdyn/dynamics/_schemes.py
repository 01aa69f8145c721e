"""Schemes: how layers compose, i.e. which dynamical system the network is (docs/design.md).

* ``map``       z_{l+1} = f_l(z_l)                                  multilayer perceptron (eq. 3.7)
* ``euler``     z_{l+1} = z_l + h_l f_l(z_l)                        ResNet (eq. 3.21, 7.8)
* ``heun``      z_{l+1} = z_l + h_l/2 (k₁ + f_l(z_l + h_l k₁)), k₁ = f_l(z_l)   two-stage residual
* ``rk4``       the classical four-stage Runge–Kutta step of f_l            (§7.3, higher order)
* ``leapfrog``  z_{l+1} = 2 z_l − z_{l−1} + h² f_l(z_l)              second-order net (eq. 7.9)
* ``ode``       dz/dt = f(z; θ(t)), θ(t) = θ_l on [t_l, t_{l+1})    neural ODE (eq. 5.7)

A scheme is an object (in the manner of torchdiffeq's solvers): it owns its step formula, its
order against the ODE and how many previous states the step reads. The flow, the costate
recursion, the layer Jacobians and the residual inverse all call :meth:`Scheme.step`; adding a
scheme is one subclass and one :func:`register_scheme`.

States are (ensemble, sample, component) tensors; a run returns the list z_0 … z_L. A step size
is a float (shared by all members) or a float64 tensor (ensemble, 1, 1) (one per member).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import torch
import torchdiffeq
from torchdiffeq._impl.odeint import SOLVERS as _TORCHDIFFEQ_SOLVERS

from deepdyn import _checks
from deepdyn.dynamics import _solver_stats
from deepdyn.dynamics._invariant import is_batch_invariant

Step = float | torch.Tensor  # a shared step, or (ensemble, 1, 1) float64 per member
FieldFn = Callable[[torch.Tensor], torch.Tensor]

SOLVERS = tuple(_TORCHDIFFEQ_SOLVERS)


def coef(c: Step, z: torch.Tensor) -> Step:
    """A step coefficient in the dtype of the state ``z`` (computed in float64, rounded once)."""
    return c if isinstance(c, float) else c.to(dtype=z.dtype, device=z.device)


class Scheme:
    """One way of composing layers. Subclasses set the class attributes and :meth:`step`.

    Attributes:
        name: the registry key.
        order: convergence order of the step against the ODE it discretizes (None: ``map``,
            which discretizes nothing).
        history: previous states the step reads: 1 (z_l) or 2 (z_l and z_{l−1}).
        residual: the step is z_l + O(h) (it has a continuous limit; ``map`` does not).
        second_order: the continuous limit is z'' = f(z) (``leapfrog``) rather than z' = f(z).
        fixed_step: layers are explicit maps (False for ``ode``, solved by torchdiffeq).
    """

    name: ClassVar[str]
    coef = staticmethod(coef)  # a step coefficient in the state's dtype, for subclasses
    order: ClassVar[int | None] = None
    history: ClassVar[int] = 1
    residual: ClassVar[bool] = True
    second_order: ClassVar[bool] = False
    fixed_step: ClassVar[bool] = True

    def step(
        self,
        f: FieldFn,
        z: torch.Tensor,
        h: Step,
        *,
        fz: torch.Tensor | None = None,
        z_prev: torch.Tensor | None = None,
        h_prev: Step | None = None,
    ) -> torch.Tensor:
        """z_{l+1} from z_l (and z_{l−1}, h_{l−1} when ``history`` = 2).

        f: z ↦ f_l(z) for this layer; fz: f_l(z) when already evaluated; h: the step h_l.
        z_prev is None at the first layer (the scheme's own start rule applies).
        """
        raise NotImplementedError

    def increment(
        self, f: FieldFn, z: torch.Tensor, h: Step, *, fz: torch.Tensor | None = None
    ) -> torch.Tensor:
        """F(z) − z of a one-step residual scheme (its step is z + increment); the residual
        inverse iterates w ← y − increment(w)."""
        raise ValueError(f'scheme "{self.name}" has no one-step increment F(z) − z')

    def increment_lipschitz(self, x: torch.Tensor) -> torch.Tensor | None:
        """An upper bound of Lip(F − id)/1 for a step F with h·Lip(f) = x, or None when the
        scheme does not know one (F is then not certified invertible)."""
        return None

    @property
    def one_step(self) -> bool:
        """Layer l is a map of z_l alone (its Jacobian ∂z_{l+1}/∂z_l is the whole story)."""
        return self.fixed_step and self.history == 1

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.name == other
        return isinstance(other, Scheme) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<scheme {self.name}>"


class Map(Scheme):
    name = "map"
    residual = False

    def step(self, f, z, h, *, fz=None, z_prev=None, h_prev=None):  # type: ignore[no-untyped-def]
        return f(z) if fz is None else fz


class Euler(Scheme):
    name = "euler"
    order = 1

    def increment_lipschitz(self, x):  # type: ignore[no-untyped-def]
        return x  # F − id = h f

    def increment(self, f, z, h, *, fz=None):  # type: ignore[no-untyped-def]
        return coef(h, z) * (f(z) if fz is None else fz)

    def step(self, f, z, h, *, fz=None, z_prev=None, h_prev=None):  # type: ignore[no-untyped-def]
        if isinstance(h, float):  # z + h f(z) as one kernel (one autograd node less per layer)
            return torch.add(z, f(z) if fz is None else fz, alpha=h)
        return z + self.increment(f, z, h, fz=fz)


class Heun(Scheme):
    name = "heun"
    order = 2

    def increment_lipschitz(self, x):  # type: ignore[no-untyped-def]
        return x * (1 + x / 2)  # h/2 (f(z) + f(z + h f(z)))

    def increment(self, f, z, h, *, fz=None):  # type: ignore[no-untyped-def]
        k1 = f(z) if fz is None else fz
        return coef(0.5 * h, z) * (k1 + f(z + coef(h, z) * k1))

    def step(self, f, z, h, *, fz=None, z_prev=None, h_prev=None):  # type: ignore[no-untyped-def]
        return z + self.increment(f, z, h, fz=fz)


class RK4(Scheme):
    """The classical four-stage Runge–Kutta step: k₁ = f(z), k₂ = f(z + h/2 k₁),
    k₃ = f(z + h/2 k₂), k₄ = f(z + h k₃), z + h/6 (k₁ + 2k₂ + 2k₃ + k₄)."""

    name = "rk4"
    order = 4

    def increment_lipschitz(self, x):  # type: ignore[no-untyped-def]
        return x * (1 + x / 2 + x**2 / 6 + x**3 / 24)  # the stages k_i are Lipschitz in z

    def increment(self, f, z, h, *, fz=None):  # type: ignore[no-untyped-def]
        half = coef(0.5 * h, z)
        k1 = f(z) if fz is None else fz
        k2 = f(z + half * k1)
        k3 = f(z + half * k2)
        k4 = f(z + coef(h, z) * k3)
        return coef(h / 6.0, z) * (k1 + 2 * k2 + 2 * k3 + k4)

    def step(self, f, z, h, *, fz=None, z_prev=None, h_prev=None):  # type: ignore[no-untyped-def]
        return z + self.increment(f, z, h, fz=fz)


class Leapfrog(Scheme):
    """Central second difference with steps h_{l−1}, h_l; started at rest (Taylor start
    z_1 = z_0 + h_0²/2 f_0(z_0), which keeps the scheme second-order accurate for
    z'' = f(z), z'(0) = 0)."""

    name = "leapfrog"
    order = 2
    history = 2
    second_order = True

    def step(self, f, z, h, *, fz=None, z_prev=None, h_prev=None):  # type: ignore[no-untyped-def]
        fz = f(z) if fz is None else fz
        if z_prev is None or h_prev is None:
            return z + coef(0.5 * h**2, z) * fz
        r = h / h_prev
        return z + coef(r, z) * (z - z_prev) + coef(0.5 * h * (h + h_prev), z) * fz


class ODE(Scheme):
    """The continuous flow, solved by torchdiffeq (:func:`run_ode`); no explicit layer map."""

    name = "ode"
    fixed_step = False

    def step(self, f, z, h, *, fz=None, z_prev=None, h_prev=None):  # type: ignore[no-untyped-def]
        raise ValueError(
            'an "ode" network has no explicit layer step: read its θ under a fixed-step scheme '
            '(net.with_scheme("euler")) or use its flow'
        )


SCHEMES: dict[str, Scheme] = {}


def register_scheme(scheme: Scheme | type[Scheme]) -> Scheme:
    """Add a scheme (an instance or a subclass of :class:`Scheme`) to :data:`SCHEMES`."""
    obj = scheme() if isinstance(scheme, type) else scheme
    if not isinstance(obj, Scheme) or not isinstance(getattr(obj, "name", None), str):
        raise ValueError("register_scheme needs a Scheme subclass with a name")
    SCHEMES[obj.name] = obj
    return obj


for _s in (Map, Euler, Heun, Leapfrog, ODE, RK4):
    register_scheme(_s)


def scheme(name: str | Scheme) -> Scheme:
    """The scheme object called ``name`` (one of :data:`SCHEMES`)."""
    if isinstance(name, Scheme):
        return name
    return SCHEMES[_checks.choice("scheme", name, SCHEMES)]


def residual_fixed() -> list[str]:
    """Names of the registered residual fixed-step schemes (those :class:`ResNet` builds)."""
    return [n for n, s in SCHEMES.items() if s.residual and s.fixed_step]


def check_solver(name: str) -> str:
    return _checks.choice("solver", name, SOLVERS)


def run_fixed(
    sch: Scheme,
    field: Any,
    z0: torch.Tensor,
    h: Sequence[Step],
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
        fz = None
        if pres is not None:
            fz, pre = field.evaluate(l, z)
            pres.append(pre)

        def f(u: torch.Tensor, l: int = l) -> torch.Tensor:
            return field(l, u)

        z_next = sch.step(f, z, h[l], fz=fz, z_prev=z_prev, h_prev=h[l - 1] if l else None)
        z_prev, z = z, z_next
        states.append(record(z))
    return states, pres


def run_ode(
    field: Any,
    z0: torch.Tensor,
    knots: Sequence[float],
    *,
    solver: str,
    rtol: float,
    atol: float,
    adjoint: bool,
    options: dict[str, Any] | None = None,
    times: Sequence[float] | None = None,
    stats: list[Any] | None = None,
    running: Any = None,
) -> tuple[list[torch.Tensor], list[float], list[int]]:
    """Solve dz/dt = f_l(z) on each control interval [t_l, t_{l+1}] with torchdiffeq.

    Returns the states at every recorded time (the knots t_0 … t_L plus any extra ``times``),
    those times, and the positions of the knots in that list. Every knot state is the very
    tensor the next interval starts from, so autograd can read ∂J/∂z(t_l) there.

    ``stats``: a list that receives one :class:`~deepdyn.dynamics.SolveStats` per interval
    (function evaluations and steps, counted live; ``running``: a ``SolverTotals`` they add to).
    """
    extra = sorted(float(t) for t in times) if times is not None else []
    if extra and (extra[0] < knots[0] or extra[-1] > knots[-1]):
        raise ValueError(f"times must lie in [{knots[0]}, {knots[-1]}], got {extra[0]}…{extra[-1]}")
    solve = torchdiffeq.odeint_adjoint if adjoint else torchdiffeq.odeint
    # one network, backpropagated through the solver: solve on (sample, component) states with
    # its parameters' views made once (Field.pinned); not for the adjoint, which re-evaluates
    # the field in its own backward solve after this one returned, nor inside batch_invariant()
    # (there a network computes as an ensemble member does)
    flat = (
        not adjoint and z0.shape[0] == 1 and not is_batch_invariant() and hasattr(field, "pinned")
    )
    with field.pinned() if flat else contextlib.nullcontext():
        return _solve_intervals(
            field,
            z0,
            knots,
            extra,
            solve,
            solver,
            rtol,
            atol,
            adjoint,
            options,
            stats,
            running,
            flat,
        )


def _solve_intervals(
    field: Any,
    z0: torch.Tensor,
    knots: Sequence[float],
    extra: list[float],
    solve: Any,
    solver: str,
    rtol: float,
    atol: float,
    adjoint: bool,
    options: dict[str, Any] | None,
    stats: list[Any] | None,
    running: Any,
    flat: bool,
) -> tuple[list[torch.Tensor], list[float], list[int]]:
    states = [z0]
    out_times = [float(knots[0])]
    layer_index = [0]
    z = z0.squeeze(0) if flat else z0
    for l in range(field.depth):
        a, b = float(knots[l]), float(knots[l + 1])
        inner = [t for t in extra if a < t < b]
        grid = torch.tensor([a, *inner, b], dtype=z0.dtype, device=z0.device)

        def rhs(t: torch.Tensor, y: torch.Tensor, l: int = l) -> torch.Tensor:
            return field(l, y)  # through nn.Module's call, so forward hooks see every evaluation

        kwargs: dict[str, Any] = {"rtol": rtol, "atol": atol, "method": solver}
        if options:
            kwargs["options"] = dict(options)
        if adjoint:
            kwargs["adjoint_params"] = tuple(field.layer_parameters(l))
        func: Any = rhs
        if stats is not None:
            record = _solver_stats.SolveStats(l, a, b, solver, adjoint)
            func = _solver_stats.CountedField(rhs, record, running)
            stats.append(record)
        path = solve(func, z, grid, **kwargs)  # (time, ensemble, sample, component)
        if stats is not None:
            func.forward = False  # later evaluations are the adjoint's backward solve
        for i in range(1, path.shape[0]):
            states.append(path[i].unsqueeze(0) if flat else path[i])
        out_times.extend([*inner, b])
        layer_index.append(len(states) - 1)
        z = states[-1].squeeze(0) if flat else states[-1]  # a view of the stored knot state
    return states, out_times, layer_index
