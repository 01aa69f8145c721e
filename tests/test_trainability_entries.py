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


def test_born_dead_entry(tmp_path):
    n = _run(born_dead, tmp_path)
    assert n["closed_form_inside_ci_fraction"] >= 0.9
    assert n["domain_rai_L12"] < n["domain_he_L12"] / 2
    for w in (2, 4):
        assert n[f"domain_N{w}_L12"] <= n[f"point_N{w}_L12"]
    assert n["born_dead_members"] >= 1
    assert n["dead_output_range_max"] < 1e-12  # Thm 8.1.3: constant on [-1, 1]
    assert n["dead_output_minus_mean_y_max"] < 0.05  # … at the best constant, mean(y) = 0.5


def test_dying_relu_entry(tmp_path):
    n = _run(dissipation, tmp_path)
    assert n["born_dead_that_ended_constant"] == 1.0
    assert n["solved_L1"] > n["solved_L15"]
    assert n["constant_L15"] >= n["born_dead_L15"]


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
