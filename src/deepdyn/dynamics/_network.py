"""Network: lift → flow of a field under a scheme → readout (docs/design.md)."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import torch
from torch import nn

from deepdyn.dynamics import _init, _schemes
from deepdyn.dynamics._ends import Lift, Readout
from deepdyn.dynamics._fields import Field
from deepdyn.dynamics._schemes import Scheme, Step
from deepdyn.dynamics._solver_stats import SolverTotals, SolveStats
from deepdyn.dynamics._spec import NetworkSpec, ODEOptions
from deepdyn.trajectory import Trajectory


class Network(nn.Module):
    """x ──lift──▶ z₀ ──step──▶ … ──step──▶ z_L ──readout──▶ ŷ, for one network or an ensemble.

    Made from a :class:`NetworkSpec` (``Network(spec)`` or :func:`deepdyn.build`); the friendly
    builders :class:`deepdyn.MLP`, :class:`deepdyn.ResNet` and :class:`deepdyn.NeuralODE` make
    the spec for you, and ``net.spec`` gives it back.

    Parameters carry a leading ``ensemble`` axis (size 1 for a single network). Inputs are
    (sample, input), shared by all members, or (ensemble, sample, input); outputs are
    (sample, output) for a single network and (ensemble, sample, output) for an ensemble.
    """

    steps: torch.Tensor  # (ensemble, layer) float64 buffer: h_l of every member
    times: torch.Tensor  # (layer,) buffer t_0 … t_L; (ensemble, layer) when members' steps differ

    def __init__(self, spec: NetworkSpec) -> None:
        if not isinstance(spec, NetworkSpec):
            raise ValueError(f"Network needs a NetworkSpec, got {type(spec).__name__}")
        super().__init__()
        self._spec = spec
        dtype, E = spec.torch_dtype, spec.members
        self.in_features = spec.in_features
        self.scheme: Scheme = _schemes.scheme(spec.scheme)
        self.field = Field(spec.field, spec.widths, activation=spec.activation,
                           hidden=spec.hidden, q=spec.q, ensemble=E, dtype=dtype)  # fmt: skip
        self.lift = Lift(spec.lift, spec.in_features, spec.widths[0], ensemble=E, dtype=dtype)
        self.readout = (
            None
            if spec.readout is None
            else Readout(
                spec.widths[-1],
                spec.out_features,
                spec.readout,
                kind=spec.readout_map,
                ensemble=E,
                dtype=dtype,
            )
        )
        self.ensemble = spec.ensemble
        self.members = E
        self.ode: ODEOptions | None = spec.ode
        self.solver_stats: list[SolveStats] = []  # ode: the latest solve's counts, per interval
        self._set_steps(spec)
        self.seeds = spec.seeds()
        self.scales = spec.scales()
        self.init, self.bias_init = spec.init, spec.bias_init
        self.reset_parameters()

    def _set_steps(self, spec: NetworkSpec) -> None:
        rows = spec.step_rows()  # (ensemble, layer)
        steps = torch.tensor(rows, dtype=torch.float64).reshape(spec.members, spec.depth)
        self.register_buffer("steps", steps, persistent=False)
        shared = not spec.per_member_steps
        self._h: list[Step] = (
            [float(s) for s in rows[0]]
            if shared
            else [steps[:, l].reshape(-1, 1, 1).clone() for l in range(spec.depth)]
        )
        t = torch.zeros(spec.members, spec.depth + 1, dtype=torch.float64)
        if self.scheme.residual:  # exact prefix sums, rounded once: t_L = T for T = 1, h = 0.1
            exact = [itertools.accumulate(Fraction(h) for h in row) for row in steps.tolist()]
            t[:, 1:] = torch.tensor([[float(v) for v in row] for row in exact], dtype=t.dtype)
        else:
            t[:] = torch.arange(spec.depth + 1, dtype=torch.float64)
        self.register_buffer("times", t[0].clone() if shared else t, persistent=False)

    # ----------------------------------------------------------------- description
    @property
    def spec(self) -> NetworkSpec:
        """The :class:`NetworkSpec` this network was built from (θ is not part of it)."""
        return self._spec

    @property
    def depth(self) -> int:
        """L, the number of layers (control intervals)."""
        return self.field.depth

    @property
    def width(self) -> int:
        """C, the widest state."""
        return max(self.field.widths)

    @property
    def h(self) -> list[float]:
        """h_0 … h_{L−1}, shared by all members (``steps`` holds them per member)."""
        if self._spec.per_member_steps:
            raise ValueError(
                "the members of this ensemble have their own steps: read net.steps "
                "(ensemble, layer)"
            )
        return list(self._h)  # type: ignore[arg-type]

    # ----------------------------------------------------------------- parameters
    def reset_parameters(self) -> None:
        """Draw θ again: member k from its own generator seeded with ``seeds[k]``."""
        pairs = self.lift.parameter_pairs() + self.field.parameter_pairs()
        if self.readout is not None:
            pairs += self.readout.parameter_pairs()
        _init.fill(pairs, self.init, self.bias_init, self.seeds, self.scales)

    def layer(self, l: int | str) -> Layer:
        """θ_l of layer ``l`` (0 … L−1), or of the ``"lift"`` or the ``"readout"``, to read,
        set by hand (per member) or freeze: see :class:`Layer`."""
        if l == "lift":
            return Layer(self, "lift", [self.lift])
        if l == "readout":
            if self.readout is None:
                raise ValueError("this network has no readout (readout=None)")
            return Layer(self, "readout", [self.readout])
        if isinstance(l, bool) or not isinstance(l, int) or not 0 <= l < self.depth:
            raise ValueError(f'layer {l!r} out of range: choose 0 … {self.depth - 1}, "lift" '
                             'or "readout"')  # fmt: skip
        return Layer(self, l, self.field.sublayers(l))

    def member(self, k: int) -> Network:
        """Member k of an ensemble as a network of its own (a copy: same θ, no ensemble axis,
        the spec of member k built alone)."""
        if not 0 <= k < self.members:
            raise ValueError(f"member {k} out of range: choose 0 … {self.members - 1}")
        net = copy.deepcopy(self)
        for module in net.modules():
            for name, p in list(module.named_parameters(recurse=False)):
                q = nn.Parameter(p.detach()[k : k + 1].clone(), requires_grad=p.requires_grad)
                setattr(module, name, q)
            if isinstance(module, Readout) and module.kind == "projection":
                module.weight = module.weight[k : k + 1].clone()  # type: ignore[assignment]
                module.bias = module.bias[k : k + 1].clone()  # type: ignore[assignment]
        net._spec = self._spec.member(k)
        net.ensemble, net.members = None, 1
        net.seeds, net.scales = [self.seeds[k]], [self.scales[k]]
        net._set_steps(net._spec)
        return net

    def with_scheme(self, scheme: str | Scheme, **ode: Any) -> Network:
        """The same θ read under another scheme, e.g. a trained ResNet as the ODE it
        discretizes (``net.with_scheme("ode", solver="dopri5")``). Returns a copy.

        ``ode`` options (solver, rtol, atol, adjoint, step_size; ``options={"step_size": s}``
        is accepted too) apply when the new scheme is ``ode``."""
        new = _schemes.scheme(scheme)
        if not new.residual or not self.scheme.residual:
            raise ValueError('with_scheme converts between residual schemes, not "map"')
        if "options" in ode:
            opts = ode.pop("options") or {}
            ode["step_size"] = _step_size_option(opts)
        if new.name == "ode":
            base = self.ode if self.ode is not None else ODEOptions()
            options: ODEOptions | None = base.replace(**ode)
        else:
            if ode:
                raise ValueError(f'ode options are for the "ode" scheme, not "{new.name}"')
            options = None
        spec = self._spec.replace(scheme=new.name, ode=options)
        net = copy.deepcopy(self)
        net._spec, net.scheme, net.ode = spec, new, options
        return net

    def layer_step(
        self, l: int, z: torch.Tensor, z_prev: torch.Tensor | None = None
    ) -> torch.Tensor:
        """F_l(z_l[, z_{l−1}]; θ_l), the scheme's step of layer l:
        (ensemble, sample, C_l) → (ensemble, sample, C_{l+1}). The one formula the flow, the
        costates, the Jacobians and the residual inverse use."""

        def f(u: torch.Tensor) -> torch.Tensor:
            return self.field(l, u)

        h_prev = self._h[l - 1] if l > 0 else None
        return self.scheme.step(f, z, self._h[l], z_prev=z_prev if l > 0 else None,
                                h_prev=h_prev)  # fmt: skip

    def layer_increment(self, l: int, z: torch.Tensor) -> torch.Tensor:
        """F_l(z) − z of a one-step residual scheme (``euler``: h_l f_l(z))."""
        return self.scheme.increment(lambda u: self.field(l, u), z, self._h[l])

    # ----------------------------------------------------------------- evaluation
    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        """x → (ensemble, sample, input), validated."""
        if not isinstance(x, torch.Tensor):
            raise ValueError(f"input must be a torch.Tensor, got {type(x).__name__}")
        if x.dtype == torch.bool or x.is_complex():
            raise ValueError(f"input must hold real numbers, got dtype {x.dtype}")
        dtype = next(self.parameters()).dtype
        x = x if x.dtype == dtype else x.to(dtype)  # float16, float64, integers: as fit casts
        if x.dim() == 2:
            x = x.unsqueeze(0).expand(self.members, -1, -1)
        elif x.dim() == 3 and self.ensemble is not None:
            if x.shape[0] != self.members:
                raise ValueError(
                    f"input has {x.shape[0]} ensemble rows, expected {self.members} "
                    "(or pass (sample, input) to share it)"
                )
        else:
            expected = "(sample, input)" + (
                " or (ensemble, sample, input)" if self.ensemble is not None else ""
            )
            raise ValueError(f"input must be {expected}, got shape {tuple(x.shape)}")
        if x.shape[-1] != self.in_features:
            raise ValueError(
                f"input has {x.shape[-1]} features, expected {self.in_features} (in_features)"
            )
        return x

    def _squeeze(self, t: torch.Tensor, axis: int) -> torch.Tensor:
        return t.squeeze(axis) if self.ensemble is None else t

    def flow(self, x: torch.Tensor) -> torch.Tensor:
        """z_L = Φ(x, L): ([ensemble,] sample, component)."""
        z0 = self.lift(self._prepare(x))
        if self.scheme == "ode":
            states, _, _ = self._run_ode(z0, None)
        else:
            states, _ = _schemes.run_fixed(self.scheme, self.field, z0, self._h)
        return self._squeeze(states[-1].contiguous(), 0)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """W z_L + μ before the terminal function g (z_L itself when there is no readout)."""
        z = self.flow(x)
        if self.readout is None:
            return z
        zb = z if self.ensemble is not None else z.unsqueeze(0)
        return self._squeeze(self.readout.logits(zb), 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """ŷ = g(W z_L + μ): ([ensemble,] sample, output)."""
        out = self.logits(x)
        return out if self.readout is None else self.readout.apply_terminal(out)

    def trajectory(
        self,
        x: torch.Tensor,
        *,
        preactivations: bool = False,
        times: Sequence[float] | torch.Tensor | None = None,
    ) -> Trajectory:
        """Φ(x, l) for l = 0 … L (thesis eq. 3.8): every state of the flow.

        ``times`` (``ode`` only) adds states at those times in [0, T].
        """
        z0 = self.lift(self._prepare(x))
        if self.scheme == "ode":
            tlist = None if times is None else [float(t) for t in torch.as_tensor(times).flatten()]
            states, out_times, index = self._run_ode(z0, tlist)
            pres = None
            if preactivations:
                pres = [self.field.evaluate(l, states[index[l]])[1] for l in range(self.depth)]
            t = torch.tensor(out_times, dtype=z0.dtype)
        else:
            if times is not None:
                raise ValueError(
                    f'times= is only for the "ode" scheme, this network is "{self.scheme}"'
                )
            states, pres = _schemes.run_fixed(
                self.scheme, self.field, z0, self._h, preactivations=preactivations
            )
            index = list(range(len(states)))
            t = self.times.detach().clone()
        widths = [s.shape[-1] for s in states]
        wmax = max(widths)
        padded = [
            s if s.shape[-1] == wmax else nn.functional.pad(s, (0, wmax - s.shape[-1]))
            for s in states
        ]
        pre_t = None
        if pres:
            hmax = max(p.shape[-1] for p in pres)
            pre_t = torch.stack(
                [nn.functional.pad(p, (0, hmax - p.shape[-1])) for p in pres]
            )  # (layer, ensemble, sample, hidden)
            pre_t = self._squeeze(pre_t, 1)
        return Trajectory(
            states=self._squeeze(torch.stack(padded), 1),  # (layer, [ensemble,] sample, component)
            times=t,
            widths=tuple(widths),
            scheme=self.scheme.name,
            layer_index=tuple(index),
            preactivations=pre_t,
            ensemble=self.ensemble,
            solver_stats=tuple(self.solver_stats) if self.scheme == "ode" else None,
        )

    def layer_map(
        self, x: torch.Tensor, fn: Callable[[torch.Tensor], torch.Tensor]
    ) -> torch.Tensor:
        """[fn(z_0), …, fn(z_L)] stacked over a new leading ``layer`` axis, computed as the flow
        runs: a statistic of every layer (e.g. ``lambda z: z.norm(dim=-1).mean(-1)``, the mean
        L² norm of thesis Fig 8.3) without holding the whole trajectory in memory.

        ``fn`` receives z_l as (ensemble, sample, C_l) — the ensemble axis is always there —
        stored component-major, as the flow keeps it (``dynamics/_affine.py``): reductions over
        components are fastest written ``(z * z).sum(-1)``; ``torch.linalg.vector_norm(z,
        dim=-1)`` is ~10× slower on this layout (call ``z.contiguous()`` first if you need it).
        """
        z0 = self.lift(self._prepare(x))
        if self.scheme == "ode":
            states, _, _ = self._run_ode(z0, None)
            return torch.stack([fn(z) for z in states])
        states, _ = _schemes.run_fixed(self.scheme, self.field, z0, self._h, keep=fn)
        return torch.stack(states)

    @property
    def solver_totals(self) -> SolverTotals:
        """Running totals of function evaluations and steps over every ODE solve of this
        network (``ode`` scheme); ``net.solver_stats`` holds the latest solve, per interval."""
        if not hasattr(self, "_solver_totals"):
            self._solver_totals = SolverTotals()
        return self._solver_totals

    def _run_ode(
        self, z0: torch.Tensor, times: list[float] | None
    ) -> tuple[list[torch.Tensor], list[float], list[int]]:
        assert self.ode is not None
        knots = [float(t) for t in self.times]
        if not hasattr(self, "_solver_totals"):  # networks unpickled from before it existed
            self._solver_totals = SolverTotals()
        self.solver_stats = []  # this solve's counts, per control interval
        return _schemes.run_ode(
            self.field,
            z0,
            knots,
            solver=self.ode.solver,
            rtol=self.ode.rtol,
            atol=self.ode.atol,
            adjoint=self.ode.adjoint,
            options=self.ode.torchdiffeq_options(),
            times=times,
            stats=self.solver_stats,
            running=self._solver_totals,
        )

    def to_torch(self, *, member: int | None = None) -> nn.Sequential:
        """This network (member ``member`` of an ensemble) as a plain ``nn.Sequential`` with
        the same θ; :func:`deepdyn.from_torch` reads it back (see ``_torch_io.py``)."""
        from deepdyn.dynamics._torch_io import to_torch

        return to_torch(self, member=member)

    def extra_repr(self) -> str:
        ens = f", ensemble={self.ensemble}" if self.ensemble is not None else ""
        return (
            f"scheme={self.scheme}, widths={self.field.widths}, field={self.field.kind}, "
            f"activation={self.field.activation}{ens}"
        )


def _step_size_option(options: dict[str, Any]) -> float | None:
    """The step size of torchdiffeq ``options`` (the only option deepdyn passes)."""
    if not isinstance(options, dict) or set(options) - {"step_size"}:
        raise ValueError(f'ODE options support only "step_size", got {options!r}')
    return options.get("step_size")


class Layer:
    """The parameters θ_l of one layer (or of the lift or the readout), per member.

    ``get(member)`` returns copies of each sub-layer's (weight, bias); ``set`` writes them
    (all members, or one); ``freeze()`` stops training them (``requires_grad = False``), e.g.
    to hold a construction from a paper fixed while the rest trains.
    """

    def __init__(self, net: Network, index: int | str, modules: Sequence[nn.Module]) -> None:
        self.net, self.index, self.modules = net, index, list(modules)

    def __len__(self) -> int:
        return len(self.modules)

    def parameters(self) -> list[nn.Parameter]:
        return [p for m in self.modules for p in m.parameters(recurse=False)]

    def get(self, member: int = 0, sublayer: int = 0) -> dict[str, torch.Tensor | None]:
        """{"weight": (out, in), "bias": (out,) or None} of one member, as copies."""
        m = self._module(sublayer)
        k = self._member(member)
        w = getattr(m, "weight", None)
        b = getattr(m, "bias", None)
        return {
            "weight": None if w is None else w.detach()[k].clone(),
            "bias": None if b is None else b.detach()[k].clone(),
        }

    def set(
        self,
        weight: Any = None,
        bias: Any = None,
        *,
        sublayer: int = 0,
        member: int | None = None,
    ) -> Layer:
        """Write a weight (out, in) and/or a bias (out,) into every member (``member=None``)
        or into one; returns self."""
        m = self._module(sublayer)
        if isinstance(m, Readout) and m.kind == "projection":
            raise ValueError('a "projection" readout is fixed: build with readout_map="affine"')
        rows = slice(None) if member is None else slice(self._member(member), None)
        if member is not None:
            rows = slice(rows.start, rows.start + 1)
        with torch.no_grad():
            for name, value in (("weight", weight), ("bias", bias)):
                if value is None:
                    continue
                target = getattr(m, name, None)
                if target is None:
                    raise ValueError(f"layer {self.index!r} has no {name}")
                v = torch.as_tensor(value, dtype=target.dtype)
                if tuple(v.shape) != tuple(target.shape[1:]):
                    raise ValueError(
                        f"{name} of layer {self.index!r} must have shape "
                        f"{tuple(target.shape[1:])}, got {tuple(v.shape)}"
                    )
                target[rows] = v
        return self

    def freeze(self, frozen: bool = True) -> Layer:
        """Stop (or with ``frozen=False`` resume) training these parameters; returns self."""
        for p in self.parameters():
            p.requires_grad_(not frozen)
        return self

    @property
    def frozen(self) -> bool:
        ps = self.parameters()
        return bool(ps) and not any(p.requires_grad for p in ps)

    def _module(self, sublayer: int) -> nn.Module:
        if not 0 <= sublayer < len(self.modules):
            raise ValueError(
                f"sublayer {sublayer} out of range: choose 0 … {len(self.modules) - 1}"
            )
        return self.modules[sublayer]

    def _member(self, k: int) -> int:
        if not 0 <= k < self.net.members:
            raise ValueError(f"member {k} out of range: choose 0 … {self.net.members - 1}")
        return k
