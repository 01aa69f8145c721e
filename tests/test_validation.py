"""Bad input gets a one-line ValueError naming the value and the valid choices."""

import pytest
import torch

import deepdyn as dd


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: dd.MLP(2, 0, 3), ["width", "0"]),
        (lambda: dd.MLP(2, 3, 0), ["depth", "0"]),
        (lambda: dd.ResNet(2, 2, 0), ["depth", "0"]),
        (lambda: dd.MLP(2, 3, 3, activation="rleu"), ["rleu", "relu", "tanh", "softplus"]),
        (lambda: dd.ResNet(2, 2, 3, scheme="rk9"), ["rk9", "euler", "leapfrog"]),
        (lambda: dd.NeuralODE(2, 2, solver="dopri9"), ["dopri9", "dopri5", "rk4"]),
        (lambda: dd.MLP(2, 3, 3, init="xavier"), ["xavier", "glorot", "orthogonal"]),
        (lambda: dd.ResNet(2, 2, 3, field="conv"), ["conv", "bottleneck"]),
        (lambda: dd.ResNet(2, 2, 3, lift="spline"), ["spline", "pad"]),
        (lambda: dd.ResNet(2, 2, 3, readout="relu"), ["relu", "softmax"]),
        (lambda: dd.ResNet(3, 2, 3, lift="identity"), ["identity", "pad"]),
        (lambda: dd.ResNet(2, 2, 3, h=[0.1, 0.2]), ["2 steps", "3"]),
        (lambda: dd.ResNet(2, 2, 3, T=-1.0), ["T", "-1"]),
        (lambda: dd.MLP(2, 3, 3, ensemble=0), ["ensemble", "0"]),
        (lambda: dd.MLP(2, 3, 3, ensemble=2, scale=[1.0]), ["scale", "2"]),
    ],
)
def test_bad_construction(make, words):
    with pytest.raises(ValueError) as err:
        make()
    msg = str(err.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg, (w, msg)


def test_wrong_input_dimension():
    net = dd.ResNet(2, 2, 3)
    with pytest.raises(ValueError, match="3 features, expected 2"):
        net(torch.zeros(4, 3))
    with pytest.raises(ValueError, match=r"\(sample, input\)"):
        net(torch.zeros(4))
    ens = dd.ResNet(2, 2, 3, ensemble=2)
    with pytest.raises(ValueError, match="3 ensemble rows, expected 2"):
        ens(torch.zeros(3, 4, 2))


def test_trajectory_layer_out_of_range():
    tr = dd.MLP(2, 2, 3).trajectory(torch.zeros(2, 2))
    with pytest.raises(ValueError, match=r"0 … 3"):
        tr.state(4)
