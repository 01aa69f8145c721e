"""Exact linear regions: Zaslavsky's formula, Serra's bound, tent maps, and the stored affine
maps against the network itself (float64)."""

import math

import numpy as np
import pytest
import torch

from deepdyn import MLP, ResNet
from deepdyn.analysis import (
    activation_patterns,
    count_linear_regions,
    count_patterns,
    linear_regions,
    serra_bound,
    tent_map_layers,
    zaslavsky,
)

D = torch.float64


def _lines_in_general_position(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    W, b = rng.normal(size=(n, 2)), rng.normal(size=n)
    pts = [np.linalg.solve(W[[i, j]], -b[[i, j]]) for i in range(n) for j in range(i + 1, n)]
    pts = np.array(pts) if pts else np.zeros((1, 2))
    # a box holding every vertex (and, for one line, a point of it) strictly inside
    centre = pts.mean(0) if n > 1 else -b[0] * W[0] / (W[0] @ W[0])
    half = np.abs(pts - centre).max() * 1.5 + 1.0
    box = np.array([[centre[0] - half, centre[0] + half], [centre[1] - half, centre[1] + half]])
    return W, b, box


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13])
def test_one_layer_in_general_position_is_zaslavsky(n):
    for seed in range(3):
        W, b, box = _lines_in_general_position(n, seed)
        assert count_linear_regions([(W, b)], box) == zaslavsky(n, 2)
        assert zaslavsky(n, 2) == 1 + n + n * (n - 1) // 2
        assert serra_bound(2, [n]) == zaslavsky(n, 2)


def test_small_box_sees_fewer_regions_than_zaslavsky():
    W, b, box = _lines_in_general_position(8, 0)
    centre = box.mean(1)
    tiny = np.stack([centre - 1e-3, centre + 1e-3], 1)
    assert count_linear_regions([(W, b)], tiny) < zaslavsky(8, 2)


@pytest.mark.parametrize("L", [1, 2, 3, 5, 8])
def test_tent_maps_reach_two_to_the_l(L):
    r = linear_regions(tent_map_layers(L), (0.0, 1.0))
    assert r.count == 2**L
    assert r.linear_pieces() == 2**L
    assert r.count <= math.prod(n + 1 for n in r.widths) == serra_bound(1, r.widths)
    # the readout 2 z_1 − 4 z_2 on each piece is the L-fold tent map at its midpoint
    for cell, M, c in zip(r.cells, r.maps, r.offsets):
        x = cell.mean()
        t = x
        for _ in range(L):
            t = 2 * t if t <= 0.5 else 2 - 2 * t
        assert abs((2 * M[0, 0] - 4 * M[1, 0]) * x + 2 * c[0] - 4 * c[1] - t) < 1e-12


@pytest.mark.parametrize("widths", [[3, 4, 2], [5, 5, 5], [2, 2, 2, 2, 2, 2], [8, 1, 8]])
def test_interval_count_below_product_and_serra(widths):
    for seed in range(4):
        net = MLP(1, widths, len(widths), activation="relu", seed=seed, scale=2.0, dtype=D)
        r = linear_regions(net, (-3.0, 3.0))
        assert r.count <= math.prod(n + 1 for n in widths)
        assert r.count <= serra_bound(1, widths)
        assert r.linear_pieces() <= r.count
        assert abs(r.measures().sum() - 6.0) < 1e-12


def test_serra_bound_closed_forms():
    assert serra_bound(1, [3, 4, 2]) == 4 * 5 * 3
    assert serra_bound(1, [1, 1, 1]) == 4  # a width-1 chain: one breakpoint per layer at most
    assert serra_bound(3, [2]) == 4  # n_1 ≤ n_0: every pattern, 2^{n_1}
    assert serra_bound(2, [4, 4]) < 2**8


def _check_affine_maps(net, r, domain_dim, seed=0):
    rng = np.random.default_rng(seed)
    for cell, pat, M, c in zip(r.cells, r.patterns, r.maps, r.offsets):
        w = rng.dirichlet(np.ones(len(cell)), size=3)
        x = w @ cell  # points inside the convex cell
        with torch.no_grad():
            z = net.flow(torch.from_numpy(x)).numpy()
        assert np.abs(z - (x @ M.T + c)).max() < 1e-10
        assert (activation_patterns(net, x) == pat).all()


def test_box_regions_match_the_network():
    net = MLP(2, [6, 6, 6], 3, activation="relu", init="he", bias_init="normal", seed=3, dtype=D)
    r = linear_regions(net, ((-1.0, 1.0), (-1.0, 1.0)))
    _check_affine_maps(net, r, 2)
    assert abs(r.measures().sum() - 4.0) < 1e-10
    assert count_patterns(r.patterns) == r.count  # every region has its own pattern
    u = np.linspace(-1, 1, 300)
    grid = activation_patterns(net, np.stack(np.meshgrid(u, u), -1).reshape(-1, 2))
    seen = {p.tobytes() for p in np.packbits(grid, axis=1)}
    exact = {p.tobytes() for p in np.packbits(r.patterns, axis=1)}
    assert seen <= exact and len(seen) <= r.count


def test_residual_relu_regions_match_the_network():
    net = ResNet(2, 2, 6, activation="relu", readout=None, T=3.0, seed=1, scale=2.0, dtype=D)
    r = linear_regions(net, ((-2.0, 2.0), (-1.0, 1.0)))
    _check_affine_maps(net, r, 2)
    assert abs(r.measures().sum() - 8.0) < 1e-10
    net1 = ResNet(1, 3, 5, activation="relu", readout=None, lift="pad", seed=2, dtype=D)
    _check_affine_maps(net1, linear_regions(net1, (-2.0, 2.0)), 1)


def test_region_errors_are_one_line():
    with pytest.raises(ValueError, match=r"1 or 2 inputs .* got in_features=3") as e:
        count_linear_regions(MLP(3, 4, 2, activation="relu"), ((0, 1),) * 3)
    assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match=r"domain has shape \(2,\), expected \(\(x_lo"):
        count_linear_regions(MLP(2, 4, 2, activation="relu"), (-1.0, 1.0))
    with pytest.raises(ValueError, match="lo < hi"):
        count_linear_regions(MLP(1, 4, 2, activation="relu"), (1.0, -1.0))
    with pytest.raises(ValueError, match='activation="relu"'):
        count_linear_regions(MLP(1, 4, 2, activation="tanh"), (-1.0, 1.0))
    with pytest.raises(ValueError, match="member 5 out of range"):
        count_linear_regions(MLP(1, 4, 2, activation="relu", ensemble=2), (-1, 1), member=5)
    with pytest.raises(ValueError, match=r"layer 1: W takes 3 inputs, layer 0 gives 2"):
        count_linear_regions(
            [(np.ones((2, 1)), np.zeros(2)), (np.ones((2, 3)), np.zeros(2))], (0, 1)
        )
