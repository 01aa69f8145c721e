"""Layer Jacobians, pullback metric and Lyapunov exponents (thesis §7) against autograd and
closed forms, float64."""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
import torch

from deepdyn import MLP, NeuralODE, ResNet
from deepdyn.analysis.geometry import (
    determinants,
    draw_metric_ellipses,
    jacobians,
    lyapunov_exponents,
    metric_ellipses,
    pullback_metrics,
    singular_values,
    step,
)

D = torch.float64


def _x(n=7, d=2, seed=0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=D)


def _autograd_jacobians(net, x):
    """J_l per sample by reverse-mode torch.autograd.functional.jacobian, one member, one sample
    at a time: the independent reference."""
    tr = net.trajectory(x)
    out = []
    for l in range(net.depth):
        z = tr.state(l).detach()
        rows = []
        for i in range(z.shape[0]):
            rows.append(
                torch.autograd.functional.jacobian(
                    lambda u, l=l: step(net, l, u[None, None])[0, 0], z[i]
                )
            )
        out.append(torch.stack(rows))  # (sample, C_{l+1}, C_l)
    return out


NETS = {
    "mlp-tanh-varying": lambda: MLP(2, [3, 4, 2], 3, activation="tanh", readout=None, dtype=D),
    "mlp-softplus": lambda: MLP(2, 2, 4, activation="softplus", readout=None, dtype=D),
    "resnet-euler": lambda: ResNet(2, 3, 4, activation="tanh", scale=2.0, readout=None, dtype=D),
    "resnet-heun": lambda: ResNet(
        2, 2, 3, scheme="heun", field="bottleneck", hidden=5, readout=None, dtype=D
    ),
}


@pytest.mark.parametrize("name", sorted(NETS))
def test_jacobians_match_reverse_mode_autograd(name):
    net = NETS[name]()
    x = _x()
    jac = jacobians(net, x)
    ref = _autograd_jacobians(net, x)
    assert jac.shape == (net.depth, 7, net.width, net.width)
    for l, r in enumerate(ref):
        co, ci = r.shape[1:]
        torch.testing.assert_close(jac[l, :, :co, :ci], r, rtol=0, atol=1e-12)
        if co < net.width:
            assert jac[l, :, co:, :].abs().max() == 0  # padding stays zero
    sv = singular_values(net, x)
    for l, r in enumerate(ref):
        k = min(r.shape[1:])
        torch.testing.assert_close(sv[l, :, :k], torch.linalg.svdvals(r), rtol=0, atol=1e-12)


def test_jacobian_closed_form_perceptron_and_ensemble():
    # J_l = diag(σ'(A z + b)) A for σ = tanh, σ' = 1 − tanh²; every member of an ensemble
    net = MLP(3, 3, 3, activation="tanh", readout=None, dtype=D, ensemble=4, scale=1.5)
    x = _x(5, 3)
    jac = jacobians(net, x)  # (layer, ensemble, sample, C, C)
    states = net.trajectory(x).states.detach()  # (layer, ensemble, sample, C)
    for l in range(3):
        (sub,) = net.field.sublayers(l)
        A, b = sub.weight.detach(), sub.bias.detach()
        pre = torch.einsum("eoi,esi->eso", A, states[l]) + b[:, None, :]
        expected = (1 - torch.tanh(pre) ** 2)[..., None] * A[:, None]
        torch.testing.assert_close(jac[l], expected, rtol=0, atol=1e-13)
    # determinants: det J = det A · ∏ σ'
    (sub,) = net.field.sublayers(0)
    pre = torch.einsum("oi,si->so", sub.weight[2].detach(), x) + sub.bias[2].detach()
    expected_det = torch.linalg.det(sub.weight[2].detach()) * (1 - torch.tanh(pre) ** 2).prod(-1)
    torch.testing.assert_close(determinants(net, x)[0, 2], expected_det, rtol=1e-12, atol=0)


def test_residual_step_jacobian_is_identity_plus_h_field():
    net = ResNet(2, 2, 2, h=0.3, activation="tanh", readout=None, dtype=D)
    x = _x()
    (sub,) = net.field.sublayers(0)
    A, b = sub.weight[0].detach(), sub.bias[0].detach()
    d = 1 - torch.tanh(x @ A.T + b) ** 2
    expected = torch.eye(2, dtype=D) + 0.3 * d[:, :, None] * A
    torch.testing.assert_close(jacobians(net, x)[0], expected, rtol=0, atol=1e-14)


