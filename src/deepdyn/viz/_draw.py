"""Drawing: ``draw_*(ax, arrays, ...)`` from stored arrays onto a matplotlib Axes; never trains.

Arrays may be ``xarray.DataArray`` or numpy arrays in the axis order of :mod:`._arrays`:
grids (layer, line, point, component), states (layer, sample, component), meshes (gy, gx).
A 2-D Axes draws two components, a 3-D Axes (``projection="3d"``) three.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection

CLASS_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple")
LINE_COLORS = ("tab:blue", "tab:red")  # horizontal, vertical grid lines

ArrayLike = np.ndarray | xr.DataArray


def _array(a: Any, name: str, ndim: int, axes: str) -> np.ndarray:
    arr = np.asarray(a.values if isinstance(a, xr.DataArray) else a, dtype=float)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be ({axes}), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}): it needs at least one {axes}")
    return arr


def _layer(layer: int, n: int) -> int:
    if isinstance(layer, bool) or not isinstance(layer, int | np.integer) or not -n <= layer < n:
        raise ValueError(
            f"layer {layer!r} out of range: choose 0 … {n - 1} (or −1 … −{n} from the end)"
        )
    return int(layer) % n


def _is3d(ax: Axes) -> bool:
    return getattr(ax, "name", "") == "3d"


def _components(ax: Axes, n: int, components: Sequence[int] | None, what: str) -> list[int]:
    k = 3 if _is3d(ax) else 2
    if components is None:
        if n != k:
            kind = "3-D" if k == 3 else "2-D"
            other = "a 2-D Axes" if k == 3 else 'a 3-D Axes (projection="3d")'
            raise ValueError(
                f"{what}: the states have {n} components, a {kind} Axes draws {k}: use {other}"
                f" or pass components= (indices in 0 … {n - 1})"
            )
        return list(range(k))
    comps = [int(c) for c in components]
    if len(comps) != k or not all(0 <= c < n for c in comps):
        raise ValueError(
            f"{what}: components={tuple(components)} invalid: choose {k} indices in 0 … {n - 1}"
        )
    return comps


def _line_collection(ax: Axes, segments: np.ndarray, colors: list[str], lw: float) -> None:
    if _is3d(ax):
        from mpl_toolkits.mplot3d.art3d import Line3DCollection

        ax.add_collection3d(Line3DCollection(segments, colors=colors, linewidths=lw))  # type: ignore[attr-defined]
        _limits3d(ax, segments.reshape(-1, 3))
    else:
        ax.add_collection(LineCollection(list(segments), colors=colors, linewidths=lw))
        _limits2d(ax, segments.reshape(-1, 2))


def _pad(span: np.ndarray) -> np.ndarray:
    """5 % margins; a collapsed coordinate (span below 1e-6) gets ±0.5 instead of a 1e-11 axis."""
    return np.where(span < 1e-6, 0.5, 0.05 * span)


def _limits2d(ax: Axes, pts: np.ndarray) -> None:
    lo, hi = np.nanmin(pts, axis=0), np.nanmax(pts, axis=0)
    pad = _pad(hi - lo)
    ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
    ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])


def _limits3d(ax: Any, pts: np.ndarray) -> None:
    lo, hi = np.nanmin(pts, axis=0), np.nanmax(pts, axis=0)
    pad = _pad(hi - lo)
    ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
    ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
    ax.set_zlim(lo[2] - pad[2], hi[2] + pad[2])


def draw_grid(
    ax: Axes,
    grid: ArrayLike,
    *,
    layer: int = -1,
    components: Sequence[int] | None = None,
    linewidth: float = 0.6,
) -> Axes:
    """Grid lines pushed through the network, drawn at one layer (thesis Fig D.1, D.3, D.5).

    ``grid``: (layer, line, point, component) from :func:`deform_grid`; the first half of the
    lines (horizontal in the input) are blue, the second half (vertical) red. One
    ``LineCollection`` per call.
    """
    g = _array(grid, "grid", 4, "layer, line, point, component")
    l = _layer(layer, g.shape[0])
    comps = _components(ax, g.shape[-1], components, "draw_grid")
    seg = g[l][..., comps]  # (line, point, 2 or 3)
    half = g.shape[1] // 2
    colors = [LINE_COLORS[0]] * half + [LINE_COLORS[1]] * (g.shape[1] - half)
    _line_collection(ax, seg, colors, linewidth)
    return ax


def draw_propagation(
    ax: Axes,
    states: ArrayLike,
    labels: ArrayLike | None = None,
    *,
    layer: int = -1,
    components: Sequence[int] | None = None,
    size: float = 6.0,
) -> Axes:
    """The data at one layer, z_l = Φ(x, l), coloured by class (thesis Fig D.5, D.6).

    ``states``: (layer, sample, component) from :func:`propagate`; ``labels``: (sample,)."""
    s = _array(states, "states", 3, "layer, sample, component")
    l = _layer(layer, s.shape[0])
    comps = _components(ax, s.shape[-1], components, "draw_propagation")
    pts = s[l][:, comps]  # (sample, 2 or 3)
    colors = _class_colors(labels, s.shape[1])
    if _is3d(ax):
        ax.scatter(pts[:, 0], pts[:, 1], pts[:, 2], c=colors, s=size, depthshade=False)  # type: ignore[call-arg, misc]
        _limits3d(ax, pts)
    else:
        ax.scatter(pts[:, 0], pts[:, 1], c=colors, s=size, linewidths=0)
        _limits2d(ax, pts)
    return ax


def draw_flow_lines(
    ax: Axes,
    states: ArrayLike,
    labels: ArrayLike | None = None,
    *,
    components: Sequence[int] | None = None,
    max_lines: int = 200,
    linewidth: float = 0.6,
) -> Axes:
    """Point trajectories across layer time, l ↦ z_l (thesis eq. 3.8): the flow lines in the
    state space, one line per sample (the first ``max_lines``), coloured by class."""
    s = _array(states, "states", 3, "layer, sample, component")
    comps = _components(ax, s.shape[-1], components, "draw_flow_lines")
    n = min(s.shape[1], int(max_lines))
    seg = np.transpose(s[:, :n][..., comps], (1, 0, 2))  # (sample, layer, 2 or 3)
    colors = _class_colors(None if labels is None else np.asarray(labels)[:n], n)
    _line_collection(ax, seg, colors, linewidth)
    ends = seg[:, -1]
    if _is3d(ax):
        ax.scatter(ends[:, 0], ends[:, 1], ends[:, 2], c=colors, s=4)  # type: ignore[misc]
    else:
        ax.scatter(ends[:, 0], ends[:, 1], c=colors, s=4, zorder=3)
    return ax


def draw_time_lines(
    ax: Axes,
    states: ArrayLike,
    times: ArrayLike,
    *,
    component: int = 0,
    color_by: ArrayLike | None = None,
    max_lines: int = 200,
    linewidth: float = 0.8,
) -> Axes:
    """One component of each trajectory against layer time, t_l ↦ z_l[component]: for 1-D
    flows these lines cannot cross (thesis Lemma 6.2.1). Coloured by ``color_by`` (sample,),
    e.g. the input x, on the viridis scale."""
    s = _array(states, "states", 3, "layer, sample, component")
    t = _array(times, "times", 1, "layer")
    if t.shape[0] != s.shape[0]:
        raise ValueError(f"times has {t.shape[0]} entries, states has {s.shape[0]} layers")
    if not 0 <= component < s.shape[-1]:
        raise ValueError(f"component {component} out of range: choose 0 … {s.shape[-1] - 1}")
    n = min(s.shape[1], int(max_lines))
    seg = np.stack(np.broadcast_arrays(t[None, :], s[:, :n, component].T), axis=-1)
    c = np.asarray(color_by if color_by is not None else np.arange(n), dtype=float)[:n]
    lc = LineCollection(list(seg), array=c, cmap="viridis", linewidths=linewidth)
    ax.add_collection(lc)
    _limits2d(ax, seg.reshape(-1, 2))
    return ax


def draw_level_sets(
    ax: Axes,
    levels: xr.DataArray,
    *,
    X: ArrayLike | None = None,
    labels: ArrayLike | None = None,
    n_levels: int = 11,
    cmap: str = "RdBu_r",
    size: float = 4.0,
) -> Any:
    """Filled level sets of the classifier output over the input square, the decision
    boundary ŷ = 0.5 in black, and the data on top (thesis Fig 10.2–10.4, A.1, D.2, D.4).

    ``levels``: a (gy, gx) DataArray from :func:`level_sets` (its two dims' coordinates place
    the mesh). Returns the contour set (for a colorbar)."""
    if not isinstance(levels, xr.DataArray) or levels.ndim != 2:
        raise ValueError("levels must be a 2-D (gy, gx) DataArray from level_sets")
    if levels.size == 0:
        raise ValueError("levels is empty: compute it with level_sets(resolution ≥ 2)")
    ydim, xdim = levels.dims
    gx, gy = np.asarray(levels[xdim].values), np.asarray(levels[ydim].values)
    v = np.asarray(levels.values, dtype=float)
    bounds = np.linspace(min(0.0, v.min()), max(1.0, v.max()), int(n_levels) + 1)
    cs = ax.contourf(gx, gy, v, levels=bounds, cmap=cmap, alpha=0.85)
    if v.min() < 0.5 < v.max():
        ax.contour(gx, gy, v, levels=[0.5], colors="k", linewidths=1.2)
    if X is not None:
        x = _array(X, "X", 2, "sample, input")
        ax.scatter(x[:, 0], x[:, 1], c=_class_colors(labels, x.shape[0]), s=size,
                   linewidths=0.2, edgecolors="k")  # fmt: skip
    ax.set_xlim(gx[0], gx[-1])
    ax.set_ylim(gy[0], gy[-1])
    ax.set_aspect("equal")
    return cs


def draw_field(ax: Axes, field: xr.DataArray, *, kind: str = "quiver", color: str = "0.3") -> Axes:
    """A 2-D layer field (gy, gx, component) from :func:`layer_field`, as arrows (``quiver``)
    or streamlines (``stream``)."""
    if not isinstance(field, xr.DataArray) or field.ndim != 3 or field.shape[-1] != 2:
        shape = getattr(field, "shape", None)
        raise ValueError(f"field must be a (gy, gx, 2) DataArray from layer_field, got {shape}")
    if kind not in ("quiver", "stream"):
        raise ValueError(f'kind "{kind}" unknown: choose one of quiver, stream')
    ydim, xdim = field.dims[:2]
    gx, gy = np.asarray(field[xdim].values), np.asarray(field[ydim].values)
    f = np.asarray(field.values, dtype=float)
    if kind == "quiver":
        ax.quiver(gx, gy, f[..., 0], f[..., 1], color=color, angles="xy", width=0.004)
    else:
        speed = np.hypot(f[..., 0], f[..., 1])
        ax.streamplot(gx, gy, f[..., 0], f[..., 1], color=speed, cmap="viridis",
                      density=1.0, linewidth=0.8)  # fmt: skip
    ax.set_xlim(gx[0], gx[-1])
    ax.set_ylim(gy[0], gy[-1])
    ax.set_aspect("equal")
    return ax


def _class_colors(labels: ArrayLike | None, n: int) -> list[str]:
    if labels is None:
        return ["k"] * n
    lab = np.asarray(labels.values if isinstance(labels, xr.DataArray) else labels)
    if lab.shape != (n,):
        raise ValueError(f"labels must be (sample,) with {n} entries, got shape {lab.shape}")
    if lab.size and (lab.min() < 0 or lab.max() >= len(CLASS_COLORS)):
        raise ValueError(
            f"labels must be classes 0 … {len(CLASS_COLORS) - 1}, got {lab.min()}…{lab.max()}"
        )
    return [CLASS_COLORS[int(k)] for k in lab]
