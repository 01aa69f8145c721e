"""Thesis §6.1's inclusions of hypothesis spaces (Lemma 6.1.1, Lemma 6.1.2, Cor. 6.1.1) and
Prop. 8.1.1 (a dead unit removes a dimension from what later layers see), checked on real
networks in float64: a network of the smaller space is written as one of the larger space and
the two compute the same function."""

from __future__ import annotations

import itertools

import pytest
import torch

import deepdyn

D = torch.float64


def _grid(n: int = 41) -> torch.Tensor:
    s = torch.linspace(-1.5, 1.5, n, dtype=D)
    return torch.cartesian_prod(s, s)  # (n², 2)


def _copy(dst, src) -> None:
    with torch.no_grad():
        dst.weight.copy_(src.weight)
        dst.bias.copy_(src.bias)


def _deeper(net, insert_after: int, activation: str):
    """The depth-(L+1) MLP whose layer ``insert_after + 1`` is new and every other layer is
    ``net``'s (its readout too)."""
    width, L = net.field.sublayers(0)[0].weight.shape[1], net.depth
    deep = deepdyn.MLP(2, width, L + 1, activation=activation, readout="identity", dtype=D)
    for l in range(L + 1):
        if l <= insert_after:
            _copy(deep.field.sublayers(l)[0], net.field.sublayers(l)[0])
        elif l > insert_after + 1:
            _copy(deep.field.sublayers(l)[0], net.field.sublayers(l - 1)[0])
    _copy(deep.readout, net.readout)
    return deep, deep.field.sublayers(insert_after + 1)[0]


@pytest.mark.parametrize("seed", [0, 1, 3])
def test_more_layers_is_a_larger_space_for_relu(seed):
    """Lemma 6.1.2: after a ReLU layer the states are ≥ 0, so relu(I z + 0) = z and a layer can
    be inserted without changing the function — exactly."""
    net = deepdyn.MLP(2, 3, 3, activation="relu", readout="identity", dtype=D, seed=seed)
    X = _grid()
    assert net(X).std() > 1e-3  # not a born-dead (constant) net, where any layer would do
    deep, new = _deeper(net, 0, "relu")
    with torch.no_grad():
        new.weight[0] = torch.eye(3, dtype=D)
        new.bias.zero_()
    assert torch.equal(deep(X), net(X))
    with torch.no_grad():  # and the check can fail: a different inserted layer changes it
        new.weight[0, 0, 1] = 0.5
    assert (deep(X) - net(X)).abs().max() > 1e-3


def test_for_tanh_the_inclusion_holds_only_in_the_closure():
    """The remark after Cor. 6.1.1 ("analogously for sigmoid and tanh") needs a layer that is
    the identity; tanh(εz)/ε is not, it only tends to it: with the next layer's weights scaled
    by 1/ε the error falls as ε² and is never 0 (thesis notes: the inclusion holds in the
    closure of the larger space)."""
    net = deepdyn.MLP(2, 3, 3, activation="tanh", readout="identity", dtype=D, seed=3)
    X = _grid()
    with torch.no_grad():
        target = net(X)
    errors = []
    for eps in (1e-1, 1e-2, 1e-3):
        deep, new = _deeper(net, 0, "tanh")
        nxt = deep.field.sublayers(2)[0]
        with torch.no_grad():
            new.weight[0] = eps * torch.eye(3, dtype=D)
            new.bias.zero_()
            nxt.weight.mul_(1 / eps)
        with torch.no_grad():
            errors.append(float((deep(X) - target).abs().max()))
    assert all(e > 0 for e in errors)
    for a, b in itertools.pairwise(errors):
        assert 80 < a / b < 120  # ε² rate: a factor 100 per decade of ε


def test_more_components_is_a_larger_space():
    """Lemma 6.1.1: a width-C ReLU net is a width-(C+1) net whose extra unit has zero weights
    in and out (σ(0) = 0), exactly — the padding deepdyn.dynamics.pad_ensemble uses."""
    net = deepdyn.MLP(2, 3, 3, activation="relu", readout="identity", dtype=D, seed=4)
    wide = deepdyn.MLP(2, 4, 3, activation="relu", readout="identity", dtype=D)
    with torch.no_grad():
        for l in range(3):
            src, dst = net.field.sublayers(l)[0], wide.field.sublayers(l)[0]
            dst.weight.zero_()
            dst.bias.zero_()
            n_in = src.weight.shape[2]
            dst.weight[0, :3, :n_in] = src.weight[0]
            dst.bias[0, :3] = src.bias[0]
        wide.readout.weight.zero_()
        wide.readout.weight[0, :, :3] = net.readout.weight[0]
        wide.readout.bias.copy_(net.readout.bias)
    X = _grid()
    assert torch.equal(wide(X), net(X))


def test_a_dead_unit_removes_a_dimension_from_the_next_layers_input():
    """Prop. 8.1.1: a dead unit's component is 0 on all data, so the states the next layer
    receives span one dimension less, and its weights in the next layer change nothing."""
    net = deepdyn.MLP(2, 3, 3, activation="relu", readout="identity", dtype=D, seed=5)
    X = _grid()
    first = net.field.sublayers(0)[0]

    def rank_of_layer_one() -> int:
        z = net.trajectory(X).states[1]  # (sample, component) after the first hidden layer
        s = torch.linalg.svdvals(z - z.mean(0))
        return int((s > 1e-10 * s[0]).sum())

    alive = rank_of_layer_one()
    assert alive == 3
    with torch.no_grad():
        first.bias[0, 1] = -100.0  # unit 2 of layer 1: relu(w·x − 100) = 0 on the grid
    assert rank_of_layer_one() == alive - 1
    before = net(X)
    with torch.no_grad():
        net.field.sublayers(1)[0].weight[0, :, 1] = torch.randn(3, dtype=D)
    assert torch.equal(net(X), before)