def test_pullback_metric_measures_output_lengths():
    # vᵀ g^(l) v = |J_{L−1} ⋯ J_l v|², checked by finite differences of the flow from layer 0
    net = MLP(2, 2, 5, activation="tanh", readout=None, dtype=D, scale=1.3)
    x = _x(4)
    g = pullback_metrics(net, x)
    assert g.shape == (6, 4, 2, 2)
    torch.testing.assert_close(g[-1], torch.eye(2, dtype=D).expand(4, 2, 2))
    torch.testing.assert_close(g, g.transpose(-1, -2), rtol=0, atol=1e-14)
    v = torch.tensor([0.6, -0.8], dtype=D)
    eps = 1e-6
    with torch.no_grad():
        fd = (net.flow(x + eps * v) - net.flow(x - eps * v)) / (2 * eps)  # (sample, C)
    torch.testing.assert_close(
        torch.einsum("i,sij,j->s", v, g[0], v), (fd**2).sum(-1), rtol=1e-6, atol=1e-9
    )
    # a linear network pulls the metric back exactly: g^(0) = Pᵀ M P with P = A_{L−1} ⋯ A_0
    lin = MLP(2, 2, 3, activation="identity", readout=None, dtype=D, bias_init="zero")
    M = torch.tensor([[2.0, 0.5], [0.5, 1.0]], dtype=D)
    P = torch.eye(2, dtype=D)
    for l in range(3):
        P = lin.field.sublayers(l)[0].weight[0].detach() @ P
    g0 = pullback_metrics(lin, x, metric=M)[0]
    torch.testing.assert_close(g0, (P.T @ M @ P).expand(4, 2, 2), rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match=r"symmetric \(2, 2\)"):
        pullback_metrics(lin, x, metric=torch.eye(3, dtype=D))


def _linear_net(A, L, *, scheme="map", h=1.0):
    C = A.shape[0]
    if scheme == "map":
        net = MLP(C, C, L, activation="identity", readout=None, dtype=D)
    else:
        net = ResNet(C, C, L, h=h, activation="identity", readout=None, dtype=D)
    with torch.no_grad():
        for l in range(L):
            (sub,) = net.field.sublayers(l)
            sub.weight[0] = A
            sub.bias.zero_()
    return net


def test_lyapunov_exponents_of_linear_networks():
    c, s = math.cos(0.4), math.sin(0.4)
    Q = torch.tensor([[c, -s], [s, c]], dtype=D)
    A = Q @ torch.diag(torch.tensor([2.0, 0.5], dtype=D)) @ Q.T
    lam = lyapunov_exponents(_linear_net(A, 6), _x(3))  # (layer, sample, component)
    expected = torch.tensor([math.log(2), math.log(0.5)], dtype=D).expand(6, 3, 2)
    torch.testing.assert_close(lam, expected, rtol=0, atol=1e-12)
    # residual steps z + h A z: exponent log(1 + h a) / h, time t_l = l h
    h = 0.25
    lam = lyapunov_exponents(_linear_net(A, 8, scheme="euler", h=h), _x(2))
    exp = torch.tensor([math.log(1 + 2 * h) / h, math.log(1 + 0.5 * h) / h], dtype=D)
    torch.testing.assert_close(lam[-1], exp.expand(2, 2), rtol=0, atol=1e-12)
    # 1500 layers: 2^1500 overflows float64, the renormalized product does not (z = 0 is a
    # fixed point, so the states stay finite while the Jacobian product grows like 2^l)
    lam = lyapunov_exponents(_linear_net(A, 1500), torch.zeros(1, 2, dtype=D))
    assert abs(float(lam[-1, 0, 0]) - math.log(2)) < 1e-12


def test_metric_ellipses_closed_form_and_drawing():
    c, s = math.cos(math.radians(30)), math.sin(math.radians(30))
    R = torch.tensor([[c, -s], [s, c]], dtype=D)
    g = R @ torch.diag(torch.tensor([4.0, 1.0], dtype=D)) @ R.T
    major, minor, angle = metric_ellipses(g[None])
    assert abs(major[0] - 2) < 1e-12 and abs(minor[0] - 1) < 1e-12
    assert abs((angle[0] - 30 + 90) % 180 - 90) < 1e-9
    fig, ax = plt.subplots()
    pts = torch.tensor([[0.0, 0.0], [1.0, 0.0]], dtype=D)
    coll = draw_metric_ellipses(ax, pts, torch.stack([g, torch.eye(2, dtype=D)]))
    # the largest semi-major axis is 0.45 of the spacing (1.0)
    assert abs(float(coll._widths.max()) - 0.45) < 1e-12  # matplotlib stores semi-axes
    plt.close(fig)
    with pytest.raises(ValueError, match=r"2 × 2 metrics"):
        metric_ellipses(torch.eye(3))
    with pytest.raises(ValueError, match=r"\(sample, 2\)"):
        draw_metric_ellipses(ax, torch.zeros(2, 3), torch.stack([g, g]))


def test_bad_inputs_one_line_errors():
    ode = NeuralODE(2, 2, 2, readout=None, dtype=D)
    with pytest.raises(ValueError, match="one-step scheme") as err:
        jacobians(ode, _x())
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="square layers"):
        determinants(MLP(2, 3, 2, readout=None, dtype=D), _x())
    with pytest.raises(ValueError, match="features"):
        jacobians(MLP(2, 3, 2, readout=None, dtype=D), _x(4, 3))
