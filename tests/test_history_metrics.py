"""History.metrics: train/test loss and, for classifiers, accuracy; one mapping for all trainers."""

import pytest
import torch

import deepdyn as dd
from deepdyn.train import msa

D = torch.float64


def _moons(n, seed):
    X, y = dd.data.moons(n, seed=seed, dtype=D)
    return X, y


@pytest.mark.parametrize("readout", ["sigmoid", "softmax"])
def test_fit_records_accuracy_of_the_theta_each_loss_was_computed_at(readout):
    X, y = _moons(60, 0)
    Xt, yt = _moons(40, 1)
    k = 1 if readout == "sigmoid" else 2
    net = dd.ResNet(2, 3, 4, k, readout=readout, dtype=D, ensemble=2, seed=3)
    probe = dd.ResNet(2, 3, 4, k, readout=readout, dtype=D, ensemble=2, seed=3)
    hist = dd.fit(net, X, y, optimizer="sgd", lr=0.5, steps=4, X_test=Xt, y_test=yt)
    assert set(hist.metrics) == {"loss", "test_loss", "accuracy", "test_accuracy"}
    assert hist.accuracy.shape == (4, 2) and hist.metrics["loss"] is hist.loss

    def acc(model, A, b):  # independent: the predicted class from the probabilities
        p = model(A)
        pred = (p[..., 0] > 0.5).long() if readout == "sigmoid" else p.argmax(-1)
        return (pred == b).to(D).mean(-1)

    with torch.no_grad():
        torch.testing.assert_close(hist.accuracy[0], acc(probe, X, y))  # θ_0, before step 0
        torch.testing.assert_close(hist.test_accuracy[0], acc(probe, Xt, yt))
    ds = hist.to_xarray()
    assert ds["accuracy"].dims == ("iteration", "ensemble")


def test_regression_has_no_accuracy_and_msa_adds_its_curves():
    x = torch.linspace(-1, 1, 20, dtype=D)[:, None]
    net = dd.ResNet(1, 2, 3, readout="identity", dtype=D)
    hist = dd.fit(net, x, x**2, loss="mse", steps=3)
    assert set(hist.metrics) == {"loss"}
    with pytest.raises(AttributeError, match="no attribute or metric 'accuracy'"):
        _ = hist.accuracy
    X, y = _moons(30, 2)
    pmp = msa(dd.ResNet(2, 2, 3, dtype=D), X, y, method="gradient", steps=3, lr=0.1)
    assert {"loss", "hamiltonian", "residual", "seconds"} <= set(pmp.metrics)
    assert isinstance(pmp, dd.History) and type(pmp) is dd.History  # no subclass
    assert pmp.seconds.shape == (3,) and pmp.to_xarray()["seconds"].dims == ("iteration",)
