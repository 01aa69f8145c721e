"""pad_ensemble: networks of different widths as one zero-padded ensemble compute and train as
each network alone (float64), and the padding stays exactly zero."""

from __future__ import annotations

import pytest
import torch

import deepdyn as dd
from deepdyn.dynamics import pad_ensemble

D = torch.float64


def _nets(activation: str, depth: int) -> list[dd.Network]:
    return [
        dd.MLP(2, w, depth, activation=activation, readout="identity", init="he",
               bias_init="normal", ensemble=3, seed=10 * w, dtype=D)
        for w in (1, 3, 6)
    ]  # fmt: skip


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("depth", [1, 3])
def test_padded_members_compute_and_train_as_alone(activation, depth):
    nets = _nets(activation, depth)
    padded, rows = pad_ensemble(nets)
    assert padded.members == 9 and padded.field.widths[1] == 6
    x = torch.randn(40, 2, dtype=D)
    y = torch.sin(x.sum(1, keepdim=True))
    with torch.no_grad():
        for net, r in zip(nets, rows):
            assert torch.allclose(padded(x)[r], net(x), rtol=0, atol=1e-13)
    hp = dd.fit(padded, x, y, loss="mse", optimizer="adam", lr=0.01, steps=60)
    for net, r in zip(nets, rows):
        h = dd.fit(net, x, y, loss="mse", optimizer="adam", lr=0.01, steps=60)
        assert torch.allclose(hp.loss[:, r], h.loss, rtol=0, atol=1e-10)
        with torch.no_grad():
            assert torch.allclose(padded(x)[r], net(x), rtol=0, atol=1e-10)
    # the padding of the narrowest network is still exactly zero
    w = padded.field.sublayers(0)[0].weight[rows[0]]  # (member, 6, 2)
    assert torch.count_nonzero(w[:, 1:]) == 0


def test_networks_that_differ_in_more_than_width_are_refused():
    a = dd.MLP(2, 3, 2, activation="relu")
    b = dd.MLP(2, 4, 3, activation="relu")
    with pytest.raises(ValueError, match="differ in depth"):
        pad_ensemble([a, b])
    with pytest.raises(ValueError, match="σ\\(0\\) = 0"):
        pad_ensemble([dd.MLP(2, 3, 2, activation="sigmoid")])


def test_unpad_copies_the_trained_members_back():
    from deepdyn.dynamics import unpad

    nets = [dd.ResNet(2, w, 3, activation="tanh", lift="pad", ensemble=2, seed=w, dtype=D)
            for w in (2, 3)]  # fmt: skip
    padded, rows = pad_ensemble(nets)
    x = torch.randn(30, 2, dtype=D)
    y = (x[:, 0] > 0).to(D)
    dd.fit(padded, x, y, optimizer="adam", lr=0.05, steps=20)
    unpad(padded, rows, nets)
    with torch.no_grad():
        for net, r in zip(nets, rows):
            assert torch.allclose(net(x), padded(x)[r], rtol=0, atol=1e-12)
