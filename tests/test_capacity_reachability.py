"""The capacity-reachability catalogue entry (thesis App. C, Def. C.1.1): crossing counts,
piece-count bounds and the isotonic lower bound on what a monotone network can reach."""

import dataclasses
import itertools

import numpy as np
import pytest
import torch
from sklearn.isotonic import IsotonicRegression

import deepdyn.experiments.capacity_reachability as entry
from deepdyn.data import oscillation_function


def _cfg(**over):
    return dataclasses.replace(entry.Config(), **{**entry.EXPERIMENT.quick, **over})


def test_crossings_of_f_m_are_2m_minus_1():
    x = torch.linspace(-1, 1, 4001)
    for m in range(1, 7):
        assert int(entry.crossings(oscillation_function(x, m))) == 2 * m - 1
    assert entry.crossings(torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.5, 1.0]])).tolist() == [2, 0]


def test_grid_regions_of_a_tent_composition():
    # the composition of L tent maps t(x) = 2·ReLU(x) − 4·ReLU(x − ½) on [0, 1] has 2^L linear
    # pieces; as an MLP of width 2 its activation regions on a fine grid number exactly 2^L
    L = 3
    net = entry.MLP(1, 2, L, activation="relu", readout="identity", dtype=torch.float64)
    with torch.no_grad():
        for l in range(L):
            (sub,) = net.field.sublayers(l)
            if l == 0:
                sub.weight[0] = torch.tensor([[1.0], [1.0]])
            else:  # previous tent value t = 2 h₁ − 4 h₂, then h = ReLU((t, t − ½))
                sub.weight[0] = torch.tensor([[2.0, -4.0], [2.0, -4.0]])
            sub.bias[0] = torch.tensor([0.0, -0.5])
        net.readout.weight[0] = torch.tensor([[2.0, -4.0]])
        net.readout.bias.zero_()
    # a grid that avoids the dyadic points, where t∘t touches 0 without crossing it
    x = torch.linspace(0.0, 1.0, 4000, dtype=torch.float64)[:, None] * (1 - 2e-5) + 1e-5
    assert int(entry.grid_regions(net, x)[0]) == 2**L
    with torch.no_grad():  # and the function is the tent composition: t∘t∘t(1/8) = 1
        y = net(torch.tensor([[1 / 8], [3 / 16], [1 / 4]], dtype=torch.float64))[:, 0]
    assert y.tolist() == [1.0, 0.5, 0.0]


def test_quick_run_figure_and_numbers(tmp_path):
    ds = entry.run(_cfg(), None)
    assert ds["probability"].dims == ("depth", "width", "m")
    np.testing.assert_array_equal(
        ds["probability"].values, (ds["loss"] < ds.attrs["epsilon"]).mean("ensemble").values
    )
    nums = entry.numbers(ds)
    assert 0 <= nums["mean_probability"] <= 1 and "p_L2_C6_m2" in nums
    # Def C.1.2's numbers, recomputed element by element from the stored arrays
    depths, widths = list(ds["depth"].values), list(ds["width"].values)
    top = {
        (L, C): max(float(v) for v in ds["regions"].sel(depth=L, width=C).values.ravel())
        for L in depths
        for C in widths
    }
    assert nums["regions_max_L1_C2"] == top[(1, 2)] and nums["regions_max_L2_C6"] == top[(2, 6)]
    pairs = [((L, C), (L2, C)) for L, L2 in itertools.pairwise(depths) for C in widths]
    pairs += [((L, C), (L, C2)) for C, C2 in itertools.pairwise(widths) for L in depths]
    assert nums["regions_max_decreases"] == sum(top[b] < top[a] for a, b in pairs)
    ratio = max(top[(L, C)] / (C + 1) ** L for L in depths for C in widths)
    assert nums["regions_max_over_bound"] == pytest.approx(ratio) and ratio <= 1
    for m in ds["m"].values:
        c = [int(v) for v in ds["crossings"].sel(depth=2, width=6, m=m).values]
        assert nums[f"crossings_mean_L2_C6_m{m}"] == pytest.approx(sum(c) / len(c))
    # without piecewise-linear regions (tanh) the region numbers are nan, not a count
    smooth = ds.assign(regions=ds["regions"] * np.nan)
    assert np.isnan(entry.numbers(smooth)["regions_max_decreases"])
    fig = entry.figure(ds)
    fig.savefig(tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 10_000


def test_width_one_is_monotone_and_bounded_below_by_isotonic_regression():
    # A width-1 ReLU MLP is a composition of monotone maps of the line: it crosses ½ at most
    # once, and its MSE on f_m is at least the best monotone (isotonic) fit's, whatever the
    # depth. One hidden layer of width C is piecewise linear with ≤ C + 1 pieces, so it
    # crosses ½ at most C + 1 times.
    cfg = _cfg(widths=(1, 3), depths=(1, 2), m_max=3, seeds=6, steps=400, points=80)
    ds = entry.run(cfg, None)
    assert int(ds["crossings"].sel(width=1).max()) <= 1
    assert int(ds["crossings"].sel(width=3, depth=1).max()) <= 4
    # grid-detected activation regions never exceed the exact bound ∏(n_l + 1) = (C + 1)^L
    # (Serra et al.'s bound is exact for one input), and width 1 has at most L + 1
    for L in (1, 2):
        for C in (1, 3):
            assert int(ds["regions"].sel(width=C, depth=L).max()) <= (C + 1) ** L
    assert int(ds["regions"].sel(width=1, depth=2).min()) >= 1
    x = np.linspace(-1, 1, cfg.points)
    for m in ds["m"].values:
        y = oscillation_function(torch.from_numpy(x), int(m)).numpy()
        bound = min(
            float(np.mean((IsotonicRegression(increasing=inc).fit_transform(x, y) - y) ** 2))
            for inc in (True, False)
        )
        losses = ds["loss"].sel(width=1, m=m).values
        assert losses.min() >= bound - 1e-6, (m, losses.min(), bound)
        if m >= 2:  # the bound (0.125 for m = 2, 0.1625 for m = 3) exceeds ε: unreachable
            assert bound > cfg.epsilon
            assert float(ds["probability"].sel(width=1, m=m).max()) == 0.0


def test_config_errors():
    with pytest.raises(ValueError, match="widths and depths need at least one value"):
        entry.Config(widths=())
    with pytest.raises(ValueError, match="epsilon must be a finite number > 0"):
        entry.Config(epsilon=0.0)
    with pytest.raises(ValueError, match="seeds must be ≥ 1, got 0"):
        entry.Config(seeds=0)
    with pytest.raises(ValueError, match="fine must be ≥ 200"):
        entry.Config(fine=100)


@pytest.mark.slow
def test_full_run_reproduces_the_pattern_of_fig_c1():
    # Fig C.1's message, measured: f_1 becomes reachable with width and depth, higher m does
    # not at these sizes (default config: C ≤ 8, L ≤ 3, 16 seeds, 1500 Adam steps)
    ds = entry.run(entry.Config(), None)
    p = ds["probability"]
    assert float(p.sel(m=1).max()) >= 0.75
    assert float(p.sel(m=ds["m"].values[-1]).max()) <= 0.25
    assert bool((p.sel(m=1) >= p.sel(m=ds["m"].values[-1])).all())
