"""Initializers draw from the laws they name (statistics on large layers, fixed seeds)."""

import math

import pytest
import torch

import deepdyn as dd

D = torch.float64


def _weights(init, scale=1.0, width=300, **kw):
    net = dd.ResNet(width, width, 2, init=init, scale=scale, lift="identity", dtype=D, **kw)
    (sub,) = net.field.sublayers(0)
    return sub.weight[0], sub.bias[0]


@pytest.mark.parametrize("gamma", [0.1, 1.0, 3.0])
def test_uniform_bounds_and_variance(gamma):
    w, b = _weights("uniform", gamma)
    assert w.abs().max() <= gamma and b.abs().max() <= gamma
    assert abs(w.var().item() / (gamma**2 / 3) - 1) < 0.02  # 90 000 draws
    assert abs(w.mean().item()) < 0.01 * gamma


@pytest.mark.parametrize(("init", "var"), [("normal", 0.25), ("he", 2 / 300), ("lecun", 1 / 300)])
def test_normal_family_variance(init, var):
    w, b = _weights(init, 0.5 if init == "normal" else 1.0)
    assert abs(w.var().item() / var - 1) < 0.03
    if init != "normal":
        assert torch.all(b == 0)  # bias_init="auto": zero for fan-scaled laws


def test_glorot_bound_orthogonal_and_zero():
    w, _ = _weights("glorot")
    assert w.abs().max() <= math.sqrt(6 / 600)
    q, b = _weights("orthogonal", width=40)
    torch.testing.assert_close(q.T @ q, torch.eye(40, dtype=D))
    assert torch.all(b == 0)
    z, bz = _weights("zero", width=5)
    assert torch.all(z == 0) and torch.all(bz == 0)


def test_bias_init_override_and_seeds():
    _, b = _weights("he", bias_init="uniform", scale=0.3)
    assert b.abs().max() <= 0.3 and b.abs().max() > 0.2
    w1, _ = _weights("uniform", seed=1, width=4)
    w2, _ = _weights("uniform", seed=2, width=4)
    w1b, _ = _weights("uniform", seed=1, width=4)
    assert torch.equal(w1, w1b) and not torch.equal(w1, w2)
