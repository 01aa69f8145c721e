"""Tests of deepdyn.data: closed forms for the distributions, labels and f_m; seeds; validation."""

from __future__ import annotations

import math
import re

import pytest
import torch
from scipy import stats

from deepdyn import data
from deepdyn.data import (
    DATASETS,
    digits,
    gaussians,
    load,
    moons,
    oscillation,
    oscillation_function,
    rings,
    spheres,
    spirals,
    split,
    step,
    xor,
)

F64 = torch.float64
# generators with their default options, small n for speed (digits has a fixed size)
SMALL = {name: ({} if name == "digits" else {"n": 101}) for name in DATASETS}
CLASSES = {
    "rings": 2,
    "spheres": 2,
    "step": 2,
    "moons": 2,
    "spirals": 2,
    "xor": 2,
    "gaussians": 2,
    "digits": 10,
}


def test_public_api_is_explicit():
    assert sorted(data.__all__) == sorted(
        [*DATASETS, "DATASETS", "load", "split", "oscillation_function"]
    )
    assert set(DATASETS) == {
        "rings",
        "spheres",
        "step",
        "oscillation",
        "moons",
        "spirals",
        "xor",
        "gaussians",
        "digits",
    }


# --- seeds, shapes, dtypes -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_same_seed_gives_identical_tensors(name):
    X1, y1 = load(name, seed=3, **SMALL[name])
    X2, y2 = load(name, seed=3, **SMALL[name])
    assert torch.equal(X1, X2)
    assert torch.equal(y1, y2)


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("rings", {}),
        ("spheres", {}),
        ("step", {}),
        ("oscillation", {"grid": False}),
        ("moons", {}),
        ("spirals", {}),
        ("xor", {}),
        ("gaussians", {}),
        ("digits", {"n": 100}),
    ],
)
def test_different_seeds_give_different_tensors(name, options):
    options = {**SMALL[name], **options}
    X1, _ = load(name, seed=0, **options)
    X2, _ = load(name, seed=1, **options)
    assert X1.shape == X2.shape
    assert not torch.equal(X1, X2)


def test_randomness_is_local():
    torch.manual_seed(0)
    before = torch.rand(3)
    torch.manual_seed(0)
    rings(50, seed=5)
    assert torch.equal(torch.rand(3), before)  # the global generator was not touched


@pytest.mark.parametrize("name", sorted(CLASSES))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_classification_shapes_and_dtypes(name, dtype):
    X, y = load(name, dtype=dtype, **SMALL[name])
    n = 1797 if name == "digits" else 101
    inputs = {"rings": 2, "spheres": 3, "step": 1, "digits": 64}.get(name, 2)
    assert X.shape == (n, inputs)
    assert X.dtype == dtype
    assert y.shape == (n,)
    assert y.dtype == torch.int64
    assert set(y.tolist()) <= set(range(CLASSES[name]))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_oscillation_is_regression_with_float_targets(dtype):
    X, y = oscillation(37, m=2, dtype=dtype)
    assert X.shape == (37, 1) and y.shape == (37, 1)
    assert X.dtype == dtype and y.dtype == dtype


def test_dtype_changes_only_the_rounding():
    X32, y32 = rings(200, seed=4, dtype=torch.float32)
    X64, y64 = rings(200, seed=4, dtype=F64)
    assert torch.equal(y32, y64)
    torch.testing.assert_close(X32.to(F64), X64, rtol=0, atol=1e-7)


@pytest.mark.parametrize(("n", "zeros"), [(10, 5), (11, 5), (1, 0)])
def test_balanced_two_class_counts_give_the_rest_to_class_1(n, zeros):
    for generate in (rings, spheres, moons, spirals):
        _, y = generate(n)
        assert int((y == 0).sum()) == zeros
        assert int((y == 1).sum()) == n - zeros


# --- rings and spheres ------------------------------------------------------------------------


def _radii(X):
    return X.to(F64).norm(dim=1)


@pytest.mark.parametrize(("a", "b"), [(0.5, 0.7), (0.3, 0.35), (0.9, 0.95)])
def test_rings_regions(a, b):
    X, y = rings(5000, a=a, b=b, seed=1, dtype=F64)
    r = _radii(X)
    assert (r[y == 0] < a).all()
    assert ((r[y == 1] > b) & (r[y == 1] < 1)).all()
    assert (X.abs() <= 1).all()


def test_rings_default_radii():
    X, y = rings(4000)
    r = _radii(X)
    assert r[y == 0].max() < 0.5 < r[y == 0].max() + 0.01  # a = 0.5 is reached closely
    assert 0.7 < r[y == 1].min() < 0.71  # b = 0.7


