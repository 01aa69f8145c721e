"""The §8 and App. C catalogue entries in quick mode: their claims as numbers, figures drawn
from the stored arrays, and one-line config errors."""

import dataclasses

import numpy as np
import pytest
import xarray as xr
from matplotlib.figure import Figure

import deepdyn.experiments.trainability_born_dead as born_dead
import deepdyn.experiments.trainability_dissipation as dissipation
import deepdyn.experiments.trainability_init as init_norms
import deepdyn.experiments.trainability_regions as regions


def _run(m, tmp_path, **over):
    cfg = m.Config(**{**m.EXPERIMENT.quick, **over})
    ds = m.run(cfg, None)
    path = tmp_path / f"{m.EXPERIMENT.id}.nc"
    ds.to_netcdf(path, engine="netcdf4")
    stored = xr.load_dataset(path, engine="netcdf4")
    fig = m.figure(stored)
    assert isinstance(fig, Figure) and len(fig.axes) >= 3
    fig.savefig(tmp_path / f"{m.EXPERIMENT.id}.png")
    return m.numbers(stored)


def test_linear_regions_entry(tmp_path):
    n = _run(regions, tmp_path)
    assert abs(n["map_area_sum"] - 4.0) < 1e-10  # the cells tile the box
    assert 1 < n["regions_random_depth3"] < n["bound_depth3"] / 10
    assert n["regions_random_width8"] < n["bound_width8"]
    assert "regions_trained_depth3" in n
    # the L-fold tent map has 2^L regions (Telgarsky), the most a width-2 chain can have
    assert n["regions_tent_depth3"] == 2**3
    # no count exceeds Serra's bound, the means included
    assert n["regions_random_depth3"] / n["bound_depth3"] <= n["count_over_bound_max"] <= 1
    assert n["bound_growth_depth"] == regions.serra_bound(2, [8] * 3) / regions.serra_bound(2, [8])


def test_tent_maps_on_the_box_are_stripes():
    # each region of the lifted tent map is a stripe a < x₁ < b across the whole box
    r = regions.linear_regions(regions.tent_on_box(2), regions.BOX)
    assert r.count == 4
    for cell in r.cells:
        assert {round(float(v), 9) for v in cell[:, 1]} == {-1.0, 1.0}
    edges = sorted({round(float(v), 9) for cell in r.cells for v in cell[:, 0]})
    assert edges == [-1.0, -0.5, 0.0, 0.5, 1.0]


def test_born_dead_entry(tmp_path):
    n = _run(born_dead, tmp_path)
    assert n["closed_form_inside_ci_fraction"] >= 0.9
    assert n["domain_rai_L12"] < n["domain_he_L12"] / 2
    for w in (2, 4):
        assert n[f"domain_N{w}_L12"] <= n[f"point_N{w}_L12"]
    assert n["born_dead_members"] >= 1
    assert n["dead_output_range_max"] < 1e-12  # Thm 8.1.3: constant on [-1, 1]
    assert n["dead_output_minus_mean_y_max"] < 0.05  # … at the best constant, mean(y) = 0.5
    # Lemma 8.1.3: output constant on the grid ⇔ a hidden layer all-zero there; the share dead
    # on [−1, 1] stays below the closed form at a point, 1 − (7/8)^10, up to sampling noise
    assert n["lemma_mismatches"] == 0 and n["lemma_alive_output_range_min"] > 0
    p = 1 - (7 / 8) ** 10
    assert 0 < n["lemma_dead_share"] <= p + 4 * np.sqrt(p * (1 - p) / 200)
    # Thm 8.1.2 for He (a symmetric law of another scale): the closed form at x₀, width 3
    q = 1 - (7 / 8) ** 12
    assert n["init_bound_L12"] == pytest.approx(q)
    assert abs(n["point_he_L12"] - q) < 4 * np.sqrt(q * (1 - q) / 500)
    assert n["point_rai_L12"] < q / 2


def test_dying_relu_entry(tmp_path):
    n = _run(dissipation, tmp_path)
    assert n["born_dead_that_ended_constant"] == 1.0
    assert n["solved_L1"] > n["solved_L15"]
    assert n["constant_L15"] >= n["born_dead_L15"]
    # the excess of the share born dead over the closed form 1 − (3/4)^L, from the shares
    excess = max(n[f"born_dead_L{L}"] - (1 - 0.75**L) for L in (1, 15))
    assert n["born_dead_minus_bound_max"] == pytest.approx(excess)
    ds = xr.load_dataset(tmp_path / "dying-relu.nc", engine="netcdf4")
    cfg = dissipation.Config(**dissipation.EXPERIMENT.quick)
    _, y = dissipation.deepdyn.data.step(cfg.samples, seed=cfg.seed)
    assert float(ds["target_mean"]) == pytest.approx(float(y.double().mean()), abs=1e-15)
    # Thm 8.1.3: the born-dead 15-layer nets end at mean(y), the best constant
    dead15 = ds["born_dead"].sel(depth=15).values
    out = ds["output_deepest"].values[dead15]
    gap = np.abs(out - float(y.double().mean())).max()
    assert gap <= n["born_dead_output_minus_mean_y_max"] + 1e-15
    assert n["born_dead_output_minus_mean_y_max"] < 0.05
    # the median spread of z_l is 0 from that layer on, and not before it
    k = int(n["median_spread_zero_from_layer"])
    med = np.median(ds["spread_deepest"].values, axis=1)
    assert (med[k:] == 0).all() and (med[:k] > 0).all()


def test_init_norms_entry(tmp_path):
    n = _run(init_norms, tmp_path)
    assert n["born_dead_share_resnet_C2"] == 0.0
    assert n["born_dead_share_mlp_C2"] > n["born_dead_share_mlp_C4"]
    # the closed form at one point bounds the domain-wide share: 1 − (3/4)^15 = 0.987
    assert n["born_dead_share_mlp_C2"] <= 0.987 + 3 * np.sqrt(0.987 * 0.013 / 60)


@pytest.mark.parametrize(
    ("module", "field", "value", "message"),
    [
        (regions, "widths", (), "at least one value"),
        (regions, "seeds", 0, "seeds must be ≥ 1, got 0"),
        (born_dead, "trials", 0, "trials must be ≥ 1, got 0"),
        (born_dead, "compare_inits", ("he", "glorot"), 'init "glorot" unknown: choose one of'),
        (dissipation, "solved_accuracy", 1.5, r"solved_accuracy must be in \(0, 1\]"),
        (init_norms, "gammas", (1.0, -1.0), "gamma must be a finite number > 0"),
    ],
)
def test_entry_config_errors(module, field, value, message):
    with pytest.raises(ValueError, match=message) as e:
        dataclasses.replace(module.Config(), **{field: value})
    assert "\n" not in str(e.value)
