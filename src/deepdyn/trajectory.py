"""Trajectory Φ(x, l) and History Φ̃(x, l, τ) (thesis eq. 3.8, 3.9).

Dimension names follow docs/design.md: ``step`` (training step τ), ``layer``, ``ensemble``,
``sample``, ``component``; :data:`DIMENSIONS` is the whole vocabulary, for every xarray dim
deepdyn writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import torch
import xarray as xr

DIMENSIONS: Mapping[str, str] = MappingProxyType(
    {
        "step": "training step τ",
        "iteration": "iteration of an optimizer or of MSA",
        "layer": "layer l = 0 … L (a state Φ(x, l))",
        "time": "continuous time t of a flow",
        "ensemble": "member of an ensemble (not seed, member or trial; a seed is a coordinate)",
        "sample": "one input point of a data set",
        "component": "a coordinate of the state z (C of them)",
        "input": "a coordinate of the input x",
        "output": "a coordinate of the output",
        "region": "a linear region",
        "vertex": "a vertex of a region's polygon",
        "unit": "a neuron",
        "end": "the lower and upper end of a confidence interval",
        "line": "a line of a grid drawn through the flow",
        "point": "a point along a grid line",
        "x": "abscissa of a 1-D plot",
        "y": "ordinate of a plot",
        "gx": "mesh column of a 2-D level set or field",
        "gy": "mesh row of a 2-D level set or field",
    }
)
"""The dimension vocabulary of docs/design.md: every dim of an array deepdyn stores is one of these,
possibly tagged (:func:`in_vocabulary`), or a study axis its catalogue entry declares
(``Experiment.dims``: a γ, a width, an architecture …)."""


def in_vocabulary(dim: str) -> bool:
    """Whether ``dim`` is a :data:`DIMENSIONS` name or one tagged with ``_<tag>``.

    A tag separates arrays of one dataset that differ in size along a vocabulary axis:
    ``layer_L16`` (the layers of the depth-16 network), ``component_resnet2``.
    """
    base, sep, tag = dim.partition("_")
    return dim in DIMENSIONS or (bool(sep and tag) and base in DIMENSIONS)


@dataclass(frozen=True)
class Trajectory:
    """Every state of a batch of inputs through the layers.

    Attributes:
        states: (layer, sample, component), or (layer, ensemble, sample, component) for an
            ensemble. For the ``map`` scheme with varying widths the states are zero-padded to
            the widest layer; ``widths[l]`` is the true width of state l.
        times: (layer,) the layer times t_l (layer indices for ``map``; for ``ode`` with extra
            ``times`` the rows are all recorded times, and ``layer_index`` marks the knots).
        preactivations: (layer − 1, [ensemble,] sample, hidden) the hidden pre-activations of
            each layer's field at its input state, or None.
        widths: true width of each state.
        scheme: the scheme that produced it.
        layer_index: positions of the layer states t_0 … t_L among the rows of ``states``.
        solver_stats: ``ode`` only: one ``SolveStats`` per control interval (function
            evaluations forward and backward, accepted and rejected steps), else None.
    """

    states: torch.Tensor
    times: torch.Tensor
    widths: tuple[int, ...]
    scheme: str
    layer_index: tuple[int, ...]
    preactivations: torch.Tensor | None = None
    ensemble: int | None = None
    solver_stats: tuple[Any, ...] | None = None

    @property
    def depth(self) -> int:
        """L, the number of layers (control intervals)."""
        return len(self.layer_index) - 1

    def state(self, l: int) -> torch.Tensor:
        """z_l, unpadded: ([ensemble,] sample, C_l)."""
        if not -len(self.layer_index) <= l < len(self.layer_index):
            raise ValueError(f"layer {l} out of range: choose 0 … {self.depth}")
        return self.states[self.layer_index[l], ..., : self.widths[self.layer_index[l]]]

    def at_layers(self) -> Trajectory:
        """The trajectory restricted to the layer states z_0 … z_L (drops extra ODE times)."""
        idx = list(self.layer_index)
        if idx == list(range(self.states.shape[0])):
            return self
        return Trajectory(
            states=self.states[idx],
            times=self.times[idx],
            widths=tuple(self.widths[i] for i in idx),
            scheme=self.scheme,
            layer_index=tuple(range(len(idx))),
            preactivations=self.preactivations,
            ensemble=self.ensemble,
        )

    def detach(self) -> Trajectory:
        pre = None if self.preactivations is None else self.preactivations.detach()
        return Trajectory(
            self.states.detach(),
            self.times,
            self.widths,
            self.scheme,
            self.layer_index,
            pre,
            self.ensemble,
        )

    def to_xarray(self) -> xr.Dataset:
        """As an ``xarray.Dataset`` with dims (layer, [ensemble,] sample, component)."""
        dims = ["layer", "sample", "component"]
        pdims = ["layer_field", "sample", "hidden"]
        if self.ensemble is not None:
            dims.insert(1, "ensemble")
            pdims.insert(1, "ensemble")
        data: dict[str, Any] = {"states": (dims, _np(self.states))}
        if self.preactivations is not None:
            data["preactivations"] = (pdims, _np(self.preactivations))
        is_layer = np.zeros(self.states.shape[0], dtype=bool)
        is_layer[list(self.layer_index)] = True
        coords = {
            "layer": np.arange(self.states.shape[0]),
            "time": (
                ("layer",) if self.times.dim() == 1 else ("ensemble", "layer"),
                _np(self.times),
            ),
            "width": ("layer", np.asarray(self.widths)),
            "is_layer": ("layer", is_layer),
        }
        return xr.Dataset(data, coords=coords, attrs={"scheme": self.scheme})

    @staticmethod
    def from_xarray(ds: xr.Dataset) -> Trajectory:
        states = torch.from_numpy(np.asarray(ds["states"].values))
        pre = ds["preactivations"].values if "preactivations" in ds else None
        return Trajectory(
            states=states,
            times=torch.from_numpy(np.asarray(ds["time"].values)),
            widths=tuple(int(w) for w in ds["width"].values),
            scheme=str(ds.attrs["scheme"]),
            layer_index=tuple(int(i) for i in np.flatnonzero(ds["is_layer"].values)),
            preactivations=None if pre is None else torch.from_numpy(np.asarray(pre)),
            ensemble=int(ds.sizes["ensemble"]) if "ensemble" in ds.dims else None,
        )


@dataclass
class History:
    """Training history: the curves of every metric and Φ̃(x, l, τ) of a probe set (thesis
    eq. 3.9).

    Attributes:
        loss: (iteration,) or (iteration, ensemble) training loss per optimizer step.
        snapshot_steps: (step,) the training steps τ at which the probe was recorded.
        states: (step, layer, [ensemble,] sample, component) probe trajectories, or None.
        times: (layer,) layer times of the probe trajectories.
        test_loss: (iteration,) or (iteration, ensemble) loss on a held-out set, or None.
        metrics: every curve by name, ``loss`` and ``test_loss`` included: (iteration,
            [ensemble]) each — ``accuracy`` and ``test_accuracy`` for classifiers, and what a
            trainer adds (MSA: ``hamiltonian``, ``residual``; ``seconds`` is (iteration,)).
            A metric also reads as an attribute: ``history.accuracy``.
        stopped_at: the iteration at which training stopped early (a non-finite loss with
            ``on_nonfinite="stop"``), or None.
    """

    loss: torch.Tensor
    snapshot_steps: list[int] = field(default_factory=list)
    states: torch.Tensor | None = None
    times: torch.Tensor | None = None
    test_loss: torch.Tensor | None = None
    ensemble: int | None = None
    metrics: dict[str, torch.Tensor] = field(default_factory=dict)
    stopped_at: int | None = None

    def __post_init__(self) -> None:
        curves = {"loss": self.loss}
        if self.test_loss is not None:
            curves["test_loss"] = self.test_loss
        self.metrics = {**curves, **{k: v for k, v in self.metrics.items() if v is not None}}

    def __getattr__(self, name: str) -> Any:
        metrics = self.__dict__.get("metrics") or {}
        if name in metrics:
            return metrics[name]
        raise AttributeError(
            f"History has no attribute or metric {name!r} (metrics: {', '.join(metrics)})"
        )

    def trajectory(self, i: int) -> Trajectory:
        """The probe trajectory at the i-th snapshot."""
        if self.states is None or self.times is None:
            raise ValueError("this History has no snapshots: pass probe= to fit")
        n = self.states.shape[1]
        return Trajectory(
            states=self.states[i],
            times=self.times,
            widths=(self.states.shape[-1],) * n,
            scheme="snapshot",
            layer_index=tuple(range(n)),
            ensemble=self.ensemble,
        )

    def to_xarray(self) -> xr.Dataset:
        """As an ``xarray.Dataset``: every metric over (iteration, [ensemble]) and ``states``
        over (step, layer, [ensemble,] sample, component)."""
        ldims = ["iteration"] + (["ensemble"] if self.ensemble is not None else [])
        data: dict[str, Any] = {}
        for name, curve in self.metrics.items():
            data[name] = (ldims[: curve.dim()], _np(curve))
        coords: dict[str, Any] = {}
        if self.states is not None and self.times is not None:
            sdims = ["step", "layer", "sample", "component"]
            if self.ensemble is not None:
                sdims.insert(2, "ensemble")
            data["states"] = (sdims, _np(self.states))
            coords["step"] = np.asarray(self.snapshot_steps)
            tdims = ("layer",) if self.times.dim() == 1 else ("ensemble", "layer")
            coords["time"] = (tdims, _np(self.times))
        attrs = {"stopped_at": -1 if self.stopped_at is None else self.stopped_at}
        return xr.Dataset(data, coords=coords, attrs=attrs)


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()