def test_rings_are_uniform_in_area():
    a, b = 0.5, 0.7
    X, y = rings(20000, a=a, b=b, seed=0, dtype=F64)
    r2 = _radii(X) ** 2
    # area-uniform on a disk / annulus  ⇔  r² uniform on (r0², r1²)
    assert stats.kstest(r2[y == 0].numpy(), stats.uniform(0, a**2).cdf).pvalue > 1e-3
    assert stats.kstest(r2[y == 1].numpy(), stats.uniform(b**2, 1 - b**2).cdf).pvalue > 1e-3
    # fraction of the annulus inside the mid radius: area ratio, within 4 binomial σ
    mid = (b + 1) / 2
    p = (mid**2 - b**2) / (1 - b**2)
    outer = r2[y == 1]
    assert abs(float((outer < mid**2).double().mean()) - p) < 4 * math.sqrt(p * (1 - p) / 10000)
    # angles uniform on (-π, π]
    angle = torch.atan2(X[:, 1], X[:, 0]).numpy()
    assert stats.kstest(angle, stats.uniform(-math.pi, 2 * math.pi).cdf).pvalue > 1e-3


def test_rings_unbalanced_draws_classes_by_area():
    a, b, n = 0.5, 0.7, 20000
    _, y = rings(n, a=a, b=b, balanced=False, seed=2)
    p0 = a**2 / (a**2 + 1 - b**2)  # πa² / (πa² + π(1 - b²))
    assert abs(float((y == 0).double().mean()) - p0) < 4 * math.sqrt(p0 * (1 - p0) / n)


@pytest.mark.parametrize("dim", [3, 5])
def test_spheres_are_uniform_in_volume(dim):
    a, b = 0.4, 0.8
    X, y = spheres(20000, dim=dim, a=a, b=b, seed=0, dtype=F64)
    assert X.shape == (20000, dim)
    r = _radii(X)
    assert (r[y == 0] < a).all()
    assert ((r[y == 1] > b) & (r[y == 1] < 1)).all()
    assert (X.abs() <= 1).all()
    # volume-uniform  ⇔  r^dim uniform on (r0^dim, r1^dim)
    inner = stats.uniform(0, a**dim).cdf
    outer = stats.uniform(b**dim, 1 - b**dim).cdf
    assert stats.kstest((r[y == 0] ** dim).numpy(), inner).pvalue > 1e-3
    assert stats.kstest((r[y == 1] ** dim).numpy(), outer).pvalue > 1e-3
    # directions uniform on the sphere: each coordinate of u = x/|x| has mean 0, E[u_i²] = 1/dim
    u = X / r[:, None]
    assert u.mean(0).abs().max() < 4 / math.sqrt(20000)
    torch.testing.assert_close(
        (u**2).mean(0), torch.full((dim,), 1 / dim, dtype=F64), rtol=0, atol=0.02
    )


def test_sphere_directions_in_3d_follow_archimedes():
    # on S², each coordinate of a uniform direction is uniform on [-1, 1] (Archimedes)
    X, _ = spheres(20000, dim=3, seed=7, dtype=F64)
    u = X / _radii(X)[:, None]
    for i in range(3):
        assert stats.kstest(u[:, i].numpy(), stats.uniform(-1, 2).cdf).pvalue > 1e-3


def test_spheres_unbalanced_draws_classes_by_volume():
    a, b, n, dim = 0.5, 0.7, 20000, 3
    _, y = spheres(n, dim=dim, a=a, b=b, balanced=False, seed=3)
    p0 = a**dim / (a**dim + 1 - b**dim)
    assert abs(float((y == 0).double().mean()) - p0) < 4 * math.sqrt(p0 * (1 - p0) / n)


# --- step and oscillation ---------------------------------------------------------------------


def test_step_labels_are_the_indicator_of_x_positive():
    X, y = step(1000, seed=3)
    assert ((X >= -1) & (X <= 1)).all()
    assert torch.equal(y, (X[:, 0] > 0).long())
    assert 0 < int(y.sum()) < 1000


def test_step_grid_is_evenly_spaced_and_sorted():
    X, y = step(5, grid=True, dtype=F64)
    assert torch.equal(X[:, 0], torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0], dtype=F64))
    assert y.tolist() == [0, 0, 0, 1, 1]  # 1_{x > 0}: x = 0 is class 0


