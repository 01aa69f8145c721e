"""Norms of the states along depth against closed forms (linear networks, float64)."""

import pytest
import torch

import deepdyn
from deepdyn.analysis import activation_norms, function_norms

D = torch.float64


def _affine_maps(net):
    """z_l = M_l x + c_l for an identity-activation MLP (member 0)."""
    M = torch.eye(net.in_features, dtype=D)
    c = torch.zeros(net.in_features, dtype=D)
    out = [(M, c)]
    for l in range(net.depth):
        (sub,) = net.field.sublayers(l)
        W, b = sub.weight[0].detach(), sub.bias[0].detach()
        M, c = W @ M, W @ c + b
        out.append((M, c))
    return out


def test_interval_norm_of_a_linear_network():
    net = deepdyn.MLP(1, 3, 5, activation="identity", readout=None, seed=4, dtype=D)
    got = function_norms(net, (-1.0, 1.0), points=2048)
    for l, (M, c) in enumerate(_affine_maps(net)):
        # ∫_{-1}^{1} |M x + c|² dx = (2/3)|M|² + 2|c|²; midpoint error ~ |M|² h²/6
        exact = ((2 / 3) * (M**2).sum() + 2 * (c**2).sum()).sqrt()
        assert abs(float(got[l]) / float(exact) - 1) < 1e-6


def test_box_norm_of_the_identity():
    net = deepdyn.MLP(2, 2, 1, activation="identity", readout=None, dtype=D)
    with torch.no_grad():
        net.field.sublayers(0)[0].weight[0] = torch.eye(2, dtype=D)
        net.field.sublayers(0)[0].bias[0] = 0
    got = function_norms(net, ((-1.0, 1.0), (0.0, 3.0)), points=600)
    # ∫∫ x² + y² over [-1, 1] × [0, 3] = 3·(2/3) + 2·9 = 20
    assert abs(float(got[1]) ** 2 - 20) < 1e-4


def test_activation_norms_are_state_norms():
    net = deepdyn.MLP(1, 4, 6, activation="relu", ensemble=3, seed=1, dtype=D)
    X = torch.linspace(-1, 1, 33, dtype=D)[:, None]
    got = activation_norms(net, X)  # (layer, ensemble, sample)
    ref = net.trajectory(X).states.norm(dim=-1)
    assert got.shape == (7, 3, 33)
    assert torch.allclose(got, ref, rtol=0, atol=1e-14)


def test_norm_errors():
    with pytest.raises(ValueError, match="in_features must be 1 or 2, got 3"):
        function_norms(deepdyn.MLP(3, 4, 2), ((0, 1),) * 3)
    with pytest.raises(ValueError, match="points must be ≥ 1, got 0"):
        function_norms(deepdyn.MLP(1, 4, 2), (-1, 1), points=0)
