"""Schemes against closed forms and independent computations (float64)."""

import copy
import math

import numpy as np
import pytest
import torch
import torchdiffeq

import deepdyn as dd
from deepdyn.dynamics import ACTIVATIONS, SCHEMES, residual_fixed

D = torch.float64


def _linear_resnet(A, L, scheme="euler", T=1.0, **kw):
    C = A.shape[0]
    cls = dd.NeuralODE if scheme == "ode" else dd.ResNet
    extra = {} if scheme == "ode" else {"scheme": scheme}
    net = cls(C, C, L, activation="identity", readout=None, bias_init="zero", T=T, dtype=D,
              **extra, **kw)  # fmt: skip
    with torch.no_grad():
        for layer in net.field.layers:
            layer[0].weight[0] = A
            layer[0].bias.zero_()
    return net


def _random_matrix(C, seed, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(C, C, generator=g, dtype=D) * scale / math.sqrt(C)


def test_linear_euler_is_matrix_power():
    A = _random_matrix(3, 0)
    x = torch.randn(5, 3, dtype=D, generator=torch.Generator().manual_seed(1))
    for L in (1, 7, 32):
        net = _linear_resnet(A, L, T=2.0)
        h = 2.0 / L
        expected = x @ torch.linalg.matrix_power(torch.eye(3, dtype=D) + h * A, L).T
        torch.testing.assert_close(net(x), expected, rtol=1e-12, atol=1e-12)


def test_linear_ode_is_matrix_exponential():
    A = _random_matrix(3, 2)
    x = torch.randn(6, 3, dtype=D, generator=torch.Generator().manual_seed(3))
    net = _linear_resnet(A, 4, scheme="ode", T=1.5, rtol=1e-10, atol=1e-12)
    expected = x @ torch.linalg.matrix_exp(1.5 * A).T
    err = (net(x) - expected).abs().max().item()
    assert err < 1e-8
    # every recorded state, knots and extra times, follows exp(tA) x
    tr = net.trajectory(x, times=[0.1, 0.6, 1.2])
    for t, z in zip(tr.times, tr.states):
        ref = x @ torch.linalg.matrix_exp(float(t) * A).T
        assert (z - ref).abs().max().item() < 1e-8
    assert tr.layer_index == (0, 2, 4, 5, 7)  # knots 0, .375, .75, 1.125, 1.5
    torch.testing.assert_close(tr.at_layers().states[-1], net(x))


def _nonlinear_field_net(scheme, L, seed=0):
    """A fixed tanh field f(z) = tanh(A z + b), the same θ at every layer (a time-independent
    vector field), T = 1."""
    net = dd.ResNet(2, 2, L, scheme=scheme, readout=None, dtype=D, activation="tanh")
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(2, 2, generator=g, dtype=D) * 1.5
    b = torch.randn(2, generator=g, dtype=D) * 0.5
    with torch.no_grad():
        for layer in net.field.layers:
            layer[0].weight[0] = A
            layer[0].bias[0] = b
    return net, A, b


def _reference(A, b, x, second_order):
    f = lambda z: torch.tanh(z @ A.T + b)  # noqa: E731
    t = torch.tensor([0.0, 1.0], dtype=D)
    if second_order:
        y0 = torch.cat([x, torch.zeros_like(x)], dim=-1)
        rhs = lambda _t, y: torch.cat([y[:, 2:], f(y[:, :2])], dim=-1)  # noqa: E731
        return torchdiffeq.odeint(rhs, y0, t, rtol=1e-12, atol=1e-13, method="dopri5")[-1, :, :2]
    return torchdiffeq.odeint(lambda _t, z: f(z), x, t, rtol=1e-12, atol=1e-13)[-1]


@pytest.mark.parametrize(
    ("scheme", "order"), [(n, SCHEMES[n].order) for n in residual_fixed()]
)  # every registered residual scheme: euler 1, heun 2, leapfrog 2, rk4 4, …
def test_convergence_order(scheme, order):
    x = torch.rand(50, 2, dtype=D, generator=torch.Generator().manual_seed(5)) * 2 - 1
    depths = [16, 32, 64, 128, 256]
    errors = []
    for L in depths:
        net, A, b = _nonlinear_field_net(scheme, L)
        ref = _reference(A, b, x, second_order=SCHEMES[scheme].second_order)
        errors.append((net(x) - ref).abs().max().item())
    slope = np.polyfit(np.log(depths), np.log(errors), 1)[0]
    assert abs(-slope - order) < 0.1, (scheme, slope, errors)


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_gradcheck_every_scheme(scheme):
    kw = dict(readout="sigmoid", dtype=D, seed=3, scale=0.8)
    if scheme == "map":
        net = dd.MLP(2, 3, 3, activation="tanh", **kw)
    elif scheme == "ode":
        net = dd.NeuralODE(2, 3, 2, solver="rk4", options={"step_size": 0.1}, **kw)
    else:
        net = dd.ResNet(2, 3, 3, scheme=scheme, **kw)
    x = torch.randn(4, 2, dtype=D, requires_grad=True)
    params = tuple(net.parameters())

    def fn(x, *ps):
        saved = [p.data for p in params]
        for p, v in zip(params, ps):
            p.data = v
        try:
            out = torch.func.functional_call(
                net, {n: v for (n, _), v in zip(net.named_parameters(), ps)}, (x,)
            )
        finally:
            for p, v in zip(params, saved):
                p.data = v
        return out

    inputs = (x, *[p.detach().clone().requires_grad_(True) for p in params])
    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-7)