def test_step_noise_moves_inputs_not_labels():
    X0, y0 = step(200, grid=True, dtype=F64)
    X1, y1 = step(200, grid=True, dtype=F64, noise=0.1)
    assert torch.equal(y0, y1)
    assert 0.05 < float((X1 - X0).std()) < 0.15


# hand-computed from App. C: I_1 = [-1, -1 + 1/m], I_{i+1} = I_i + 1/m, f_m = 1 on odd I_i
OSCILLATION_POINTS = [
    (1, [-1.0, -0.5, -0.01, 0.01, 0.5, 1.0], [1, 1, 1, 0, 0, 0]),
    (2, [-1.0, -0.75, -0.25, 0.25, 0.75, 1.0], [1, 1, 0, 1, 0, 0]),
    (3, [-0.9, -0.5, -0.2, 0.1, 0.5, 0.9], [1, 0, 1, 0, 1, 0]),
    (4, [-0.9, -0.6, -0.4, -0.1, 0.1, 0.4, 0.6, 0.9], [1, 0, 1, 0, 1, 0, 1, 0]),
]


@pytest.mark.parametrize(("m", "x", "expected"), OSCILLATION_POINTS)
def test_oscillation_function_at_hand_computed_points(m, x, expected):
    fx = oscillation_function(torch.tensor(x, dtype=F64), m)
    assert fx.dtype == F64
    assert fx.tolist() == [float(e) for e in expected]


@pytest.mark.parametrize("m", [1, 2, 5])
def test_oscillation_switches_2m_minus_1_times(m):
    X, y = oscillation(2001, m=m, dtype=F64)
    assert torch.equal(X[:, 0], torch.linspace(-1, 1, 2001, dtype=F64))
    assert int((y[1:] != y[:-1]).sum()) == 2 * m - 1
    assert y[0].item() == 1.0 and y[-1].item() == 0.0
    # each of the 2m intervals has length 1/m, i.e. about 2000 / (2m) grid steps
    jumps = torch.nonzero(y[1:, 0] != y[:-1, 0]).flatten()
    expected = torch.tensor([1000 * k / m for k in range(1, 2 * m)], dtype=F64)
    assert (jumps.to(F64) - expected).abs().max() <= 1


def test_oscillation_random_inputs():
    X, y = oscillation(300, m=3, grid=False, seed=5, dtype=F64)
    assert ((X >= -1) & (X <= 1)).all()
    assert not torch.equal(X[:, 0], X[:, 0].sort().values)
    k = torch.floor(3 * (X[:, 0] + 1))
    assert torch.equal(y[:, 0], (k % 2 == 0).to(F64))


def test_oscillation_function_keeps_shape():
    x = torch.linspace(-1, 1, 12).reshape(3, 4)
    assert oscillation_function(x, 2).shape == (3, 4)


# --- moons, spirals, xor, gaussians -----------------------------------------------------------


def test_moons_lie_on_the_rescaled_half_circles():
    X, y = moons(500, noise=0.0, seed=2, dtype=F64)
    p = 1.5 * X + torch.tensor([0.5, 0.25], dtype=F64)  # undo the rescaling
    outer, inner = p[y == 0], p[y == 1]
    torch.testing.assert_close(outer.norm(dim=1), torch.ones(len(outer), dtype=F64))
    assert (outer[:, 1] >= 0).all()
    centre = torch.tensor([1.0, 0.5], dtype=F64)
    torch.testing.assert_close((centre - inner).norm(dim=1), torch.ones(len(inner), dtype=F64))
    assert (inner[:, 1] <= 0.5).all()
    assert (X[:, 0].abs() <= 1).all() and (X[:, 1].abs() <= 0.5 + 1e-12).all()


def test_moons_noise_has_the_given_std():
    X0, _ = moons(4000, noise=0.0, seed=1, dtype=F64)
    X1, _ = moons(4000, noise=0.2, seed=1, dtype=F64)
    # the noiseless points are the same draws; the noise makes points leave the curves
    assert X1.shape == X0.shape and not torch.equal(X0, X1)
    p = 1.5 * X1 + torch.tensor([0.5, 0.25], dtype=F64)
    assert (p.norm(dim=1) - 1).abs().mean() > 0.05


@pytest.mark.parametrize("turns", [0.5, 1.5, 3.0])
def test_spirals_follow_the_archimedean_spiral(turns):
    X, y = spirals(800, turns=turns, noise=0.0, seed=1, dtype=F64)
    r = _radii(X)
    assert (r < 1).all()
    theta = torch.atan2(X[:, 1], X[:, 0])
    expected = 2 * math.pi * turns * r + math.pi * y.to(F64)
    wrapped = torch.remainder(theta - expected + math.pi, 2 * math.pi) - math.pi
    assert wrapped.abs().max() < 1e-9


