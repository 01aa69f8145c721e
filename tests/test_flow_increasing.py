"""flow-increasing (thesis Lemma 6.2.1, docs/thesis-notes.md §5): seeded claims in quick mode."""

import numpy as np
import pytest
import torch

import deepdyn.experiments.flow_increasing as m


@pytest.fixture(scope="module")
def ds():
    torch.set_num_threads(1)  # conftest's autouse fixture runs after module-scoped ones
    return m.run(m.Config(**m.EXPERIMENT.quick), None)


def test_isotonic_bound_is_the_sample_variance():
    # the best increasing fit of the decreasing −x is a constant, its mean: MSE = var(x)
    x = np.random.default_rng(3).uniform(-1, 1, 500)
    assert abs(m.isotonic_bound(x) - np.var(x)) < 1e-12
    assert abs(np.var(np.linspace(-1, 1, 100_001)) - 1 / 3) < 1e-4  # → 1/3 for uniform x


def test_one_dimensional_flow_stays_above_the_isotonic_bound(ds):
    bound = float(ds["isotonic_bound"])
    assert abs(bound - np.var(ds["x"].values)) < 1e-12
    assert float(ds["mse"].sel(model="flow1").min()) >= bound - 1e-9
    assert int(ds["crossings"].sel(model="flow1").max()) == 0
    out = ds["output"].sel(model="flow1").values  # (seed, sample): increasing in x
    order = np.argsort(ds["x"].values)
    assert np.all(np.diff(out[:, order], axis=-1) >= -1e-9)


def test_one_augmented_dimension_fits_minus_x(ds):
    assert float(ds["mse"].sel(model="augmented").max()) < 0.01
    n = ds.sizes["probe"]
    assert int(ds["crossings"].sel(model="augmented").min()) >= 0.9 * n * (n - 1) // 2


def test_numbers_figure_and_config(ds, tmp_path):
    n = m.numbers(ds)
    assert n["mse_augmented_max"] < 0.01 <= n["isotonic_bound"]
    m.figure(ds).savefig(tmp_path / "f.png", dpi=40)
    assert (tmp_path / "f.png").stat().st_size > 10_000
    with pytest.raises(ValueError, match="field"):
        m.Config(field="block")
