"""The arrays behind the pictures: grids pushed through the flow, level sets, layer fields.

Every function here computes; none draws. The results are ``xarray.DataArray`` objects with dims
in the docs/design.md vocabulary (``step``, ``layer``, ``sample``, ``component``) plus ``line`` and
``point`` for grid lines and ``gy``/``gx`` for meshes over the input square.
"""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from deepdyn import _checks
from deepdyn.dynamics import Network
from deepdyn.trajectory import History


def _single(net: Network, what: str) -> None:
    if not isinstance(net, Network):
        raise ValueError(f"{what} needs a deepdyn Network, got {type(net).__name__}")
    if net.ensemble is not None:
        raise ValueError(
            f"{what} draws one network, got an ensemble of {net.members}: pass net.member(k) "
            f"with k in 0 … {net.members - 1}"
        )


def _square(lo: float, hi: float) -> tuple[float, float]:
    lo, hi = float(lo), float(hi)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"the square needs finite lo < hi, got lo={lo}, hi={hi}")
    return lo, hi


def _dtype(net: Network) -> torch.dtype:
    return next(net.parameters()).dtype


def _needs_inputs(net: Network, d: int, what: str) -> None:
    if net.in_features != d:
        raise ValueError(
            f"{what} draws a {d}-D input space, the network has in_features = {net.in_features}: "
            f"use a network with {d} inputs"
        )


def grid_lines(
    lines: int = 11,
    points: int = 100,
    *,
    lo: float = -1.0,
    hi: float = 1.0,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """A lattice of lines over the square [lo, hi]²: (line, point, input) with 2·``lines`` lines.

    Lines 0 … lines−1 are horizontal (x₂ fixed, x₁ runs over ``points`` values), lines
    ``lines`` … 2·lines−1 vertical (x₁ fixed). Pushed through a network, they draw the
    coordinate transformation Φ(·, l) of thesis §7.1 (Fig D.1, D.3, D.5, D.6).
    """
    n = _checks.integer("lines", lines, minimum=2)
    m = _checks.integer("points", points, minimum=2)
    lo, hi = _square(lo, hi)
    level = torch.linspace(lo, hi, n, dtype=dtype)  # (line,)
    run = torch.linspace(lo, hi, m, dtype=dtype)  # (point,)
    horizontal = torch.stack(torch.broadcast_tensors(run[None, :], level[:, None]), dim=-1)
    vertical = torch.stack(torch.broadcast_tensors(level[:, None], run[None, :]), dim=-1)
    return torch.cat([horizontal, vertical])  # (line, point, input)


def deform_grid(net: Network, grid: torch.Tensor) -> xr.DataArray:
    """The grid lines at every layer: Φ(g, l) for each grid point g (thesis eq. 3.8).

    One ``net.trajectory`` call on all points. ``grid``: (line, point, input), e.g. from
    :func:`grid_lines`. Returns (layer, line, point, component) with a ``time`` coordinate
    (the layer times t_l; for ``ode`` networks only the states at the layer knots).
    """
    _single(net, "deform_grid")
    if not isinstance(grid, torch.Tensor) or grid.dim() != 3:
        shape = tuple(grid.shape) if isinstance(grid, torch.Tensor) else type(grid).__name__
        raise ValueError(f"grid must be a (line, point, input) tensor, got {shape}")
    if grid.shape[0] == 0 or grid.shape[1] == 0:
        raise ValueError(
            f"grid is empty ({grid.shape[0]} lines × {grid.shape[1]} points): build one with "
            "grid_lines(lines ≥ 2, points ≥ 2)"
        )
    _needs_inputs(net, grid.shape[-1], "deform_grid")
    n_line, n_point = grid.shape[:2]
    flat = grid.reshape(-1, grid.shape[-1]).to(_dtype(net))  # (sample, input)
    with torch.no_grad():
        tr = net.trajectory(flat).at_layers()
    states = tr.states.reshape(tr.states.shape[0], n_line, n_point, -1)  # (layer, line, point, C)
    return xr.DataArray(
        states.cpu().numpy(),
        dims=("layer", "line", "point", "component"),
        coords={"layer": np.arange(states.shape[0]), "time": ("layer", tr.times.numpy())},
        name="grid",
    )


def propagate(net: Network, X: torch.Tensor) -> xr.DataArray:
    """The data at every layer, Φ(x, l) (thesis eq. 3.8, Fig D.5, D.6): (layer, sample,
    component), the trajectory states at the layer times."""
    _single(net, "propagate")
    if not isinstance(X, torch.Tensor) or X.dim() != 2 or X.shape[0] == 0:
        shape = tuple(X.shape) if isinstance(X, torch.Tensor) else type(X).__name__
        raise ValueError(f"X must be a non-empty (sample, input) tensor, got {shape}")
    _needs_inputs(net, X.shape[1], "propagate")
    with torch.no_grad():
        tr = net.trajectory(X.to(_dtype(net))).at_layers()
    return xr.DataArray(
        tr.states.cpu().numpy(),
        dims=("layer", "sample", "component"),
        coords={"layer": np.arange(tr.states.shape[0]), "time": ("layer", tr.times.numpy())},
        name="states",
    )


def _mesh(
    lo: float, hi: float, resolution: int, dtype: torch.dtype
) -> tuple[np.ndarray, torch.Tensor]:
    u = np.linspace(lo, hi, resolution)
    gx, gy = np.meshgrid(u, u, indexing="xy")  # (gy, gx)
    pts = torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], axis=-1)).to(dtype)  # (sample, 2)
    return u, pts