def test_xor_labels_are_the_sign_of_x1_x2():
    X, y = xor(2000, seed=4)
    assert (X.abs() <= 1).all()
    assert torch.equal(y, (X[:, 0] * X[:, 1] < 0).long())
    for sx in (-1, 1):  # every quadrant is populated
        for sy in (-1, 1):
            assert ((X[:, 0] * sx > 0) & (X[:, 1] * sy > 0)).sum() > 400


def test_gaussians_default_centres_and_std():
    n, k, std = 30000, 3, 0.1
    X, y = gaussians(n, centers=k, std=std, seed=0, dtype=F64)
    assert set(y.tolist()) == {0, 1, 2}
    for j in range(k):
        centre = 0.5 * torch.tensor(
            [math.cos(2 * math.pi * j / k), math.sin(2 * math.pi * j / k)], dtype=F64
        )
        members = X[y == j]
        assert len(members) == n // k
        torch.testing.assert_close(members.mean(0), centre, rtol=0, atol=4 * std / 100)
        torch.testing.assert_close(
            members.std(0), torch.full((2,), std, dtype=F64), rtol=0.05, atol=0
        )


def test_gaussians_explicit_centres():
    centres = [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [-1.0, 2.0, 0.0], [3.0, 0.0, -3.0]]
    X, y = gaussians(400, centers=centres, std=0.0, seed=1, dtype=F64)
    assert X.shape == (400, 3)
    assert torch.equal(X, torch.tensor(centres, dtype=F64)[y])


# --- digits -----------------------------------------------------------------------------------


def test_digits_shapes_and_range():
    X, y = digits()
    assert X.shape == (1797, 64) and X.dtype == torch.float32
    assert y.shape == (1797,) and y.dtype == torch.int64
    assert X.min() == 0 and X.max() == 1
    assert set(y.tolist()) == set(range(10))
    raw, _ = digits(normalize=False, dtype=F64)
    assert torch.equal(raw, torch.round(raw)) and raw.max() == 16
    torch.testing.assert_close(X, (raw / 16).float())


def test_digits_subsample_is_a_seeded_subset():
    X, y = digits(dtype=F64)
    Xs, ys = digits(n=50, seed=3, dtype=F64)
    assert Xs.shape == (50, 64) and ys.shape == (50,)
    # every subsampled row is a row of the full set with the same label
    match = (Xs[:, None, :] == X[None, :, :]).all(-1)  # (sample, full)
    assert match.any(1).all()
    rows = match.float().argmax(1)
    assert torch.equal(y[rows], ys)
    assert len(set(rows.tolist())) == 50  # without replacement


# --- split ------------------------------------------------------------------------------------


def _rows(X):
    return {tuple(row.tolist()) for row in X}


def test_split_sizes_disjoint_and_complete():
    X, y = rings(1000, seed=1, dtype=F64)
    X_train, y_train, X_test, y_test = split(X, y, test=0.25, seed=0)
    assert len(X_train) == len(y_train) == 750
    assert len(X_test) == len(y_test) == 250
    assert not _rows(X_train) & _rows(X_test)
    assert _rows(X_train) | _rows(X_test) == _rows(X)
    # pairs (x, y) are kept together
    lookup = {tuple(row.tolist()): int(c) for row, c in zip(X, y)}
    assert all(lookup[tuple(r.tolist())] == int(c) for r, c in zip(X_test, y_test))


def test_split_uses_ceil_for_the_test_size():
    X, y = step(10, grid=True)
    assert len(split(X, y, test=0.2)[2]) == 2
    assert len(split(X, y, test=0.25)[2]) == 3  # ⌈2.5⌉


def test_split_is_stratified():
    # 900 of class 0, 60 of class 1, 40 of class 2: a plain random split would drift
    y = torch.cat([torch.zeros(900), torch.ones(60), torch.full((40,), 2.0)]).long()
    X = torch.arange(1000, dtype=F64)[:, None]
    for seed in range(5):
        _, y_train, _, y_test = split(X, y, test=0.2, seed=seed)
        assert torch.bincount(y_test, minlength=3).tolist() == [180, 12, 8]
        assert torch.bincount(y_train, minlength=3).tolist() == [720, 48, 32]


def test_split_stratified_rounds_by_largest_remainder():
    y = torch.tensor([0] * 5 + [1] * 6)
    X = torch.arange(11, dtype=F64)[:, None]
    _, _, _, y_test = split(X, y, test=0.3)  # ⌈3.3⌉ = 4 test samples; 1.5 and 1.8 → 2 and 2
    assert torch.bincount(y_test).tolist() == [2, 2]


