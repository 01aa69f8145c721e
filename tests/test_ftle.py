"""FTLE fields: λ at a point against the log of the top singular value of the autograd Jacobian
over the horizon (float64, 1e-10), for every scheme; closed forms; the field object."""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import deepdyn
from deepdyn.analysis import FTLEField, ftle, ftle_field

D = torch.float64
TOL = 1e-10


def _x(n=6, d=2, seed=0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=D)


def _reference(net, x, l):
    """log σ_max(∂z_l/∂x) / (t_l − t_0) of one input by autograd (l = 0: the logits over t_L)."""

    def f(u):
        if l == 0:
            return net.logits(u[None])[0]
        return net.trajectory(u[None]).state(l)[0]

    J = torch.autograd.functional.jacobian(f, x)
    t = net.times[l if l else -1] - net.times[0]
    return math.log(torch.linalg.svdvals(J)[0].item()) / float(t)


NETS = {
    "mlp-widths": lambda: deepdyn.MLP(
        2, [5, 7, 3], 3, activation="tanh", init="normal", scale=1.3, dtype=D, seed=1
    ),
    "mlp-relu": lambda: deepdyn.MLP(2, 6, 3, activation="relu", init="he", dtype=D, seed=7),
    "resnet-leaky": lambda: deepdyn.ResNet(2, 3, 4, activation="leaky_relu", dtype=D, seed=8),
    "resnet-sigmoid": lambda: deepdyn.ResNet(
        2, 2, 4, activation="sigmoid", scale=3.0, dtype=D, seed=9
    ),
    "mlp-3in": lambda: deepdyn.MLP(3, 6, 4, activation="softplus", dtype=D, seed=2),
    "resnet-euler-h": lambda: deepdyn.ResNet(2, 4, 5, h=[0.1, 0.3, 0.2, 0.5, 0.1], dtype=D, seed=3),
    "resnet-rk4-bottleneck": lambda: deepdyn.ResNet(
        2, 4, 4, scheme="rk4", field="bottleneck", hidden=6, lift="affine", dtype=D, seed=4
    ),
    "leapfrog": lambda: deepdyn.ResNet(2, 3, 5, scheme="leapfrog", T=2.0, dtype=D, seed=5),
    "ode-rk4": lambda: deepdyn.NeuralODE(
        2, 3, 2, T=1.5, solver="rk4", step_size=0.05, dtype=D, seed=6
    ),
}


@pytest.mark.parametrize("name", list(NETS))
def test_ftle_equals_autograd_svd(name):
    net = NETS[name]()
    x = _x(d=net.in_features)
    lam = ftle(net, x, whole=True)
    assert lam.shape == (net.depth + 1, x.shape[0])
    for i in range(x.shape[0]):
        for r, l in enumerate([*range(1, net.depth + 1), 0]):
            assert abs(lam[r, i].item() - _reference(net, x[i], l)) < TOL, (name, i, l)


def test_ensemble_rows_are_the_members():
    net = deepdyn.ResNet(2, 3, 6, ensemble=3, T=[0.5, 1.0, 2.0], dtype=D, seed=7)
    x = _x(5)
    lam = ftle(net, x, layers=[2, 6], whole=True, chunk=2)
    assert lam.shape == (3, 3, 5)
    for k in range(3):
        m = net.member(k)
        torch.testing.assert_close(
            lam[:, k], ftle(m, x, layers=[2, 6], whole=True), rtol=0, atol=1e-13
        )
        assert abs(lam[1, k, 0].item() - _reference(m, x[0], 6)) < TOL


def test_linear_closed_form():
    """A linear map with A = diag(a, b): z_L = A^L x, λ = log max(|a|, |b|) for every x."""
    net = deepdyn.MLP(2, 2, 4, activation="identity", readout=None, dtype=D)
    for l in range(4):
        net.layer(l).set(torch.diag(torch.tensor([2.0, -0.5], dtype=D)), torch.zeros(2))
    lam = ftle(net, _x(9))
    assert torch.allclose(lam, torch.full_like(lam, math.log(2.0)), atol=1e-14, rtol=0)


def test_field_object_and_plot():
    net = deepdyn.MLP(2, 6, 3, activation="tanh", init="normal", scale=2.0, ensemble=2, seed=0)
    f = ftle_field(net, ((-2, 2), (-1, 1)), (30, 20))
    assert isinstance(f, FTLEField)
    assert f.values.shape == (4, 2, 20, 30) and f.layers == (1, 2, 3, 0)
    assert f.output.shape == (2, 20, 30, 1)
    x = torch.tensor([[f.gx[7], f.gy[4]]], dtype=torch.float32)
    assert np.isclose(f.values[2, 1, 4, 7], ftle(net, x, layers=[3])[0, 1, 0].item(), atol=1e-6)
    ds = f.to_xarray()
    assert set(ds["ftle"].dims) == {"layer", "ensemble", "gy", "gx"}
    c = f.boundary_contrast()
    assert np.isfinite(c) or np.isnan(c)
    _, ax = plt.subplots()
    f.plot(ax, layer="whole", member=1)
    f.plot(ax, layer=2)


def test_errors_are_one_line():
    net = deepdyn.MLP(2, 4, 3, readout=None)
    with pytest.raises(ValueError, match="out of range: choose 1 … 3"):
        ftle(net, _x(), layers=[0])
    with pytest.raises(ValueError, match="needs a readout"):
        ftle(net, _x(), whole=True)
    with pytest.raises(ValueError, match="drawn over 2 inputs"):
        ftle_field(deepdyn.MLP(3, 4, 2), resolution=4)
    with pytest.raises(ValueError, match="box must be"):
        ftle_field(net, ((1, 0), (0, 1)))
    with pytest.raises(ValueError, match="input has 3 features"):
        ftle(net, _x(d=3))
