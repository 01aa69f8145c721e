"""Trained networks in the store: every train run keeps its spec and final θ (network.nc), and
``Store.network`` rebuilds it — for a run alone and for one member of a sweep group."""

import netCDF4
import pytest
import torch

from deepdyn import experiments
from deepdyn.runs import Store, make_config, sweep
from deepdyn.runs._networks import ATTR, read, write
from deepdyn.runs._networks import split as split_networks

TRAIN = experiments.get("train")
BASE = {"steps": "6", "depth": "3", "samples": "30", "test_samples": "20"}
D = torch.float64


def _trained(config, tmp_path):
    """The network ``config`` trains, alone, straight from the entry (no store)."""
    (ds,) = TRAIN.compute([config])
    assert list(ds.attrs[ATTR]) == ["network"]
    _, kept = split_networks(ds)
    write(tmp_path / "alone.nc", kept)
    return read(tmp_path / "alone.nc")


def test_a_stored_run_gives_back_the_network_that_trained(tmp_path):
    store = Store(tmp_path / "store")
    config = make_config(TRAIN, overrides={**BASE, "data": "moons", "scheme": "rk4", "T": "2"})
    result = store.run(TRAIN, config, figure=False)
    rid = result.arrays_path.parent.name
    folder = store.folder(rid)
    assert (folder / "network.nc").is_file()
    with netCDF4.Dataset(folder / "network.nc") as nc:
        assert list(nc.groups) == ["network"]  # netCDF, no pickle
    net = store.network(rid)
    assert net.spec.scheme == "rk4" and net.spec.T == 2.0 and net.spec.in_features == 2
    x = torch.randn(17, 2, generator=torch.Generator().manual_seed(0), dtype=D)
    torch.testing.assert_close(net(x), _trained(config, tmp_path)(x), rtol=0, atol=0)
    assert store.networks(rid) == ["network: rk4 d=2 C=3 L=3 k=1 tanh"]
    # the trained θ is not the initial θ: the stored network is the final one
    from deepdyn.dynamics import build

    assert not torch.equal(build(net.spec)(x), net(x))


def test_member_seven_of_a_sixteen_member_sweep_group(tmp_path):
    store = Store(tmp_path / "store")
    items = sweep(TRAIN, {k: [v] for k, v in BASE.items()}, store=store, seeds=16, group_size=64)
    assert [i.status for i in items] == ["finished"] * 16
    seven = items[7]
    assert seven.config.seed == 7
    net = store.network(seven.run_id)
    assert net.ensemble is None and net.spec.seed == 7
    x = torch.linspace(-1, 1, 33, dtype=D)[:, None]
    alone = _trained(seven.config, tmp_path)
    torch.testing.assert_close(net(x), alone(x), rtol=0, atol=0)  # bit-identical to alone
    other = store.network(items[8].run_id)
    assert not torch.equal(other(x), net(x))


def test_a_run_without_network_and_bad_requests(tmp_path):
    store = Store(tmp_path / "store")
    config = make_config(experiments.get("resnet-ode"), quick=True)
    rid = store.run(experiments.get("resnet-ode"), config, figure=False).arrays_path.parent.name
    assert store.networks(rid) == []
    with pytest.raises(ValueError, match="kept no trained network"):
        store.network(rid)
    config = make_config(TRAIN, overrides=BASE)
    rid = store.run(TRAIN, config, figure=False).arrays_path.parent.name
    with pytest.raises(ValueError, match='network "other" not in this run: choose one of network'):
        read(store.folder(rid) / "network.nc", "other")


def test_catalogue_entries_keep_their_trained_networks(tmp_path):
    """flow-increasing keeps both trained flows; re-read as exact flows they give the stored
    outputs (the figure's numbers come from the networks the store keeps)."""
    store = Store(tmp_path / "store")
    exp = experiments.get("flow-increasing")
    rid = store.run(exp, make_config(exp, quick=True), figure=False).arrays_path.parent.name
    assert [line.split(":")[0] for line in store.networks(rid)] == ["flow1", "augmented"]
    ds = store.load(rid)
    x = torch.from_numpy(ds["x"].values)[:, None]
    for i, name in enumerate(("flow1", "augmented")):
        net = store.network(rid, name)
        exact = net.with_scheme("ode", solver="dopri5", options=None, rtol=1e-8, atol=1e-10)
        with torch.no_grad():
            z = exact.flow(x.to(torch.float64))[..., 0]
        torch.testing.assert_close(z.numpy(), ds["output"].values[i], rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="kept 2 networks: name one of flow1, augmented"):
        store.network(rid)
