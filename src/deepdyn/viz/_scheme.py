"""Architecture schemes drawn from a :class:`~deepdyn.dynamics.NetworkSpec` (thesis Fig 1.1,
3.1, 7.1, 8.7, 8.8): nodes per layer, the layer maps, skip connections, lift and readout.

:func:`architecture_scheme` computes the layout (columns of nodes, edges, skips) from the spec
alone; :func:`draw_architecture` draws it on a matplotlib Axes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch

from deepdyn.dynamics import SCHEMES, NetworkSpec


@dataclass(frozen=True)
class Column:
    """One column of nodes: ``label`` (x, z_0, z_1, …, y, or an inner layer of a block),
    ``nodes`` (its width), ``inner`` for the hidden layers inside a residual block."""

    label: str
    nodes: int
    inner: bool = False


@dataclass(frozen=True)
class Scheme:
    """The layout of a network's diagram.

    ``columns``: left to right (labels x, z₀ … z_L, y; fₗ,ⱼ the j-th inner layer of block l).
    ``edges``: (from column, to column, kind) with kind ``dense``
    (every node to every node: a layer map), ``identity`` (node i to node i: an identity lift),
    ``pad`` (node i to node i, the extra nodes of the target fed by zeros), ``readout``.
    ``skips``: (from column, to column) identity paths that jump over the map (residual
    steps). ``gap``: the column after which layers were left out (depth above ``max_layers``),
    or None. ``title``: a one-line description.
    """

    columns: list[Column]
    edges: list[tuple[int, int, str]]
    skips: list[tuple[int, int]] = field(default_factory=list)
    gap: int | None = None
    title: str = ""


_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _sub(n: int) -> str:
    return str(n).translate(_SUB)


def _widths(spec: NetworkSpec) -> list[int]:
    w = spec.width
    return list(w) if isinstance(w, tuple) else [int(w)] * spec.depth


def architecture_scheme(spec: NetworkSpec | Any, *, max_layers: int = 4) -> Scheme:
    """The diagram of ``spec`` (a NetworkSpec, or a network with a ``.spec``). Depths above
    ``max_layers`` show the first ``max_layers − 1`` layers and the last, with a gap."""
    spec = getattr(spec, "spec", spec)
    if not isinstance(spec, NetworkSpec):
        raise TypeError(f"architecture_scheme expects a NetworkSpec, got {type(spec).__name__}")
    if max_layers < 2:
        raise ValueError(f"max_layers must be ≥ 2, got {max_layers}")
    L, d = spec.depth, spec.in_features
    shown = list(range(1, L + 1))
    gap_after: int | None = None
    if max_layers < L:
        shown = [*range(1, max_layers), L]
    residual = spec.scheme != "map"
    cols = [Column("x", d)]
    edges: list[tuple[int, int, str]] = []
    skips: list[tuple[int, int]] = []
    if not residual:
        widths = _widths(spec)
        for i, l in enumerate(shown):
            cols.append(Column(f"z{_sub(l)}", widths[l - 1]))
            edges.append((len(cols) - 2, len(cols) - 1, "dense"))
            if l != L and i + 1 < len(shown) and shown[i + 1] != l + 1:
                gap_after = len(cols) - 1
    else:
        C = int(spec.width) if not isinstance(spec.width, tuple) else spec.width[0]
        cols.append(Column("z₀", C))
        kind = {"identity": "identity", "pad": "pad"}.get(spec.lift, "dense")
        edges.append((0, 1, kind))
        inner = 0
        if spec.field == "block":
            inner = spec.q - 1
        elif spec.field == "bottleneck":
            inner = 1
        hidden = spec.hidden or C
        for i, l in enumerate(shown):
            start = len(cols) - 1
            for j in range(inner):
                cols.append(Column(f"f{_sub(l - 1)},{_sub(j + 1)}", hidden, inner=True))
                edges.append((len(cols) - 2, len(cols) - 1, "dense"))
            cols.append(Column(f"z{_sub(l)}", C))
            edges.append((len(cols) - 2, len(cols) - 1, "dense"))
            skips.append((start, len(cols) - 1))
            if l != L and i + 1 < len(shown) and shown[i + 1] != l + 1:
                gap_after = len(cols) - 1
        if SCHEMES[spec.scheme].history == 2:  # leapfrog: z_{l+1} also reads z_{l−1}
            states = [i for i, c in enumerate(cols) if c.label.startswith("z")]
            skips += [(a, b) for a, b in zip(states, states[2:])]
    if spec.readout is not None:
        cols.append(Column("y", spec.out_features))
        edges.append((len(cols) - 2, len(cols) - 1, "readout"))
    if gap_after is not None:  # the edge across the gap is not a layer map: drop it
        edges = [e for e in edges if e[0] != gap_after or e[2] == "readout"]
        skips = [s for s in skips if s[0] != gap_after]
    kind = "MLP" if not residual else f"{spec.scheme} residual network"
    field_name = {"perceptron": "σ(Az + b)", "bottleneck": "A₂σ(A₁z + b)",
                  "block": f"a {spec.q}-layer block"}.get(spec.field, spec.field)  # fmt: skip
    title = f"{kind}, {spec.activation}, d = {d}, L = {L}" + (
        f", f = {field_name}" if residual else ""
    )
    return Scheme(cols, edges, skips, gap_after, title)


def draw_architecture(
    ax: Axes, spec: NetworkSpec | Any, *, max_layers: int = 4, title: bool = True
) -> Scheme:
    """Draw the scheme of ``spec`` on ``ax`` (nodes as circles, layer maps as lines, skip
    connections as arcs above, the lift and readout labelled); returns the :class:`Scheme`."""
    s = architecture_scheme(spec, max_layers=max_layers)
    tallest = max(c.nodes for c in s.columns)
    pos: list[np.ndarray] = []
    for i, c in enumerate(s.columns):
        ys = (np.arange(c.nodes) - (c.nodes - 1) / 2) * 1.0
        pos.append(np.stack([np.full(c.nodes, float(i)), ys], 1))
    colors = {"dense": "0.35", "identity": "tab:green", "pad": "tab:green", "readout": "tab:red"}
    for a, b, kind in s.edges:
        pa, pb = pos[a], pos[b]
        if kind in ("identity", "pad"):
            for k in range(min(len(pa), len(pb))):
                ax.plot([pa[k, 0], pb[k, 0]], [pa[k, 1], pb[k, 1]], color=colors[kind], lw=1.2)
        else:
            for p in pa:
                for q in pb:
                    ax.plot([p[0], q[0]], [p[1], q[1]], color=colors[kind], lw=0.5, alpha=0.7)
    top = (tallest - 1) / 2 + 0.35
    for a, b in s.skips:
        arrow = FancyArrowPatch(
            (a, top), (b, top), connectionstyle="arc3,rad=-0.6", arrowstyle="-|>",
            mutation_scale=10, color="tab:blue", lw=1.3,
        )  # fmt: skip
        ax.add_patch(arrow)
    for c, p in zip(s.columns, pos):
        face = "white" if c.inner else ("tab:orange" if c.label in ("x", "y") else "lightsteelblue")
        ax.scatter(p[:, 0], p[:, 1], s=140, facecolors=face, edgecolors="k", zorder=3)
        ax.text(p[0, 0], -(tallest - 1) / 2 - 0.9, c.label, ha="center", va="top", fontsize=8)
    if s.gap is not None:
        ax.text(s.gap + 0.5, 0, "⋯", ha="center", va="center", fontsize=16)
    legend = []
    if any(k in ("identity", "pad") for _, _, k in s.edges):
        legend.append(("tab:green", "lift (identity / zero padding)"))
    if s.skips:
        legend.append(("tab:blue", "skip connection (identity)"))
    if any(k == "readout" for _, _, k in s.edges):
        legend.append(("tab:red", "readout"))
    for color, text in legend:
        ax.plot([], [], color=color, label=text)
    if legend:
        ax.legend(fontsize=7, loc="upper right", frameon=False)
    ax.set_xlim(-0.6, len(s.columns) - 0.4)
    ax.set_ylim(-(tallest - 1) / 2 - 1.4, top + 1.9)
    ax.set_axis_off()
    if title:
        ax.set_title(s.title, fontsize=9)
    return s