def test_split_is_deterministic_and_seeded():
    X, y = moons(300, seed=1)
    first = split(X, y, seed=4)
    again = split(X, y, seed=4)
    other = split(X, y, seed=5)
    assert all(torch.equal(p, q) for p, q in zip(first, again))
    assert not torch.equal(first[2], other[2])


def test_split_regression_targets_without_strata():
    X, y = oscillation(100, m=2, dtype=F64)
    X_train, y_train, X_test, y_test = split(X, y, test=0.3, seed=2)
    assert X_train.shape == (70, 1) and y_train.shape == (70, 1)
    assert X_test.shape == (30, 1) and y_test.shape == (30, 1)
    torch.testing.assert_close(y_test, oscillation_function(X_test, 2))


def test_split_without_stratify_still_partitions():
    X, y = xor(200, seed=2, dtype=F64)
    X_train, _, X_test, _ = split(X, y, test=0.5, stratify=False)
    assert len(X_train) == len(X_test) == 100
    assert _rows(X_train) | _rows(X_test) == _rows(X)


# --- validation -------------------------------------------------------------------------------


BAD_INPUTS = [
    (rings, {"n": 0}, "n must be ≥ 1, got 0"),
    (rings, {"n": -5}, "got -5"),
    (rings, {"n": 2.5}, "got 2.5"),
    (rings, {"a": 0.8, "b": 0.7}, "a=0.8"),
    (rings, {"a": 0.7, "b": 0.7}, "a=0.7"),
    (rings, {"a": 0.0}, "got 0.0"),
    (rings, {"a": -0.1}, "got -0.1"),
    (rings, {"b": 1.0}, "got 1.0"),
    (rings, {"b": 1.5}, "got 1.5"),
    (rings, {"dtype": torch.int64}, "got torch.int64"),
    (rings, {"seed": -1}, "got -1"),
    (spheres, {"dim": 0}, "dim must be ≥ 1, got 0"),
    (spheres, {"n": 0}, "got 0"),
    (spheres, {"a": 0.9, "b": 0.5}, "a=0.9"),
    (spheres, {"b": 1.0}, "got 1.0"),
    (step, {"n": 0}, "got 0"),
    (step, {"noise": -0.1}, "got -0.1"),
    (oscillation, {"n": 0}, "got 0"),
    (oscillation, {"m": 0}, "m must be ≥ 1, got 0"),
    (moons, {"noise": -1.0}, "got -1.0"),
    (moons, {"n": 0}, "got 0"),
    (spirals, {"noise": -0.5}, "got -0.5"),
    (spirals, {"turns": 0.0}, "got 0.0"),
    (xor, {"noise": -0.2}, "got -0.2"),
    (xor, {"n": 0}, "got 0"),
    (gaussians, {"n": 0}, "got 0"),
    (gaussians, {"std": -0.3}, "got -0.3"),
    (gaussians, {"centers": 0}, "centers must be ≥ 1, got 0"),
    (gaussians, {"centers": [1.0, 2.0]}, "got shape (2,)"),
    (digits, {"n": 0}, "got 0"),
    (digits, {"n": 2000}, "got 2000"),
]


@pytest.mark.parametrize(("generate", "options", "message"), BAD_INPUTS)
def test_bad_inputs_raise_value_error_naming_the_value(generate, options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        generate(**options)


@pytest.mark.parametrize("test", [0.0, 1.0, -0.2, 1.5])
def test_split_rejects_test_outside_the_open_unit_interval(test):
    X, y = rings(20)
    with pytest.raises(ValueError, match=re.escape(f"test must be in (0, 1), got {test}")):
        split(X, y, test=test)


def test_split_rejects_mismatched_or_too_small_inputs():
    X, y = rings(20)
    with pytest.raises(ValueError, match=re.escape("(20, 2) and (19,)")):
        split(X, y[:-1])
    with pytest.raises(ValueError, match="empty part"):
        split(X[:1], y[:1])


def test_oscillation_function_rejects_bad_m():
    with pytest.raises(ValueError, match=re.escape("m must be ≥ 1, got -2")):
        oscillation_function(torch.zeros(3), -2)


def test_load_validates_the_name():
    with pytest.raises(ValueError, match='dataset "ringz" unknown: choose one of rings, spheres'):
        load("ringz")
    X, y = load("rings", n=10, seed=2)
    assert torch.equal(X, rings(10, seed=2)[0]) and torch.equal(y, rings(10, seed=2)[1])
