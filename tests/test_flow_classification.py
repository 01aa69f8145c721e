"""flow-classification (thesis Fig 10.1–10.4, A.1, D.1–D.6) in quick mode: the stored arrays
are the pictures' data, and the width-3 tanh MLP separates the rings (§10.1)."""

import numpy as np
import pytest
import torch
import xarray as xr

import deepdyn
import deepdyn.experiments.flow_classification as m
from deepdyn import viz


@pytest.fixture(scope="module")
def ds():
    torch.set_num_threads(1)  # conftest's autouse fixture runs after module-scoped ones
    return m.run(m.Config(**m.EXPERIMENT.quick), None)


def test_stored_arrays_start_from_the_inputs(ds):
    cfg = m.Config(**m.EXPERIMENT.quick)
    X, _ = deepdyn.data.rings(cfg.n, seed=cfg.data_seed, dtype=torch.float64)
    np.testing.assert_array_equal(ds["X"].values, X.numpy())
    lattice = viz.grid_lines(cfg.lines, cfg.points).numpy()
    for arch in m.ARCHS:
        g, s = ds[f"grid_{arch}"].values, ds[f"states_{arch}"].values
        depth = cfg.resnet_depth if arch.startswith("resnet") else cfg.mlp_depth
        assert g.shape[0] == s.shape[0] == depth + 1
        np.testing.assert_array_equal(g[0, ..., :2], lattice)  # layer 0 is the input itself
        np.testing.assert_array_equal(s[0, :, :2], X.numpy())
        assert np.all(g[0, ..., 2:] == 0)


def test_level_sets_match_the_stored_last_layer_through_the_data(ds):
    # ŷ > 0.5 on the mesh near each sample agrees with the stored accuracy of the shown seed
    for arch in m.ARCHS:
        lv = ds[f"levels_{arch}"]
        X, y = ds["X"].values, ds["y"].values
        at = {
            "gx": xr.DataArray(X[:, 0], dims="sample"),
            "gy": xr.DataArray(X[:, 1], dims="sample"),
        }
        pred = (lv.sel(at, method="nearest").values > 0.5).astype(int)  # (sample,)
        seed = int(ds["shown_seed"].sel(arch=arch))
        acc = float(ds["accuracy"].set_xindex("seed").sel(arch=arch, seed=seed))
        assert abs(np.mean(pred == y) - acc) < 0.05, arch  # mesh spacing 0.04 near boundaries


def test_width_three_tanh_separates_and_numbers(ds, tmp_path):
    n = m.numbers(ds)
    assert n["train_accuracy_mlp_tanh3_max"] >= 0.95
    assert set(n) >= {f"train_accuracy_{a}_mean" for a in m.ARCHS}
    m.figure(ds).savefig(tmp_path / "f.png", dpi=30)
    assert (tmp_path / "f.png").stat().st_size > 20_000
    with pytest.raises(ValueError, match="lines must be ≥ 2"):
        m.Config(lines=1)
