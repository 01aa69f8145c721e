"""Exact embeddings of MLPs into wider and deeper ones (thesis Lemmas 6.1.1, 6.1.2), float64."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from deepdyn import MLP, ResNet
from deepdyn.analysis.embedding import deepen, widen

D = torch.float64


def _x(n=300, d=2, seed=0):
    return 3 * torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=D)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "softplus", "leaky_relu"])
@pytest.mark.parametrize("readout,k", [(None, 1), ("sigmoid", 1), ("softmax", 3)])
def test_widen_is_exact(activation, readout, k):
    for ensemble, seed in ((None, 1), (4, 7)):
        net = MLP(
            2,
            [3, 2, 4],
            3,
            k,
            activation=activation,
            readout=readout,
            init="he",
            bias_init="normal",
            ensemble=ensemble,
            seed=seed,
            dtype=D,
        )
        wide = widen(net, [5, 6, 4])
        assert wide.field.widths == (2, 5, 6, 4)
        x = _x()
        with torch.no_grad():
            diff = (wide(x) - net(x)).abs().max()
            # the states of the wide net hold the narrow states in their first components
            zs, zw = net.trajectory(x), wide.trajectory(x)
            for l in range(4):
                c = net.field.widths[l]
                torch.testing.assert_close(zw.state(l)[..., :c], zs.state(l), rtol=0, atol=1e-12)
        assert float(diff) < 1e-12
        # for sigmoid and softplus the extra units fire (σ(0) ≠ 0), and the output is still
        # exact: the zero columns of the next layer ignore them
        if activation in ("sigmoid", "softplus"):
            assert float(zw.state(1)[..., 3:].min()) >= 0.5


@pytest.mark.parametrize("ensemble", [None, 3])
def test_deepen_relu_is_exact_at_every_position(ensemble):
    net = MLP(
        2,
        [4, 3, 5],
        3,
        2,
        activation="relu",
        readout="softmax",
        init="he",
        bias_init="normal",
        ensemble=ensemble,
        dtype=D,
    )
    x = _x()
    with torch.no_grad():
        ref = net(x)
        for q in (1, 2, 3):
            deep = deepen(net, 2, position=q)
            assert deep.depth == 5
            assert deep.field.widths[q + 1 : q + 3] == (net.field.widths[q],) * 2
            assert float((deep(x) - ref).abs().max()) < 1e-12
    # Corollary 6.1.1: wider and deeper at once
    both = widen(deepen(net, 1), 6)
    with torch.no_grad():
        assert float((both(x) - ref).abs().max()) < 1e-12


def test_deepen_identity_activation_at_the_input():
    net = MLP(2, 3, 2, activation="identity", readout=None, init="he", bias_init="normal", dtype=D)
    deep = deepen(net, 1, position=0)
    x = _x()
    with torch.no_grad():
        assert float((deep(x) - net(x)).abs().max()) < 1e-12


def test_deepen_relu_before_the_first_layer_would_not_be_exact():
    # why position 0 is refused for ReLU: σ(I x) = ReLU(x) ≠ x for negative inputs, so the
    # naive insertion changes the function (checked by building it by hand)
    net = MLP(2, 2, 1, activation="relu", readout=None, init="he", bias_init="normal", dtype=D)
    naive = MLP(2, 2, 2, activation="relu", readout=None, dtype=D)
    with torch.no_grad():
        naive.field.sublayers(0)[0].weight[0] = torch.eye(2, dtype=D)
        naive.field.sublayers(0)[0].bias.zero_()
        naive.field.sublayers(1)[0].weight.copy_(net.field.sublayers(0)[0].weight)
        naive.field.sublayers(1)[0].bias.copy_(net.field.sublayers(0)[0].bias)
        x = _x()
        assert float((naive(x) - net(x)).abs().max()) > 1e-3
    with pytest.raises(ValueError, match=r"position must be in 1 … 1 for relu \(got 0\)"):
        deepen(net, 1, position=0)


def test_embedding_errors_are_one_line():
    net = MLP(2, 3, 2, activation="tanh", dtype=D)
    cases = [
        (lambda: deepen(net), r'exact only for relu or identity activations, got "tanh"'),
        (lambda: widen(net, 2), r"cannot shrink layer 0: width 2 < current width 3"),
        (lambda: widen(net, [4]), r"width has 1 entries, expected one per layer \(2\)"),
        (lambda: widen(ResNet(2, 2, 2, dtype=D), 3), r'needs an MLP .* scheme "euler"'),
        (lambda: deepen(MLP(2, 3, 2, dtype=D), 0), r"layers must be ≥ 1, got 0"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message) as err:
            call()
        assert "\n" not in str(err.value)


@settings(max_examples=25, deadline=None)
@given(
    widths=st.lists(st.integers(1, 4), min_size=1, max_size=4),
    extra=st.lists(st.integers(0, 3), min_size=4, max_size=4),
    activation=st.sampled_from(["relu", "tanh", "sigmoid", "softplus", "leaky_relu"]),
    inputs=st.integers(1, 3),
    seed=st.integers(0, 10_000),
)
def test_widen_property(widths, extra, activation, inputs, seed):
    # any MLP shape, any activation: the widened net computes the same function
    net = MLP(
        inputs,
        widths,
        len(widths),
        2,
        activation=activation,
        readout="identity",
        init="he",
        bias_init="normal",
        seed=seed,
        dtype=D,
    )
    wide = widen(net, [w + e for w, e in zip(widths, extra)])
    x = _x(64, inputs, seed)
    with torch.no_grad():
        assert float((wide(x) - net(x)).abs().max()) < 1e-12
