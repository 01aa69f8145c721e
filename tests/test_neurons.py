"""Dead neurons (on data, and exactly on an interval), saturation against closed forms, gradient
norms against autograd on each member alone."""

import math

import pytest
import torch

import deepdyn
from deepdyn.analysis import (
    GradientRecorder,
    dead_neurons,
    dead_neurons_exact,
    gradient_norms,
    saturation,
)

D = torch.float64


def _one_layer(activation, W, b):
    net = deepdyn.MLP(1, len(b), 1, activation=activation, readout=None, dtype=D)
    (sub,) = net.field.sublayers(0)
    with torch.no_grad():
        sub.weight[0] = torch.tensor(W, dtype=D)
        sub.bias[0] = torch.tensor(b, dtype=D)
    return net


def test_dead_on_data_versus_dead_on_the_interval():
    net = _one_layer("relu", [[1.0], [-1.0], [2.0]], [0.0, -0.1, -3.0])
    X = torch.linspace(0, 1, 101, dtype=D)[:, None]
    assert dead_neurons(net, X)[0].tolist() == [False, True, True]
    assert dead_neurons_exact(net, (0.0, 1.0))[0].tolist() == [False, True, True]
    # on [-1, 2] unit 1 lives for x < -0.1 and unit 2 for x > 1.5
    assert dead_neurons_exact(net, (-1.0, 2.0))[0].tolist() == [False, False, False]
    assert dead_neurons_exact(net, (-1.0, 1.4))[0].tolist() == [False, False, True]


def test_exact_dead_units_are_dead_on_every_sample():
    net = deepdyn.MLP(1, 3, 8, activation="relu", ensemble=30, seed=0, dtype=D)
    X = torch.linspace(-1, 1, 513, dtype=D)[:, None]
    on_data = dead_neurons(net, X)  # (layer, ensemble, unit)
    total = 0
    for k in range(30):
        exact = dead_neurons_exact(net, (-1.0, 1.0), member=k)
        assert not (exact & ~on_data[:, k].numpy()).any()
        assert (exact == on_data[:, k].numpy()).mean() > 0.97
        total += exact.sum()
    assert total > 10


@pytest.mark.parametrize(
    ("activation", "w", "factor"), [("tanh", 5.0, 1.0), ("sigmoid", 10.0, 2.0)]
)
def test_saturated_fraction_is_the_closed_form(activation, w, factor):
    # relative slope < t ⇔ |a| > factor · arcosh(1/√t) (σ(a)(1 − σ(a)) = ¼ sech²(a/2))
    t = 0.1
    net = _one_layer(activation, [[w]], [0.0])
    X = torch.linspace(-1, 1, 200_001, dtype=D)[:, None]
    s = saturation(net, X, threshold=t)
    c = factor * math.acosh(1 / math.sqrt(t))
    assert abs(float(s["fraction"][0]) - (1 - c / w)) < 1e-4
    # the mean slope: ∫ sech²(w x) dx over [-1, 1] / 2 = tanh(w)/w for tanh
    if activation == "tanh":
        assert abs(float(s["slope"][0]) - math.tanh(w) / w) < 1e-6


def test_gradient_norms_match_each_member_alone():
    X, y = deepdyn.data.step(64, seed=1, dtype=D)
    net = deepdyn.MLP(1, 3, 6, activation="relu", ensemble=4, seed=2, init="he", dtype=D)
    g = gradient_norms(net, X, y)  # (layer, ensemble)
    assert g.shape == (6, 4)
    for k in range(4):
        m = net.member(k)
        m.zero_grad()
        deepdyn.train.compute_loss(m, X, y).backward()
        for l in range(6):
            ref = math.sqrt(sum(float((p.grad**2).sum()) for p in m.field.layer_parameters(l)))
            assert abs(float(g[l, k]) - ref) < 1e-12


def test_gradients_vanish_before_a_dead_layer():
    X, y = deepdyn.data.step(64, seed=1, dtype=D)
    net = deepdyn.MLP(1, 2, 12, activation="relu", ensemble=64, seed=0, dtype=D)
    dead = dead_neurons(net, X).all(-1)  # (layer, ensemble): layer all-zero on the data
    g = gradient_norms(net, X, y)
    ks = torch.nonzero(dead.any(0)).flatten()
    assert len(ks) > 0
    for k in ks.tolist():
        first = int(torch.nonzero(dead[:, k])[0])  # hidden layer first+1 is dead
        assert (g[: first + 1, k] == 0).all()


def test_gradient_recorder_follows_training():
    X, y = deepdyn.data.step(64, seed=1, dtype=D)
    net = deepdyn.MLP(1, 4, 3, activation="tanh", seed=0, dtype=D)
    rec = GradientRecorder(net, X, y, every=5).record_initial()
    first = gradient_norms(net, X, y)
    deepdyn.fit(net, X, y, steps=20, lr=0.05, callback=rec)
    assert rec.steps == [0, 5, 10, 15, 20]
    n = rec.norms()
    assert n.shape == (5, 3)
    assert torch.equal(n[0], first)
    assert torch.allclose(n[-1], gradient_norms(net, X, y), rtol=0, atol=1e-14)


def test_neuron_errors_are_one_line():
    tanh = deepdyn.MLP(1, 3, 2, activation="tanh")
    with pytest.raises(ValueError, match='dead neurons are defined for activation "relu"'):
        dead_neurons(tanh, torch.zeros(3, 1))
    with pytest.raises(ValueError, match='activation "relu" unknown: choose one of tanh, sigmoid'):
        saturation(deepdyn.MLP(1, 3, 2, activation="relu"), torch.zeros(3, 1))
    with pytest.raises(ValueError, match=r"threshold must be in \(0, 1\)"):
        saturation(tanh, torch.zeros(3, 1), threshold=2.0)
    with pytest.raises(ValueError, match="nothing recorded"):
        GradientRecorder(tanh, torch.zeros(3, 1), torch.zeros(3)).norms()


def test_a_dead_neuron_can_recover():
    """Thesis Lemma 8.1.2: a dead unit gets no gradient (Lemma 8.1.1), yet the layer below moves
    its inputs, and it can come back to life."""
    X = torch.linspace(0, 1, 50, dtype=D)[:, None]
    y = 3 * X  # mse target: pushes z_1 = relu(w x) up, past the dead unit's threshold
    net = deepdyn.MLP(1, [1, 2], 2, activation="relu", readout="identity", dtype=D)
    first, (second,) = net.field.sublayers(0)[0], net.field.sublayers(1)
    with torch.no_grad():
        first.weight[0], first.bias[0] = torch.tensor([[0.5]]), torch.tensor([0.0])
        second.weight[0] = torch.tensor([[1.0], [1.0]])
        second.bias[0] = torch.tensor([0.0, -1.0])  # unit 2 = relu(z_1 − 1), z_1 ≤ 0.5: dead
        net.readout.weight[0] = torch.tensor([[1.0, 0.0]])
        net.readout.bias.zero_()
    assert dead_neurons(net, X)[1].tolist() == [False, True]
    g = torch.autograd.grad(deepdyn.train.compute_loss(net, X, y).sum(), second.weight)[0]
    assert g[0, 1].abs().item() == 0  # Lemma 8.1.1: its weights get no gradient …
    deepdyn.fit(net, X, y, optimizer="sgd", lr=0.05, steps=200)
    assert dead_neurons(net, X)[1].tolist() == [False, False]  # … and it lives again
