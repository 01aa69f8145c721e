"""The ``train`` catalogue entry: one network trained on one data set; batches over seeds."""

from __future__ import annotations

import numpy as np
import pytest

from deepdyn import experiments
from deepdyn.runs import make_config

TRAIN = experiments.get("train")


def _cfg(**overrides):
    base = {"steps": "15", "depth": "3", "samples": "40", "test_samples": "50"}
    return make_config(TRAIN, overrides={**base, **overrides})


def test_step_classification_learns_and_stores_what_the_figure_needs():
    ds = TRAIN.run(_cfg(steps="150", depth="2", width="3", lr="0.05"), None)
    assert ds["loss"].dims == ("step",) and ds.sizes["step"] == 150
    assert float(ds["loss"][-1]) < 0.5 * float(ds["loss"][0])
    numbers = TRAIN.numbers(ds)
    assert numbers["test_accuracy"] > 0.9
    assert ds["prediction"].dims == ("x",)
    fig = TRAIN.figure(ds)
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())
    assert image.std() > 10  # not blank


def test_two_dimensional_and_regression_data():
    moons = TRAIN.run(_cfg(data="moons", architecture="resnet", width="2"), None)
    assert moons["prediction"].dims == ("y", "x")
    assert 0.0 <= moons.attrs["test_accuracy"] <= 1.0
    wave = TRAIN.run(_cfg(data="oscillation"), None)
    assert wave.attrs["score"] == "mse" and "test_mse" in TRAIN.numbers(wave)


def test_a_batch_is_the_members_alone_and_coupled_optimizers_are_not_batched():
    configs = [_cfg(seed=str(s), scale=str(c)) for s, c in [(0, 0.5), (1, 1.0), (2, 2.0)]]
    together = TRAIN.compute(configs)
    for config, ds in zip(configs, together):
        alone = TRAIN.compute([config])[0]
        assert np.array_equal(alone["loss"].values, ds["loss"].values)
    assert not np.array_equal(together[0]["loss"].values, together[1]["loss"].values)
    lbfgs = [_cfg(seed=str(s), optimizer="lbfgs", steps="3") for s in (0, 1)]
    for config, ds in zip(lbfgs, TRAIN.compute(lbfgs)):
        assert np.array_equal(TRAIN.compute([config])[0]["loss"].values, ds["loss"].values)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("data", "ringz", 'data "ringz" unknown'),
        ("optimizer", "adamw", 'optimizer "adamw" unknown'),
        ("width", "0", "width"),
        ("dtype", "float16", 'dtype "float16" unknown'),
    ],
)
def test_bad_configs_are_one_line_errors(key, value, message):
    with pytest.raises(ValueError, match=message):
        _cfg(**{key: value})


def test_initial_losses_are_the_untrained_networks_losses():
    """initial_loss and initial_test_loss (claims of Def 5.0.1, §9.1.1) against compute_loss of
    the network built from the same spec, before any step: independent of fit's history."""
    import torch

    from deepdyn.dynamics import build
    from deepdyn.experiments import train_network as entry
    from deepdyn.train import compute_loss

    cfg = _cfg()
    n = TRAIN.numbers(TRAIN.run(cfg, None))
    X, y, Xt, yt = entry._data(cfg)
    d, k, classes = entry._shape(cfg)
    net = build(entry.spec(cfg, d, k, classes, [cfg]))
    with torch.no_grad():
        assert abs(float(compute_loss(net, X, y)) - n["initial_loss"]) < 1e-12
        assert abs(float(compute_loss(net, Xt, yt)) - n["initial_test_loss"]) < 1e-12
    assert n["final_loss"] < n["initial_loss"]