def level_sets(
    net: Network,
    *,
    lo: float = -1.0,
    hi: float = 1.0,
    resolution: int = 200,
    output: int = 0,
) -> xr.DataArray:
    """The classifier's output ŷ = g(W z_L + μ) (thesis Def. 5.0.1) on a square mesh of the
    2-D input space: (gy, gx) with coordinates ``gx``, ``gy`` (value [i, j] is at
    x = (gx[j], gy[i])). Its level sets are thesis Fig 10.2–10.4, A.1, D.2, D.4."""
    _single(net, "level_sets")
    _needs_inputs(net, 2, "level_sets")
    lo, hi = _square(lo, hi)
    r = _checks.integer("resolution", resolution, minimum=2)
    u, pts = _mesh(lo, hi, r, _dtype(net))
    with torch.no_grad():
        out = net(pts)  # (sample, output)
    if not 0 <= output < out.shape[-1]:
        raise ValueError(f"output {output} out of range: choose 0 … {out.shape[-1] - 1}")
    values = out[:, output].reshape(r, r).cpu().numpy()
    return xr.DataArray(values, dims=("gy", "gx"), coords={"gx": u, "gy": u}, name="output")


def layer_field(
    net: Network, layer: int, *, lo: float = -1.0, hi: float = 1.0, resolution: int = 21
) -> xr.DataArray:
    """The vector field of layer l on a mesh of the 2-D state plane: (gy, gx, component).

    For residual schemes it is the velocity f_l(z) of z_{l+1} = z_l + h_l f_l(z_l) (thesis
    eq. 7.8) and dz/dt = f_l(z) (eq. 5.7); for ``map`` (MLP) the displacement f_l(z) − z of
    one layer z ↦ σ(A_l z + b_l) (eq. 3.7). Needs states of width 2 at layers l and l + 1.
    """
    _single(net, "layer_field")
    L = net.depth
    if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer < L:
        raise ValueError(f"layer {layer!r} out of range: choose 0 … {L - 1} (the field's layers)")
    w_in, w_out = net.field.widths[layer], net.field.widths[layer + 1]
    if (w_in, w_out) != (2, 2):
        raise ValueError(
            f"layer_field draws 2-D fields, layer {layer} maps width {w_in} to {w_out}: "
            "choose a layer between two states of width 2"
        )
    lo, hi = _square(lo, hi)
    r = _checks.integer("resolution", resolution, minimum=2)
    u, pts = _mesh(lo, hi, r, _dtype(net))
    with torch.no_grad():
        f = net.field(layer, pts.unsqueeze(0))[0]  # (sample, component)
        if net.scheme == "map":
            f = f - pts
    return xr.DataArray(
        f.reshape(r, r, 2).cpu().numpy(),
        dims=("gy", "gx", "component"),
        coords={"gx": u, "gy": u},
        name="field",
    )


def history_arrays(history: History, *, grid_shape: tuple[int, int] | None = None) -> xr.Dataset:
    """Φ̃(x, l, τ) of a :class:`~deepdyn.History` (thesis eq. 3.9) as arrays for the views.

    The probe given to ``fit`` is split: its first line·point samples are a grid of
    ``grid_shape = (line, point)`` (omit when the probe has no grid), the rest are data.
    Returns ``grid`` (step, layer, line, point, component) and/or ``states`` (step, layer,
    sample, component), with the ``step`` coordinate τ and the ``loss`` curve (iteration).
    """
    if not isinstance(history, History) or history.states is None:
        raise ValueError("history_arrays needs a History with snapshots: pass probe= to fit")
    if history.ensemble is not None:
        raise ValueError(
            f"history_arrays draws one network, got an ensemble of {history.ensemble}: "
            "train a single network"
        )
    s = history.states.detach().cpu().numpy()  # (step, layer, sample, component)
    n = s.shape[2]
    data: dict[str, tuple[tuple[str, ...], np.ndarray]] = {
        "loss": (("iteration",), history.loss.detach().cpu().numpy())
    }
    if grid_shape is not None:
        lines, points = (_checks.integer(k, v) for k, v in zip(("line", "point"), grid_shape))
        if lines * points > n:
            raise ValueError(
                f"grid_shape {lines}×{points} needs {lines * points} probe samples, "
                f"the probe has {n}: pass the grid's (line, point) shape"
            )
        g = s[:, :, : lines * points].reshape(*s.shape[:2], lines, points, s.shape[-1])
        data["grid"] = (("step", "layer", "line", "point", "component"), g)
        s = s[:, :, lines * points :]
    if s.shape[2] > 0:
        data["states"] = (("step", "layer", "sample", "component"), s)
    return xr.Dataset(data, coords={"step": np.asarray(history.snapshot_steps)})
