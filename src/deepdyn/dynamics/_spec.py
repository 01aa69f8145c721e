"""NetworkSpec: the one description of a network (docs/design.md, "Objects, not strings").

A frozen, validated record of everything that makes a network — input size, widths, depth,
field, activation, scheme, horizon T or per-layer steps h_l, lift, readout, initializer,
scale, bias rule, ODE options, ensemble size, seed, dtype. It round-trips through JSON
(:meth:`NetworkSpec.to_dict` / :meth:`NetworkSpec.from_dict`), :func:`deepdyn.build` makes
the Network and ``net.spec`` gives it back. Names (scheme, field, activation, …) are checked
against the registries when the spec is made; every error names the value and the choices.

Ensemble members may differ in seed, scale, and in their steps: ``T`` as one value per member,
or ``h`` as one step sequence per member ((ensemble, layer) nested lists).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from deepdyn import _checks
from deepdyn.dynamics._activations import ACTIVATIONS
from deepdyn.dynamics._ends import LIFTS, READOUT_MAPS, TERMINALS
from deepdyn.dynamics._fields import FIELDS
from deepdyn.dynamics._init import BIAS_INITIALIZERS, INITIALIZERS
from deepdyn.dynamics._schemes import SCHEMES, SOLVERS

FORMAT_VERSION = 1
DTYPES = {"float32": torch.float32, "float64": torch.float64}
FIXED_GRID_SOLVERS = ("euler", "midpoint", "heun2", "heun3", "rk4", "explicit_adams",
                      "implicit_adams", "fixed_adams")  # fmt: skip


@dataclass(frozen=True)
class ODEOptions:
    """How an ``ode`` network is solved (torchdiffeq).

    Attributes:
        solver: any torchdiffeq method (dopri5, rk4, euler, …).
        rtol, atol: tolerances of adaptive solvers.
        adjoint: gradients by the adjoint method (``odeint_adjoint``).
        step_size: the step of a fixed-grid solver (None: one step per control interval).
    """

    solver: str = "dopri5"
    rtol: float = 1e-6
    atol: float = 1e-8
    adjoint: bool = False
    step_size: float | None = None

    def __post_init__(self) -> None:
        _checks.choice("solver", self.solver, SOLVERS)
        object.__setattr__(self, "rtol", _checks.positive("rtol", self.rtol))
        object.__setattr__(self, "atol", _checks.positive("atol", self.atol))
        if not isinstance(self.adjoint, bool):
            raise ValueError(f"adjoint must be true or false, got {self.adjoint!r}")
        if self.step_size is not None:
            object.__setattr__(self, "step_size", _checks.positive("step_size", self.step_size))

    def torchdiffeq_options(self) -> dict[str, Any] | None:
        """The ``options`` argument of ``torchdiffeq.odeint``."""
        return None if self.step_size is None else {"step_size": self.step_size}

    def replace(self, **changes: Any) -> ODEOptions:
        return dataclasses.replace(self, **changes)


def _tuple_or(value: Any) -> Any:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(_tuple_or(v) for v in value)
    return value


@dataclass(frozen=True)
class NetworkSpec:
    """Everything that makes a network. Build it with :func:`deepdyn.build`.

    Attributes:
        in_features, width, depth, out_features: d, C (or one width per hidden layer for
            ``map``), L, k.
        scheme: a name in :data:`deepdyn.dynamics.SCHEMES` (map, euler, heun, rk4, leapfrog,
            ode, or one registered by the user).
        field, hidden, q: the field family (:data:`deepdyn.dynamics.FIELDS`), the inner width
            of ``bottleneck``/``block``/``mlp`` fields and the number q of affine maps of a
            ``block`` or an ``mlp``.
        activation: a name in :data:`deepdyn.dynamics.ACTIVATIONS`.
        T: the horizon (uniform steps h = T/L), or one horizon per ensemble member.
        h: steps instead of T: one per layer (shared), or one sequence per member.
        lift: identity, pad, affine, or auto (resolved when the spec is made: identity if
            C = d, pad if C > d, affine if C < d).
        readout: the terminal function g (identity, sigmoid, softmax), or None for no readout.
        readout_map: ``affine`` (trainable W z + μ) or ``projection`` (fixed: z ↦ z_1 … z_k).
        init, scale, bias_init: the initializer, its scale (one per member or shared) and the
            bias rule.
        ode: :class:`ODEOptions` (``ode`` scheme only; its defaults when not given).
        ensemble: E, or None for one network.
        seed: the seed, or one per member; an int gives member k the seed ``seed + k``.
        dtype: float32 or float64.
    """

    in_features: int
    width: int | tuple[int, ...]
    depth: int
    out_features: int = 1
    scheme: str = "euler"
    field: str = "perceptron"
    hidden: int | None = None
    q: int = 2
    activation: str = "tanh"
    T: float | tuple[float, ...] = 1.0
    h: tuple[float, ...] | tuple[tuple[float, ...], ...] | None = None
    lift: str = "auto"
    readout: str | None = "sigmoid"
    readout_map: str = "affine"
    init: str = "uniform"
    scale: float | tuple[float, ...] = 1.0
    bias_init: str = "auto"
    ode: ODEOptions | None = None
    ensemble: int | None = None
    seed: int | tuple[int, ...] = 0
    dtype: str = "float32"
    version: int = dataclasses.field(default=FORMAT_VERSION, repr=False)

    # ------------------------------------------------------------------ validation
    def __post_init__(self) -> None:
        put = object.__setattr__
        if self.version != FORMAT_VERSION:
            raise ValueError(
                f"network spec format version {self.version!r} is not supported by this "
                f"deepdyn (it reads version {FORMAT_VERSION}): upgrade deepdyn"
            )
        put(self, "in_features", _checks.integer("in_features", self.in_features))
        put(self, "depth", _checks.integer("depth", self.depth))
        put(self, "out_features", _checks.integer("out_features", self.out_features))
        if self.ensemble is not None:
            put(self, "ensemble", _checks.integer("ensemble", self.ensemble))
        E = 1 if self.ensemble is None else self.ensemble
        L = self.depth
        sch = SCHEMES[_checks.choice("scheme", self.scheme, SCHEMES)]
        fixed = sch.fixed_step
        width = _tuple_or(self.width)
        if isinstance(width, tuple):
            if sch.residual:
                raise ValueError(
                    f'width must be one integer for the residual scheme "{self.scheme}", got '
                    f"{list(width)}: per-layer widths are for the map scheme (MLP)"
                )
            if len(width) != L:
                raise ValueError(f"width has {len(width)} entries, expected depth = {L}")
            width = tuple(_checks.integer("width", w) for w in width)
        else:
            width = _checks.integer("width", width)
        put(self, "width", width)
        _checks.choice("field", self.field, FIELDS)
        if self.hidden is not None:
            put(self, "hidden", _checks.integer("hidden", self.hidden))
        put(self, "q", _checks.integer("q", self.q))
        _checks.choice("activation", self.activation, ACTIVATIONS)
        # steps
        T = _tuple_or(self.T)
        if isinstance(T, tuple):
            if len(T) != E:
                raise ValueError(
                    f"T has {len(T)} values, expected one per member (ensemble = {E})"
                    if self.ensemble is not None
                    else f"T has {len(T)} values but this is one network: pass one number, "
                    "or set ensemble"
                )
            T = tuple(_checks.positive("T", t) for t in T)
        else:
            T = _checks.positive("T", T)
        put(self, "T", T)
        h = _tuple_or(self.h)
        if h is not None:
            if not isinstance(h, tuple):
                h = (h,) * L
            if h and isinstance(h[0], tuple):
                if len(h) != E:
                    raise ValueError(
                        f"h has {len(h)} step sequences, expected one per member (ensemble = {E})"
                    )
                for row in h:
                    if len(row) != L:
                        raise ValueError(
                            f"h has {len(row)} steps, expected one per layer (depth = {L})"
                        )
                h = tuple(tuple(_checks.positive("h", s) for s in row) for row in h)
            else:
                if len(h) != L:
                    raise ValueError(f"h has {len(h)} steps, expected one per layer (depth = {L})")
                h = tuple(_checks.positive("h", s) for s in h)
        put(self, "h", h)
        if not fixed and self.per_member_steps:
            raise ValueError(
                'per-member T or h is for the fixed-step schemes, not "ode": build one '
                "NeuralODE per horizon"
            )
        # ends
        C = max(width) if isinstance(width, tuple) else width
        lift = _checks.choice("lift", self.lift, (*LIFTS, "auto"))
        if lift == "auto":
            d = self.in_features
            lift = "identity" if not sch.residual or d == C else ("pad" if d < C else "affine")
        put(self, "lift", lift)
        c0 = self.in_features if not sch.residual else C
        if lift == "identity" and c0 != self.in_features:
            raise ValueError(
                f'lift "identity" needs width = input dimension ({self.in_features}), got width '
                f'{c0}: use lift="pad" or lift="affine"'
            )
        if lift == "pad" and c0 < self.in_features:
            raise ValueError(
                f'lift "pad" needs width ≥ input dimension ({self.in_features}), got width {c0}: '
                'use lift="affine"'
            )
        if self.readout is not None:
            _checks.choice("readout", self.readout, TERMINALS)
        _checks.choice("readout map", self.readout_map, READOUT_MAPS)
        _checks.choice("initializer", self.init, INITIALIZERS)
        _checks.choice("bias initializer", self.bias_init, BIAS_INITIALIZERS)
        scale = _tuple_or(self.scale)
        if isinstance(scale, tuple):
            scale = tuple(_checks.per_member("scale", list(scale), self.ensemble))
            scale = tuple(_checks.positive("scale", s, allow_zero=True) for s in scale)
        else:
            scale = _checks.positive("scale", scale, allow_zero=True)
        put(self, "scale", scale)
        seed = _tuple_or(self.seed)
        if isinstance(seed, tuple):
            seed = tuple(_checks.per_member("seed", list(seed), self.ensemble))
            seed = tuple(_checks.integer("seed", s, minimum=0) for s in seed)
        else:
            seed = _checks.integer("seed", seed, minimum=0)
        put(self, "seed", seed)
        if isinstance(self.dtype, torch.dtype):
            names = {v: k for k, v in DTYPES.items()}
            put(self, "dtype", names.get(self.dtype, str(self.dtype)))
        _checks.choice("dtype", self.dtype, DTYPES)
        if isinstance(self.ode, Mapping):
            put(self, "ode", ODEOptions(**_known("ode", self.ode, ODEOptions)))
        if sch.name == "ode" and self.ode is None:
            put(self, "ode", ODEOptions())
        if self.ode is not None and not isinstance(self.ode, ODEOptions):
            raise ValueError(f"ode must be ODEOptions or a mapping, got {type(self.ode).__name__}")
        if sch.name != "ode" and self.ode is not None:
            raise ValueError(
                f'ode options are for the "ode" scheme, this spec has scheme "{self.scheme}"'
            )

    # ------------------------------------------------------------------ derived
    @property
    def members(self) -> int:
        return 1 if self.ensemble is None else self.ensemble

    @property
    def per_member_steps(self) -> bool:
        """Members differ in T or h."""
        h = self.h
        return isinstance(self.T, tuple) or (h is not None and bool(h) and isinstance(h[0], tuple))

    @property
    def widths(self) -> tuple[int, ...]:
        """State widths C_0 … C_L of the flow (C_0 is the lifted input)."""
        if isinstance(self.width, tuple):
            return (self.in_features, *self.width)
        return (self.width,) * (self.depth + 1) if SCHEMES[self.scheme].residual else (
            self.in_features, *([self.width] * self.depth))  # fmt: skip

    @property
    def torch_dtype(self) -> torch.dtype:
        return DTYPES[self.dtype]

    def seeds(self) -> list[int]:
        if isinstance(self.seed, tuple):
            return list(self.seed)
        return [self.seed + k for k in range(self.members)]

    def scales(self) -> list[float]:
        if isinstance(self.scale, tuple):
            return list(self.scale)
        return [float(self.scale)] * self.members

    def step_rows(self) -> list[list[float]]:
        """h_l for every member: (ensemble, layer) nested lists (``map``: all 1)."""
        E, L = self.members, self.depth
        if not SCHEMES[self.scheme].residual:
            return [[1.0] * L for _ in range(E)]
        if self.h is not None:
            if isinstance(self.h[0], tuple):
                return [list(row) for row in self.h]  # type: ignore[arg-type]
            return [list(self.h)] * E  # type: ignore[arg-type]
        Ts = list(self.T) if isinstance(self.T, tuple) else [self.T] * E
        return [[t / L] * L for t in Ts]

    def member(self, k: int) -> NetworkSpec:
        """The spec of member k built alone (seed, scale and steps of member k)."""
        if not 0 <= k < self.members:
            raise ValueError(f"member {k} out of range: choose 0 … {self.members - 1}")
        changes: dict[str, Any] = {
            "ensemble": None,
            "seed": self.seeds()[k],
            "scale": self.scales()[k],
        }
        if isinstance(self.T, tuple):
            changes["T"] = self.T[k]
        if self.h is not None and isinstance(self.h[0], tuple):
            changes["h"] = self.h[k]
        return self.replace(**changes)

    def replace(self, **changes: Any) -> NetworkSpec:
        """A copy with ``changes`` (validated again)."""
        _known("network spec", changes, NetworkSpec)
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (lists for tuples, the ODE options as a dict)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, ODEOptions):
                v = dataclasses.asdict(v)
            out[f.name] = _lists(v)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NetworkSpec:
        """The spec of a dict written by :meth:`to_dict` (or by hand); unknown keys, bad
        values and newer format versions get a one-line ValueError."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a network spec must be a JSON object, got {type(data).__name__}")
        kw = _known("network spec", data, cls)
        missing = [f.name for f in dataclasses.fields(cls)
                   if f.name not in kw and f.default is dataclasses.MISSING]  # fmt: skip
        if missing:
            raise ValueError(f"network spec is missing {', '.join(missing)}")
        return cls(**kw)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> NetworkSpec:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"network spec is not valid JSON: {e}") from None
        return cls.from_dict(data)


def field_names() -> list[str]:
    """The keys of a network spec, in order."""
    return [f.name for f in dataclasses.fields(NetworkSpec) if f.name != "version"]


def _known(what: str, data: Mapping[str, Any], cls: type) -> dict[str, Any]:
    names = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in names:
            raise ValueError(f'{what} key "{key}" unknown: choose one of {", ".join(names)}')
    return dict(data)


def _lists(v: Any) -> Any:
    return [_lists(x) for x in v] if isinstance(v, tuple) else v
