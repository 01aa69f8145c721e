"""Norms of the states along depth (thesis §8.1.3, Fig 8.3–8.6): how the size of z_l grows,
decays or dies with l for a given initialization."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from deepdyn import _checks
from deepdyn.analysis.regions import check_domain
from deepdyn.dynamics import Network


def activation_norms(net: Network, X: torch.Tensor) -> torch.Tensor:
    """|z_l(x)|, the Euclidean norm of every state at every sample: (layer, [ensemble,] sample)
    for l = 0 … L. Computed as the flow runs (``Network.layer_map``), so memory stays
    O(layer · sample) whatever the width."""
    with torch.no_grad():
        out = net.layer_map(X, lambda z: (z * z).sum(-1).sqrt())  # fast on the flow's layout
    return out.squeeze(1) if net.ensemble is None else out  # (layer, [ensemble,] sample)


def quadrature_grid(
    domain: Sequence[float] | Sequence[Sequence[float]],
    dim: int,
    points: int,
    dtype: torch.dtype = torch.float64,
) -> tuple[torch.Tensor, float]:
    """Midpoint-rule nodes on an interval or a box — (sample, input) — and the weight of each
    node (the cell length or area). Error O(h²) for smooth integrands."""
    box = check_domain(domain, dim)
    n = _checks.integer("points", points)
    axes = []
    weight = 1.0
    for lo, hi in box:
        h = (hi - lo) / n
        axes.append(torch.linspace(lo + h / 2, hi - h / 2, n, dtype=dtype))
        weight *= h
    grid = torch.stack(torch.meshgrid(*axes, indexing="ij"), -1).reshape(-1, dim)
    return grid, weight


def function_norms(
    net: Network,
    domain: Sequence[float] | Sequence[Sequence[float]] = (-1.0, 1.0),
    *,
    points: int = 512,
) -> torch.Tensor:
    """‖z_l‖_{L²(D)} = (∫_D |z_l(x)|² dx)^{1/2} for l = 0 … L — the L² norm of the
    intermediate activations over the input domain of thesis Fig 8.3–8.5 — by the midpoint rule
    with ``points`` nodes per axis. Returns (layer, [ensemble]).

    domain: an interval (1 input) or a box (2 inputs).
    """
    if net.in_features > 2:
        raise ValueError(
            f"function_norms integrates over an interval or a box: in_features must be 1 or 2, "
            f"got {net.in_features}; use activation_norms on samples instead"
        )
    dtype = next(net.parameters()).dtype
    grid, w = quadrature_grid(domain, net.in_features, points, dtype=dtype)
    with torch.no_grad():
        sq = net.layer_map(grid, lambda z: (z * z).sum(-1).sum(-1))  # (layer, ensemble)
    out = (sq * w).sqrt()
    return out.squeeze(1) if net.ensemble is None else out
