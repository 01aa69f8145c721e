"""The ``mlp`` field (q affine maps, the last one without activation): the neural-ODE literature's
Linear–ReLU–Linear–ReLU–Linear field, checked against torch.nn and torchdiffeq in float64."""

from __future__ import annotations

import pytest
import torch
import torchdiffeq
from torch import nn

import deepdyn as dd

D = torch.float64


def _sequential(d: int, hidden: int, q: int) -> nn.Sequential:
    torch.manual_seed(3)
    dims = [d] + [hidden] * (q - 1) + [d]
    layers: list[nn.Module] = []
    for i in range(q):
        layers.append(nn.Linear(dims[i], dims[i + 1]).to(D))
        if i < q - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _copy(net: dd.Network, seq: nn.Sequential, l: int = 0) -> None:
    linears = [m for m in seq if isinstance(m, nn.Linear)]
    for i, lin in enumerate(linears):
        net.layer(l).set(lin.weight.detach(), lin.bias.detach(), sublayer=i)


@pytest.mark.parametrize("q", [1, 2, 3, 5])
def test_mlp_field_is_the_sequential(q):
    d, hidden = 3, 7
    net = dd.ResNet(d, d, 1, T=0.5, field="mlp", hidden=hidden, q=q, activation="relu",
                    lift="identity", readout=None, dtype=D)  # fmt: skip
    assert [len(net.field.sublayers(0))] == [q]
    seq = _sequential(d, hidden, q)
    _copy(net, seq)
    x = torch.randn(50, d, dtype=D)
    with torch.no_grad():
        assert torch.allclose(net(x), x + 0.5 * seq(x), rtol=0, atol=1e-12)


@pytest.mark.parametrize("augment", [0, 1])
def test_neural_ode_with_mlp_field_is_torchdiffeq_on_the_module(augment):
    """Same arithmetic on a fixed grid (rk4, h = 0.05): outputs and input gradients to 1e-12.
    (With dopri5 and a ReLU field the two runs agree to the solver's tolerance only: the kinks
    make the accepted steps depend on the last bits of the field's values.)"""
    d = 2
    width = d + augment
    net = dd.NeuralODE(d, width, 1, T=1.0, field="mlp", hidden=32, q=3, activation="relu",
                       lift="pad", readout=None, solver="rk4", step_size=0.05, dtype=D)  # fmt: skip
    seq = _sequential(width, 32, 3)
    _copy(net, seq)
    x = torch.randn(40, d, dtype=D)
    z0 = torch.cat([x, x.new_zeros(40, augment)], 1)
    with torch.no_grad():
        ref = torchdiffeq.odeint(lambda t, z: seq(z), z0, torch.tensor([0.0, 1.0], dtype=D),
                                 method="rk4", options={"step_size": 0.05})[-1]  # fmt: skip
        assert torch.allclose(net(x), ref, rtol=0, atol=1e-12)
    # gradients through the solver agree as well
    x.requires_grad_(True)
    g_dd = torch.autograd.grad(net(x).pow(2).sum(), x)[0]
    z0 = torch.cat([x, x.new_zeros(40, augment)], 1)
    out = torchdiffeq.odeint(lambda t, z: seq(z), z0, torch.tensor([0.0, 1.0], dtype=D),
                             method="rk4", options={"step_size": 0.05})[-1]  # fmt: skip
    g_ref = torch.autograd.grad(out.pow(2).sum(), x)[0]
    assert torch.allclose(g_dd, g_ref, rtol=0, atol=1e-12)


def test_adaptive_solve_of_a_smooth_mlp_field_matches_torchdiffeq():
    net = dd.NeuralODE(2, 3, 1, T=1.0, field="mlp", hidden=16, q=3, activation="tanh",
                       lift="pad", readout=None, rtol=1e-10, atol=1e-12, dtype=D)  # fmt: skip
    seq = _sequential(3, 16, 3)
    seq[1], seq[3] = nn.Tanh(), nn.Tanh()
    _copy(net, seq)
    x = torch.randn(30, 2, dtype=D)
    z0 = torch.cat([x, x.new_zeros(30, 1)], 1)
    with torch.no_grad():
        ref = torchdiffeq.odeint(lambda t, z: seq(z), z0, torch.tensor([0.0, 1.0], dtype=D),
                                 rtol=1e-10, atol=1e-12, method="dopri5")[-1]  # fmt: skip
        assert torch.allclose(net(x), ref, rtol=0, atol=1e-9)


def test_mlp_field_in_a_spec_round_trips():
    spec = dd.NetworkSpec(in_features=2, width=3, depth=2, scheme="ode", field="mlp", hidden=16,
                          q=3, activation="relu", lift="pad")  # fmt: skip
    assert dd.NetworkSpec.from_json(spec.to_json()) == spec
    net = dd.build(spec)
    assert [len(net.field.sublayers(l)) for l in range(2)] == [3, 3]
    assert net.field.sublayers(0)[-1].act_name == "identity"
