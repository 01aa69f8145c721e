"""GIF animations across layers and across training steps (matplotlib + Pillow)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from deepdyn import _checks
from deepdyn.viz._draw import ArrayLike, _array, _is3d, _pad, draw_grid, draw_propagation


def save_gif(
    path: str | Path,
    draw_frame: Callable[[Axes, int], object],
    frames: int,
    *,
    fps: float = 4.0,
    size: float = 3.2,
    dpi: int = 70,
    projection: str | None = None,
) -> Path:
    """Write ``frames`` frames to a GIF: frame i is ``draw_frame(ax, i)`` on a cleared Axes."""
    n = _checks.integer("frames", frames)
    fps = _checks.positive("fps", fps)
    fig = Figure(figsize=(size, size), dpi=dpi)  # no pyplot: works under any backend
    ax = fig.add_subplot(projection=projection)

    def update(i: int) -> None:
        ax.clear()
        draw_frame(ax, i)

    path = Path(path)
    writer = PillowWriter(fps=fps)  # type: ignore[arg-type]  # Pillow takes a float frame rate
    FuncAnimation(fig, update, frames=n).save(path, writer=writer, dpi=dpi)
    return path


def animate_layers(
    path: str | Path,
    grid: ArrayLike | None = None,
    states: ArrayLike | None = None,
    labels: ArrayLike | None = None,
    *,
    fps: float = 4.0,
) -> Path:
    """Grid lines (layer, line, point, component) and/or data (layer, sample, component) moved
    layer by layer through the network: one frame per layer l = 0 … L. Three components give
    a 3-D animation."""
    if grid is None and states is None:
        raise ValueError("animate_layers needs grid= or states= (or both)")
    g = None if grid is None else _array(grid, "grid", 4, "layer, line, point, component")
    s = None if states is None else _array(states, "states", 3, "layer, sample, component")
    ref = g if g is not None else s
    assert ref is not None
    if g is not None and s is not None and g.shape[0] != s.shape[0]:
        raise ValueError(f"grid has {g.shape[0]} layers, states {s.shape[0]}: pass the same net's")
    c = ref.shape[-1]
    lims = _bounds([a.reshape(-1, c) for a in (g, s) if a is not None])

    def frame(ax: Axes, l: int) -> None:
        if g is not None:
            draw_grid(ax, g, layer=l)
        if s is not None:
            draw_propagation(ax, s, labels, layer=l, size=3)
        _fix(ax, lims)
        ax.set_title(f"layer {l}", fontsize=9)

    return save_gif(path, frame, ref.shape[0], fps=fps, projection="3d" if c == 3 else None)


def animate_training(
    path: str | Path,
    arrays: xr.Dataset,
    labels: ArrayLike | None = None,
    *,
    layer: int = -1,
    fps: float = 4.0,
) -> Path:
    """Φ̃(x, l, τ) at one layer over training time τ: one frame per recorded step, from
    :func:`history_arrays` (its ``grid`` and/or ``states``)."""
    if not isinstance(arrays, xr.Dataset) or not ({"grid", "states"} & set(arrays.data_vars)):
        raise ValueError("arrays must be a Dataset from history_arrays with grid or states")
    steps = np.asarray(arrays["step"].values)
    g = arrays["grid"].values if "grid" in arrays else None
    s = arrays["states"].values if "states" in arrays else None
    ref = g if g is not None else s
    assert ref is not None
    c = ref.shape[-1]
    lims = _bounds([a[:, layer].reshape(-1, c) for a in (g, s) if a is not None])

    def frame(ax: Axes, i: int) -> None:
        if g is not None:
            draw_grid(ax, g[i], layer=layer)
        if s is not None:
            draw_propagation(ax, s[i], labels, layer=layer, size=3)
        _fix(ax, lims)
        ax.set_title(f"training step {int(steps[i])}", fontsize=9)

    return save_gif(path, frame, len(steps), fps=fps, projection="3d" if c == 3 else None)


def _bounds(arrays: list[np.ndarray]) -> np.ndarray:
    pts = np.concatenate(arrays)
    lo, hi = np.nanmin(pts, axis=0), np.nanmax(pts, axis=0)
    pad = _pad(hi - lo)
    return np.stack([lo - pad, hi + pad])


def _fix(ax: Axes, lims: np.ndarray) -> None:
    ax.set_xlim(*lims[:, 0])
    ax.set_ylim(*lims[:, 1])
    if _is3d(ax):
        ax.set_zlim(*lims[:, 2])  # type: ignore[attr-defined]
    else:
        ax.set_aspect("equal")
