"""Training that blows up is stopped as diverged, never stored as finished (issue 17, item 3)."""

from __future__ import annotations

import pytest
import torch

import deepdyn as dd
from deepdyn import experiments
from deepdyn.runs import Store, sweep
from deepdyn.train._divergence import Diverged

D = torch.float64


def _data(n: int = 40):
    X, y = dd.data.rings(n, seed=0)
    return X.double(), y.double()


def test_a_huge_learning_rate_is_diverged_not_finished():
    X, y = _data()
    net = dd.MLP(2, 4, 2, activation="tanh", dtype=D)
    with pytest.raises(
        Diverged, match=r"diverged at step 0: .*lower the learning rate \(lr=1e\+30\)"
    ):
        dd.fit(net, X, y, optimizer="sgd", lr=1e30, steps=20)


def test_a_loss_that_rises_a_thousandfold_is_caught_by_the_loss_alone():
    X, y = _data()
    X = X * 30.0
    net = dd.MLP(2, 4, 2, activation="relu", readout="identity", dtype=D)
    with pytest.raises(Diverged, match=r"loss .* rose above 1000 × its initial value") as info:
        dd.fit(net, X, y, loss="mse", optimizer="sgd", lr=5.0, steps=50, parameter_bound=None)
    assert "\n" not in str(info.value)


def test_divergence_checks_can_be_switched_off_and_leave_normal_training_alone():
    X, y = _data()
    net = dd.MLP(2, 4, 2, activation="tanh", dtype=D)
    hist = dd.fit(net, X, y, optimizer="adam", lr=1e-2, steps=30)
    assert hist.loss[-1] < hist.loss[0]
    net = dd.MLP(2, 4, 2, activation="tanh", dtype=D)
    dd.fit(net, X, y, optimizer="sgd", lr=1e3, steps=5, diverge_factor=None, parameter_bound=None)
    with pytest.raises(ValueError, match="diverge_factor must be > 1"):
        dd.fit(net, X, y, steps=1, diverge_factor=0.5)


def test_a_diverged_run_is_stored_failed_and_a_sweep_counts_it(tmp_path):
    train = experiments.get("train")
    store = Store(tmp_path / "store")
    config = experiments.make_config(
        train, quick=True, overrides={"optimizer": "sgd", "lr": "1e30", "steps": "20"}
    )
    with pytest.raises(Diverged):
        store.run(train, config)
    (info,) = store.list()
    assert info.status == "failed" and info.error.startswith("Diverged: training diverged")
    assert store.lookup("train", config) is None

    items = sweep(
        train,
        {"optimizer": ["sgd"], "lr": ["0.01", "1e30"], "steps": ["20"]},
        quick=True,
        store=Store(tmp_path / "swept"),
    )
    assert [item.status for item in items] == ["finished", "diverged"]
    assert items[1].error.startswith("Diverged: training diverged at step 0")
