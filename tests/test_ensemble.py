"""Ensemble member k equals the network built alone (docs/design.md, issue: ensembles)."""

import pytest
import torch

import deepdyn as dd
from deepdyn.dynamics import residual_fixed

D = torch.float64
SCALES = [0.5, 1.0, 1.5, 2.0]


def _build(kind, **kw):
    common = dict(dtype=D, **kw)
    if kind == "mlp":
        return dd.MLP(2, [3, 4, 3], 3, activation="tanh", **common)
    if kind == "ode":
        return dd.NeuralODE(2, 3, 3, rtol=1e-9, atol=1e-11, **common)
    if kind == "ode-rk4":
        return dd.NeuralODE(2, 3, 3, solver="rk4", options={"step_size": 0.05}, **common)
    return dd.ResNet(2, 3, 5, scheme=kind, field="bottleneck", hidden=4, lift="affine", **common)


@pytest.mark.parametrize("kind", ["mlp", *residual_fixed(), "ode-rk4", "ode"])
def test_member_equals_network_alone(kind):
    E = len(SCALES)
    ens = _build(kind, ensemble=E, seed=10, scale=SCALES)
    x = torch.randn(9, 2, dtype=D, generator=torch.Generator().manual_seed(0))
    y = torch.rand(9, 1, dtype=D, generator=torch.Generator().manual_seed(1))
    out = ens(x)  # (ensemble, sample, output)
    assert out.shape == (E, 9, 1)
    # each member's loss is independent: the ensemble loss is their sum
    loss = ((out - y) ** 2).mean(dim=(1, 2)).sum()
    ens_grads = dict(zip([n for n, _ in ens.named_parameters()],
                         torch.autograd.grad(loss, list(ens.parameters()))))  # fmt: skip
    tol = 1e-10 if kind != "ode" else 1e-7  # adaptive solves share their steps
    for k in range(E):
        alone = _build(kind, seed=10 + k, scale=SCALES[k])
        out_k = alone(x)
        assert (out_k - out[k]).abs().max().item() <= tol
        loss_k = ((out_k - y) ** 2).mean()
        grads_k = torch.autograd.grad(loss_k, list(alone.parameters()))
        for (name, _), g in zip(alone.named_parameters(), grads_k):
            assert (ens_grads[name][k] - g[0]).abs().max().item() <= tol, name
    # trajectories too
    tr = ens.trajectory(x)
    tr_k = _build(kind, seed=12, scale=SCALES[2]).trajectory(x)
    assert tr.states.shape[1] == E
    assert (tr.at_layers().states[:, 2] - tr_k.at_layers().states).abs().max() <= tol


def test_member_extraction_and_per_member_inputs():
    ens = dd.ResNet(2, 2, 4, ensemble=3, seed=[7, 3, 5], dtype=D)
    x = torch.randn(3, 6, 2, dtype=D, generator=torch.Generator().manual_seed(0))
    out = ens(x)
    # Not bit-equal: vectorized and scalar tails of elementwise kernels (tanh) differ by ulps
    # when the tensor sizes differ, hence the 1e-12 tolerance.
    for k, s in enumerate([7, 3, 5]):
        torch.testing.assert_close(ens.member(k)(x[k]), out[k], rtol=0, atol=1e-12)
        alone = dd.ResNet(2, 2, 4, seed=s, dtype=D)(x[k])
        torch.testing.assert_close(alone, out[k], rtol=0, atol=1e-12)


def test_members_differ():
    ens = dd.MLP(1, 3, 4, ensemble=5, seed=0)
    out = ens(torch.linspace(-1, 1, 20)[:, None])
    assert all(not torch.equal(out[0], out[k]) for k in range(1, 5))
