"""Shared pieces of the flow_* catalogue entries (thesis ch. 10, App. D): ring data, training
an ensemble of seeds, per-member accuracy, and the topology of a decision region."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import xarray as xr
from scipy import ndimage

import deepdyn
from deepdyn.dynamics import Network
from deepdyn.experiments import Progress


def ring_data(n_train: int, n_test: int, seed: int) -> tuple[torch.Tensor, ...]:
    """Thesis §10.1 rings (disk of radius 0.5 inside the annulus 0.7 < |x| < 1), float64:
    a training and an independent test draw, (sample, input) and (sample,)."""
    X, y = deepdyn.data.rings(n_train, seed=seed, dtype=torch.float64)
    Xt, yt = deepdyn.data.rings(n_test, seed=seed + 10_000, dtype=torch.float64)
    return X, y, Xt, yt


def accuracy(net: Network, X: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """:func:`deepdyn.train.accuracy` of ``net`` on (X, y) as numpy, per member: (ensemble,)."""
    with torch.no_grad():
        return np.atleast_1d(deepdyn.train.accuracy(net(X), y).numpy())


def train(
    net: Network,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    steps: int,
    lr: float,
    progress: Progress | None,
    offset: int,
    total: int,
    label: str,
) -> np.ndarray:
    """Adam on binary cross-entropy (thesis App. D); returns the loss curve (iteration,
    [ensemble]). Progress counts ``offset + step`` of ``total``."""
    relay: Callable[[int, int, str], None] | None = None
    if progress is not None:
        p = progress

        def relay(done: int, _total: int, message: str) -> None:
            p(offset + done, total, f"{label}: {message}")

    hist = deepdyn.fit(net, X, y, optimizer="adam", lr=lr, steps=steps, loss="bce",
                       progress=relay)  # fmt: skip
    return hist.loss.numpy()


def enclosed(levels: xr.DataArray, point: tuple[float, float] = (0.0, 0.0)) -> bool:
    """Whether the connected piece of the class-0 region {ŷ < 0.5} that holds ``point`` stays
    inside the mesh window (touches none of its edges), i.e. class 1 surrounds it.

    A homeomorphism Φ of the plane followed by a linear classifier cannot do that: the region is
    Φ⁻¹ of an open half-plane, which is unbounded (thesis Prop. 10.1.1, NOTES.md item 4). If
    ``point`` is classified 1 the answer is False. Resolution: one mesh cell."""
    ydim, xdim = levels.dims
    gx, gy = levels[xdim].values, levels[ydim].values
    i, j = int(np.abs(gy - point[1]).argmin()), int(np.abs(gx - point[0]).argmin())
    zero = np.asarray(levels.values) < 0.5
    if not zero[i, j]:
        return False
    lab, _ = ndimage.label(zero)  # 4-connectivity: a channel must be at least a cell wide
    comp = lab == lab[i, j]
    edge = comp[0].any() or comp[-1].any() or comp[:, 0].any() or comp[:, -1].any()
    return not bool(edge)


def step_lipschitz(net: Network) -> np.ndarray:
    """max_l h_l ‖A_l‖₂ per member, (ensemble,): for a perceptron field tanh(A z + b) a value
    below 1 makes every residual step z ↦ z + h f(z) invertible (Behrmann et al. 2019; NOTES.md
    item 1), so the ResNet is a homeomorphism."""
    out = np.zeros(net.members)
    for l in range(net.depth):
        (sub,) = net.field.sublayers(l)
        s = torch.linalg.matrix_norm(sub.weight.detach(), ord=2).numpy()  # (ensemble,)
        out = np.maximum(out, net.h[l] * s)
    return out


def fold_fraction(
    net: Network, *, lo: float = -1.0, hi: float = 1.0, resolution: int = 61
) -> float:
    """Fraction of a mesh over [lo, hi]² where det ∂Φ(x, L)/∂x ≤ 0, for a width-2 flow of one
    network. A flow of an ODE has det > 0 everywhere (Liouville); a positive fraction means the
    map folds the plane, so it is no homeomorphism onto its image (thesis Thm 7.1.1, NOTES.md
    items 1 and 3). The Jacobian comes from autograd, one backward pass per output component."""
    u = torch.linspace(lo, hi, resolution, dtype=next(net.parameters()).dtype)
    x = torch.cartesian_prod(u, u).requires_grad_(True)  # (sample, input)
    z = net.flow(x)  # (sample, component)
    if z.shape[-1] != 2:
        raise ValueError(f"fold_fraction needs a width-2 flow, got width {z.shape[-1]}")
    rows = [torch.autograd.grad(z[:, c].sum(), x, retain_graph=True)[0] for c in range(2)]
    det = rows[0][:, 0] * rows[1][:, 1] - rows[0][:, 1] * rows[1][:, 0]  # (sample,)
    return float((det <= 0).double().mean())