def test_ode_adjoint_matches_backprop():
    x = torch.randn(8, 2, dtype=D, generator=torch.Generator().manual_seed(0))
    y = torch.rand(8, 1, dtype=D, generator=torch.Generator().manual_seed(1))
    grads = []
    for adjoint in (False, True):
        net = dd.NeuralODE(2, 3, 3, adjoint=adjoint, rtol=1e-10, atol=1e-12, dtype=D, seed=4)
        loss = ((net(x) - y) ** 2).mean()
        grads.append(torch.autograd.grad(loss, list(net.parameters())))
    for g0, g1 in zip(*grads):
        torch.testing.assert_close(g0, g1, rtol=0, atol=1e-6)


def _by_hand(net, x):
    """States z_0 … z_L by the explicit formulas, from the raw parameter tensors."""
    z = x
    states = [z]
    for l, layer in enumerate(net.field.layers):
        A, b = layer[0].weight[0], layer[0].bias[0]
        act = dd.dynamics.activation(net.field.activation)
        f = act(z @ A.T + b)
        if net.scheme == "map":
            z = f
        elif net.scheme == "euler":
            z = z + net.h[l] * f
        states.append(z)
    return states


@pytest.mark.parametrize("make", [
    lambda: dd.MLP(2, 2, 5, activation="tanh", dtype=D, seed=1),
    lambda: dd.MLP(1, [3, 4, 2], 3, activation="relu", dtype=D, seed=2),
    lambda: dd.ResNet(2, 2, 6, h=[0.1, 0.3, 0.2, 0.5, 0.05, 0.4], dtype=D, seed=3),
])  # fmt: skip
def test_trajectory_states_are_layers_applied_by_hand(make):
    net = make()
    x = torch.randn(7, net.in_features, dtype=D, generator=torch.Generator().manual_seed(9))
    tr = net.trajectory(x, preactivations=True)
    hand = _by_hand(net, x)
    assert tr.states.shape[0] == net.depth + 1
    for l, z in enumerate(hand):
        torch.testing.assert_close(tr.state(l), z, rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(tr.state(-1), hand[-1])
    # pre-activations: A_l z_l + b_l
    for l, layer in enumerate(net.field.layers):
        A, b = layer[0].weight[0], layer[0].bias[0]
        pre = tr.preactivations[l, :, : A.shape[0]]
        torch.testing.assert_close(pre, hand[l] @ A.T + b)
    # the last state feeds the readout
    torch.testing.assert_close(net(x), torch.sigmoid(hand[-1] @ net.readout.weight[0].T
                                                     + net.readout.bias[0]))  # fmt: skip


def test_trajectory_times_and_xarray():
    net = dd.ResNet(2, 2, 4, h=[0.1, 0.2, 0.3, 0.4], ensemble=3)
    tr = net.trajectory(torch.zeros(5, 2), preactivations=True)
    torch.testing.assert_close(tr.times, torch.tensor([0, 0.1, 0.3, 0.6, 1.0], dtype=D))
    ds = tr.to_xarray()
    assert ds["states"].dims == ("layer", "ensemble", "sample", "component")
    assert ds["states"].shape == (5, 3, 5, 2)
    back = dd.Trajectory.from_xarray(ds)
    torch.testing.assert_close(back.states, tr.states.detach())
    assert back.layer_index == tr.layer_index and back.ensemble == 3


def test_varying_widths_are_zero_padded():
    net = dd.MLP(1, [4, 2, 3], 3, dtype=D)
    tr = net.trajectory(torch.linspace(-1, 1, 5, dtype=D)[:, None])
    assert tr.widths == (1, 4, 2, 3)
    assert tr.states.shape == (4, 5, 4)
    assert torch.all(tr.states[2, :, 2:] == 0)
    assert tr.state(2).shape == (5, 2)


def test_plain_pytorch_interop(tmp_path):
    net = dd.ResNet(2, 3, 4, seed=0)
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    x = torch.randn(32, 2, generator=torch.Generator().manual_seed(0))
    y = (x.norm(dim=1, keepdim=True) < 1).float()
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    torch.save(net.state_dict(), tmp_path / "net.pt")
    other = dd.ResNet(2, 3, 4, seed=123)
    assert not torch.equal(other(x), net(x))
    other.load_state_dict(torch.load(tmp_path / "net.pt"))
    torch.testing.assert_close(other(x), net(x), rtol=0, atol=0)
    dbl = copy.deepcopy(net).double()
    assert dbl(x.double()).dtype == D
    assert net.to("cpu")(x).device.type == "cpu"


def test_with_scheme_reads_a_resnet_as_its_ode():
    net, A, b = _nonlinear_field_net("euler", 512)
    x = torch.rand(10, 2, dtype=D) * 2 - 1
    ode = net.with_scheme("ode", rtol=1e-10, atol=1e-12)
    ref = _reference(A, b, x, second_order=False)
    assert (ode(x) - ref).abs().max() < 1e-8
    assert (net(x) - ref).abs().max() < 5e-3  # Euler is first order: O(1/L)


@pytest.mark.parametrize("act", list(ACTIVATIONS))
def test_networks_pickle(act):
    import pickle

    net = dd.ResNet(2, 3, 2, activation=act, dtype=D)
    x = torch.randn(4, 2, dtype=D)
    torch.testing.assert_close(pickle.loads(pickle.dumps(net))(x), net(x), rtol=0, atol=0)


@pytest.mark.parametrize("make", [
    lambda: dd.MLP(1, [3, 2, 4], 3, ensemble=3, dtype=D),
    lambda: dd.ResNet(2, 2, 5, scheme="leapfrog", dtype=D),
    lambda: dd.NeuralODE(2, 2, 3, ensemble=2, dtype=D),
])  # fmt: skip
def test_layer_map_equals_statistic_of_trajectory(make):
    net = make()
    x = torch.randn(11, net.in_features, dtype=D, generator=torch.Generator().manual_seed(0))
    stat = net.layer_map(x, lambda z: z.norm(dim=-1).mean(-1))  # (layer, ensemble)
    tr = net.trajectory(x)
    states = tr.states if net.ensemble is not None else tr.states.unsqueeze(1)
    # zero padding does not change the norm
    torch.testing.assert_close(stat, states.norm(dim=-1).mean(-1), rtol=1e-13, atol=1e-13)
