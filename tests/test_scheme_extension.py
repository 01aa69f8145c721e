"""The extension point: a scheme defined here alone (explicit midpoint), registered, gets the
forward pass, trajectories, costates, Jacobians, residual inverse and its convergence order
against the ODE — with no change under src/."""

import numpy as np
import pytest
import torch
import torchdiffeq

import deepdyn as dd
import deepdyn.analysis
import deepdyn.train
from deepdyn.dynamics import SCHEMES

D = torch.float64


class Midpoint(dd.Scheme):
    """z_{l+1} = z_l + h f(z_l + h/2 f(z_l)): the explicit midpoint rule, order 2."""

    name = "midpoint"
    order = 2

    def increment(self, f, z, h, *, fz=None):
        k1 = f(z) if fz is None else fz
        return self.coef(h, z) * f(z + self.coef(0.5 * h, z) * k1)

    def step(self, f, z, h, *, fz=None, z_prev=None, h_prev=None):
        return z + self.increment(f, z, h, fz=fz)

    def increment_lipschitz(self, x):
        return x * (1 + x / 2)


@pytest.fixture
def midpoint():
    dd.register_scheme(Midpoint)
    try:
        yield SCHEMES["midpoint"]
    finally:
        SCHEMES.pop("midpoint")


def _fixed_field(net, A, b):
    with torch.no_grad():
        for l in range(net.depth):
            net.layer(l).set(weight=A, bias=b)
    return net


def test_midpoint_forward_trajectory_and_order(midpoint):
    g = torch.Generator().manual_seed(0)
    A = torch.randn(2, 2, generator=g, dtype=D) * 1.5
    b = torch.randn(2, generator=g, dtype=D) * 0.5
    x = torch.rand(50, 2, generator=g, dtype=D) * 2 - 1
    t = torch.tensor([0.0, 1.0], dtype=D)
    field = lambda _t, z: torch.tanh(z @ A.T + b)  # noqa: E731
    exact = torchdiffeq.odeint(field, x, t, rtol=1e-12, atol=1e-13)[-1]
    depths, errors = [8, 16, 32, 64, 128], []
    for L in depths:
        net = _fixed_field(dd.ResNet(2, 2, L, scheme="midpoint", readout=None, dtype=D), A, b)
        # one layer by hand: z + h tanh(A (z + h/2 tanh(A z + b)) + b)
        h = 1.0 / L
        z1 = x + h * torch.tanh((x + h / 2 * torch.tanh(x @ A.T + b)) @ A.T + b)
        tr = net.trajectory(x)
        torch.testing.assert_close(tr.states[1], z1, rtol=1e-14, atol=1e-14)
        torch.testing.assert_close(tr.states[-1], net(x), rtol=0, atol=0)
        errors.append(float((net(x) - exact).norm(dim=-1).max()))
    slope = np.polyfit(np.log(depths), np.log(errors), 1)[0]
    assert abs(slope + midpoint.order) < 0.1, slope


def test_midpoint_costates_jacobians_and_inverse(midpoint):
    g = torch.Generator().manual_seed(1)
    X = torch.randn(12, 2, generator=g, dtype=D)
    y = (X[:, 0] * X[:, 1] > 0).to(D)
    net = dd.ResNet(2, 3, 4, scheme="midpoint", dtype=D, seed=2, T=0.8)
    # costates p_l = −∂J/∂z_l, against autograd through the network's own forward pass
    cs = deepdyn.train.costates(net, X, y)
    z = [net.lift(X.unsqueeze(0)).detach().requires_grad_(True)]
    for l in range(net.depth):
        z.append(net.layer_step(l, z[-1]))
    J = torch.nn.functional.binary_cross_entropy_with_logits(
        net.readout.logits(z[-1]), y[None, :, None]
    )
    grads = torch.autograd.grad(J, z)
    for l in range(net.depth + 1):
        torch.testing.assert_close(cs.costates[l], -grads[l], rtol=1e-10, atol=1e-12)
    # layer Jacobians against autograd's
    jac = deepdyn.analysis.jacobians(net, X[:3])
    for i in range(3):
        zi = net.trajectory(X[i : i + 1]).states[1, 0]
        ref = torch.autograd.functional.jacobian(
            lambda u: net.layer_step(1, u[None, None])[0, 0], zi
        )
        torch.testing.assert_close(jac[1, i], ref, rtol=1e-10, atol=1e-12)
    # the residual inverse and the Lipschitz certificate use the same step
    small = dd.ResNet(2, 2, 3, scheme="midpoint", dtype=D, T=0.3, readout=None)
    zL = small.flow(X)
    torch.testing.assert_close(deepdyn.analysis.invert(small, zL), X, rtol=1e-9, atol=1e-9)
    check = deepdyn.analysis.check_layers(small)
    assert bool(check.homeomorphism.all())
