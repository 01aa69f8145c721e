"""Local complexity: sampled region counts in 2-D against the exact regions (their areas give
the expected count of a sample of M points and its standard deviation); Chao1 on known cases;
any input dimension."""

import math

import numpy as np
import pytest
import torch

import deepdyn
from deepdyn import experiments
from deepdyn.analysis import linear_regions
from deepdyn.analysis.complexity import chao1, local_complexity

D = torch.float64


def _net(seed=1, d=2):
    return deepdyn.MLP(
        d, 8, 3, activation="relu", init="he", bias_init="normal", dtype=D, seed=seed
    )


@pytest.mark.parametrize(("radius", "samples"), [(0.1, 100), (0.2, 400), (0.3, 1500)])
def test_sampled_count_within_its_sampling_error_of_the_exact_count(radius, samples):
    """For a box B with exact regions R of area fractions p_R, M uniform samples meet
    Σ_R 1 − (1 − p_R)^M regions on average, with variance ≤ Σ_R q_R (1 − q_R) (occupancy
    indicators of a multinomial are negatively correlated). Summed over 16 boxes, the sampled
    count lies within 4 of those standard deviations, and the sampled density tends to the exact
    one."""
    net = _net()
    X = torch.rand(16, 2, generator=torch.Generator().manual_seed(0), dtype=D) * 1.6 - 0.8
    lc = local_complexity(net, X, radius=radius, samples=samples, seed=3)
    expected, var, exact = 0.0, 0.0, 0
    for x in X.numpy():
        reg = linear_regions(net, ((x[0] - radius, x[0] + radius), (x[1] - radius, x[1] + radius)))
        p = reg.measures() / (2 * radius) ** 2
        assert abs(p.sum() - 1) < 1e-9
        q = 1 - (1 - p) ** samples
        expected += q.sum()
        var += (q * (1 - q)).sum()
        exact += reg.count
    assert abs(lc.seen.sum() - expected) <= 4 * np.sqrt(var) + 1e-9
    assert lc.seen.sum() <= exact
    exact_density = exact / len(X) / (2 * radius) ** 2
    # the density (seen + Chao1's unseen) against the exact one: Chao1 cannot see slivers no
    # sample hit (f1 = 0 there), so beside its standard error a 10% deficit is allowed
    assert abs(lc.mean_density - exact_density) <= 4 * lc.mean_density_stderr + 0.1 * exact_density


def test_density_converges_to_the_exact_density():
    net = _net(seed=2)
    X = torch.tensor([[0.1, -0.2], [0.5, 0.4], [-0.6, 0.3]], dtype=D)
    r = 0.25
    lc = local_complexity(net, X, radius=r, samples=20000, seed=0)
    exact = [linear_regions(net, ((x - r, x + r), (y - r, y + r))).count for x, y in X.numpy()]
    expected_seen = []
    for x, y in X.numpy():
        p = linear_regions(net, ((x - r, x + r), (y - r, y + r))).measures() / (2 * r) ** 2
        expected_seen.append((1 - (1 - p) ** 20000).sum())
    # what a sample this large misses are slivers of area < 1/20000 of the box
    assert np.abs(lc.seen - np.array(expected_seen)).max() < 1.0
    assert np.abs(lc.density * (2 * r) ** 2 - np.array(exact)).max() <= 1 + 1e-9


def test_chao1_known_cases():
    assert chao1(np.array([5, 7, 3])) == (3.0, 0.0)  # nothing seen once: complete
    est, se = chao1(np.array([1, 1, 2, 4]))  # f1 = 2, f2 = 1: 4 + 2·1/(2·2)
    assert est == pytest.approx(4.5) and se > 0
    est, se = chao1(np.array([1, 1, 1]))  # f2 = 0: 3 + 3·2/2
    assert est == pytest.approx(6.0) and se > 0


def test_any_input_dimension_and_errors():
    net = deepdyn.MLP(64, 16, 2, 10, activation="relu", init="he", readout="softmax", seed=0)
    X, _ = deepdyn.data.digits(n=5, seed=0)
    lc = local_complexity(net, X, radius=0.05, samples=50)
    assert lc.seen.shape == (5,) and (lc.seen >= 1).all() and (lc.estimate >= lc.seen).all()
    assert (lc.crossing_units <= 32).all()
    with pytest.raises(ValueError, match=r"X must be \(sample, 64\)"):
        local_complexity(net, X[:, :10])
    with pytest.raises(ValueError, match="exact regions need a ReLU"):
        local_complexity(deepdyn.MLP(2, 4, 2, activation="tanh"), torch.zeros(1, 2))


def test_complexity_entry_falls_at_the_start():
    e = experiments.get("beyond-complexity")
    (ds,) = e.compute([experiments.make_config(e, quick=True)])
    n = e.numbers(ds)
    assert n["regions_min"] < 0.5 * n["regions_init"]
    assert n["test_accuracy_final"] > 0.5
    # the rise after the minimum in standard errors, recomputed step by step
    v, se = list(ds["regions"].values), list(ds["regions_stderr"].values)
    k = v.index(min(v))
    j = max(range(k, len(v)), key=lambda i: v[i])
    z = (v[j] - v[k]) / math.sqrt(se[j] ** 2 + se[k] ** 2) if v[j] > v[k] else 0.0
    assert n["regions_rise_after_min_in_stderr"] == pytest.approx(z)
    assert n["regions_max_after_min"] == v[j]
