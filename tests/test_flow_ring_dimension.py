"""flow-ring-dimension (thesis Prop. 10.1.1, docs/thesis-notes.md §4): seeded claims, quick mode."""

import numpy as np
import pytest
import torch

import deepdyn.experiments.flow_ring_dimension as m


@pytest.fixture(scope="module")
def ds():
    torch.set_num_threads(1)  # conftest's autouse fixture runs after module-scoped ones
    return m.run(m.Config(**m.EXPERIMENT.quick), None)


def test_homeomorphisms_of_the_plane_never_enclose_the_disk(ds):
    enc = ds["enclosed"].set_xindex("seed")
    folds = ds["fold_fraction"].set_xindex("seed")
    # (i) the exact flow of a neural ODE: orientation kept everywhere (det J > 0), and its
    # class-0 region reaches the window's edge for every seed
    assert float(folds.sel(model="ode2").max()) == 0.0
    assert float(enc.sel(model="ode2").max()) == 0.0
    # any width-2 network that does enclose the disk must fold the plane (det J ≤ 0 somewhere)
    for model in ("ode2", "resnet2", "mlp2"):
        for k in ds["seed"].values:
            if enc.sel(model=model, seed=k):
                assert float(folds.sel(model=model, seed=k)) > 0, (model, k)


def test_one_extra_dimension_separates_the_rings(ds):
    acc = ds["accuracy"]
    assert float(acc.sel(model="resnet3").min()) >= 0.99
    assert float(ds["enclosed"].sel(model="resnet3").min()) == 1.0  # a bounded class-0 region
    # the flow of the plane pays for the open region on the test samples
    assert float(acc.sel(model="ode2").mean()) < float(acc.sel(model="resnet3").mean())


def test_numbers_and_figure(ds, tmp_path):
    n = m.numbers(ds)
    assert n["test_accuracy_resnet3_min"] >= 0.99
    assert np.isfinite(n["max_h_lip_resnet2"])
    fig = m.figure(ds)
    fig.savefig(tmp_path / "f.png", dpi=40)
    assert (tmp_path / "f.png").stat().st_size > 20_000


def test_train_accuracy_numbers_from_the_kept_networks(ds, tmp_path):
    # rebuild the kept networks from their stored θ, threshold their outputs on the training
    # draw here: the best member's share right is the key number
    from deepdyn.runs import _networks

    cfg = m.Config(**m.EXPERIMENT.quick)
    X, y, _, _ = m.fc.ring_data(cfg.n_train, cfg.n_test, cfg.data_seed)
    _networks.write(tmp_path / "n.nc", ds.attrs[_networks.ATTR])
    n = m.numbers(ds)
    for model in ("ode2", "mlp2"):
        net = _networks.read(tmp_path / "n.nc", model)
        if model == "ode2":
            net = net.with_scheme("ode", solver="dopri5", options=None, rtol=1e-7, atol=1e-9)
        with torch.no_grad():
            right = ((net(X)[..., 0] > 0.5).double() == y.double()).double().mean(-1)
        assert n[f"train_accuracy_{model}_max"] == pytest.approx(float(right.max()), abs=1e-12)


def test_config_errors():
    with pytest.raises(ValueError, match="seeds needs at least one"):
        m.Config(seeds=())
    with pytest.raises(ValueError, match="window must be ≥ 1"):
        m.Config(window=0.5)
