"""The contract every catalogue entry keeps, tested over ``experiments.catalogue()`` so that a new
entry is tested without editing a list: its quick run gives a dataset that survives the netCDF
round trip of ``write_run``, a figure drawn from the stored arrays that is not blank, finite key
numbers, and dims from the vocabulary (``deepdyn.DIMENSIONS``) or declared by the entry
(``Experiment.dims``)."""

from __future__ import annotations

import dataclasses
import json
import math

import matplotlib.image
import numpy as np
import pytest
import xarray as xr

from deepdyn import DIMENSIONS, experiments
from deepdyn.runs import write_run
from deepdyn.trajectory import in_vocabulary

# quick runs that take more than ~10 s on a loaded 2-core machine: CI runs them with -m slow
SLOW = {
    "control-msa",
    "capacity-approximation",
    "flow-increasing",
    "born-dead",
    "control-risk",
    "flow-classification",
    "flow-ring-dimension",
}
# numbers that are NaN by definition when nothing qualifies ("no width reaches p ≥ 0.5")
MAY_BE_NAN = {"capacity-reachability": ("min_width_p50_",)}


def _entries() -> list[object]:
    return [
        pytest.param(e, id=e.id, marks=[pytest.mark.slow] if e.id in SLOW else [])
        for e in experiments.catalogue()
    ]


@pytest.mark.parametrize("experiment", _entries())
def test_entry_keeps_the_contract(experiment, tmp_path):
    config = experiments.make_config(experiment, quick=True)
    (dataset,) = experiment.compute([config])
    result = write_run(experiment, config, dataset, tmp_path)

    # netCDF round trip: the same variables, coordinates and values (attrs aside)
    stored = xr.load_dataset(result.arrays_path, engine="netcdf4")
    xr.testing.assert_equal(stored, dataset)

    # the figure, drawn from the arrays read back, is not blank
    image = matplotlib.image.imread(result.figure_path)[..., :3]  # (row, col, rgb)
    background = image[0, 0]
    drawn = np.abs(image - background).sum(-1) > 0.05
    assert drawn.mean() > 0.01, f"{experiment.id}: figure is blank"

    # the key numbers: stored as written, and finite
    numbers = json.loads((result.arrays_path.parent / "numbers.json").read_text())
    assert numbers, experiment.id
    np.testing.assert_equal(numbers, result.numbers)  # NaN equals NaN here
    nan_ok = MAY_BE_NAN.get(experiment.id, ())
    for key, value in numbers.items():
        if not (math.isnan(value) and key.startswith(nan_ok)):
            assert math.isfinite(value), f"{experiment.id}: number {key} = {value}"

    # every dim is in the vocabulary or declared; every declared dim is used
    used = {d for v in stored.variables.values() for d in v.dims}
    unknown = sorted(d for d in used if not in_vocabulary(d) and d not in experiment.dims)
    assert not unknown, (
        f"{experiment.id}: dims {unknown} are neither in deepdyn.DIMENSIONS nor declared "
        f"in its Experiment(dims=...)"
    )
    assert not {"seed", "member", "trial"} & used, f"{experiment.id}: name the axis ensemble"
    assert set(experiment.dims) <= used, f"{experiment.id}: declares unused dims"


def test_vocabulary_names_and_tags():
    assert {"step", "layer", "ensemble", "sample", "component", "input", "output"} <= set(
        DIMENSIONS
    )
    assert {"region", "vertex", "unit", "end"} <= set(DIMENSIONS)
    assert in_vocabulary("layer") and in_vocabulary("layer_L16")
    assert in_vocabulary("component_resnet2")
    for name in ("seed", "member", "trial", "layer_", "_layer", "gamma", "test_sample"):
        assert not in_vocabulary(name), name


def test_experiment_dims_must_be_names():
    entry = experiments.get("init-norms")
    with pytest.raises(TypeError, match="dims must be a tuple of names"):
        dataclasses.replace(entry, dims="gamma")
