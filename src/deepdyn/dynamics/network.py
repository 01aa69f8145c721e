"""Network: lift → flow of a field under a scheme → readout (DESIGN.md, "a network is a flow")."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from deepdyn import _checks
from deepdyn.dynamics import init as _init
from deepdyn.dynamics import schemes as _schemes
from deepdyn.dynamics.ends import Lift, Readout
from deepdyn.dynamics.fields import Field
from deepdyn.trajectory import Trajectory


class Network(nn.Module):
    """x ──lift──▶ z₀ ──step──▶ … ──step──▶ z_L ──readout──▶ ŷ, for one network or an ensemble.

    Parameters carry a leading ``ensemble`` axis (size 1 for a single network). Inputs are
    (sample, input), shared by all members, or (ensemble, sample, input); outputs are
    (sample, output) for a single network and (ensemble, sample, output) for an ensemble.

    Build it with :class:`deepdyn.MLP`, :class:`deepdyn.ResNet` or :class:`deepdyn.NeuralODE`.
    """

    times: torch.Tensor  # (layer,) buffer: t_0 … t_L

    def __init__(
        self,
        *,
        in_features: int,
        field: Field,
        scheme: str,
        steps: Sequence[float],
        lift: Lift,
        readout: Readout | None,
        ensemble: int | None,
        seed: int | Sequence[int],
        init: str,
        scale: float | Sequence[float],
        bias_init: str,
        ode: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.scheme = _schemes.check_scheme(scheme)
        self.field = field
        self.lift = lift
        self.readout = readout
        self.ensemble = ensemble
        self.members = 1 if ensemble is None else ensemble
        self.h = [float(s) for s in steps]
        self.ode = dict(ode or {})
        self.register_buffer("times", _layer_times(self.scheme, self.h), persistent=False)
        _init.check_init(init, bias_init)
        self.seeds = [int(s) for s in _seeds(seed, ensemble)]
        self.scales = [
            _checks.positive("scale", s, allow_zero=True)
            for s in _checks.per_member("scale", scale, ensemble)
        ]
        self.init, self.bias_init = init, bias_init
        self.reset_parameters()

    # ----------------------------------------------------------------- parameters
    @property
    def depth(self) -> int:
        """L, the number of layers (control intervals)."""
        return self.field.depth

    @property
    def width(self) -> int:
        """C, the widest state."""
        return max(self.field.widths)

    def reset_parameters(self) -> None:
        """Draw θ again: member k from its own generator seeded with ``seeds[k]``."""
        pairs = self.lift.parameter_pairs() + self.field.parameter_pairs()
        if self.readout is not None:
            pairs += self.readout.parameter_pairs()
        _init.fill(pairs, self.init, self.bias_init, self.seeds, self.scales)

    def member(self, k: int) -> Network:
        """Member k of an ensemble as a network of its own (a copy: same θ, no ensemble axis)."""
        if not 0 <= k < self.members:
            raise ValueError(f"member {k} out of range: choose 0 … {self.members - 1}")
        net = copy.deepcopy(self)
        for module in net.modules():
            for name, p in list(module.named_parameters(recurse=False)):
                setattr(module, name, nn.Parameter(p.detach()[k : k + 1].clone()))
        net.ensemble, net.members = None, 1
        net.seeds, net.scales = [self.seeds[k]], [self.scales[k]]
        return net

    def with_scheme(self, scheme: str, **ode: Any) -> Network:
        """The same θ read under another scheme, e.g. a trained ResNet as the ODE it
        discretizes (``net.with_scheme("ode", solver="dopri5")``). Returns a copy."""
        _schemes.check_scheme(scheme)
        if scheme == "map" or self.scheme == "map":
            raise ValueError('with_scheme converts between residual schemes, not "map"')
        net = copy.deepcopy(self)
        net.scheme = scheme
        if scheme == "ode":
            net.ode = {**_ode_defaults(), **self.ode, **ode}
            _schemes.check_solver(net.ode["solver"])
        return net

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
            states, _ = _schemes.run_fixed(self.scheme, self.field, z0, self.h)
        return self._squeeze(states[-1], 0)

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
                self.scheme, self.field, z0, self.h, preactivations=preactivations
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
            scheme=self.scheme,
            layer_index=tuple(index),
            preactivations=pre_t,
            ensemble=self.ensemble,
        )

    def layer_map(
        self, x: torch.Tensor, fn: Callable[[torch.Tensor], torch.Tensor]
    ) -> torch.Tensor:
        """[fn(z_0), …, fn(z_L)] stacked over a new leading ``layer`` axis, computed as the flow
        runs: a statistic of every layer (e.g. ``lambda z: z.norm(dim=-1).mean(-1)``, the mean
        L² norm of thesis Fig 8.3) without holding the whole trajectory in memory.

        ``fn`` receives z_l as (ensemble, sample, C_l) — the ensemble axis is always there.
        """
        z0 = self.lift(self._prepare(x))
        if self.scheme == "ode":
            states, _, _ = self._run_ode(z0, None)
            return torch.stack([fn(z) for z in states])
        states, _ = _schemes.run_fixed(self.scheme, self.field, z0, self.h, keep=fn)
        return torch.stack(states)

    def _run_ode(
        self, z0: torch.Tensor, times: list[float] | None
    ) -> tuple[list[torch.Tensor], list[float], list[int]]:
        knots = [float(t) for t in self.times]
        return _schemes.run_ode(
            self.field,
            z0,
            knots,
            solver=self.ode["solver"],
            rtol=self.ode["rtol"],
            atol=self.ode["atol"],
            adjoint=self.ode["adjoint"],
            options=self.ode.get("options"),
            times=times,
        )

    def extra_repr(self) -> str:
        ens = f", ensemble={self.ensemble}" if self.ensemble is not None else ""
        return (
            f"scheme={self.scheme}, widths={self.field.widths}, field={self.field.kind}, "
            f"activation={self.field.activation}{ens}"
        )


def _ode_defaults() -> dict[str, Any]:
    return {"solver": "dopri5", "rtol": 1e-6, "atol": 1e-8, "adjoint": False, "options": None}


def _layer_times(scheme: str, h: Sequence[float]) -> torch.Tensor:
    if scheme == "map":
        return torch.arange(len(h) + 1, dtype=torch.float64)
    t = torch.zeros(len(h) + 1, dtype=torch.float64)
    t[1:] = torch.cumsum(torch.tensor(h, dtype=torch.float64), 0)
    return t


def _seeds(seed: int | Sequence[int], ensemble: int | None) -> list[int]:
    if isinstance(seed, Sequence):
        return [int(s) for s in _checks.per_member("seed", seed, ensemble)]
    return [int(seed) + k for k in range(1 if ensemble is None else ensemble)]
