"""batch_invariant(): a member computes bit-for-bit what it computes alone (CPU)."""

from __future__ import annotations

import pytest
import torch

import deepdyn as dd
from deepdyn.dynamics import batch_invariant
from deepdyn.dynamics._affine import affine
from deepdyn.dynamics._invariant import _blocks, invariant_affine, is_batch_invariant

D = torch.float64


@pytest.mark.parametrize("shape", [(1, 7, 3, 2), (5, 200, 3, 3), (3, 50, 16, 8), (2, 9, 1, 5)])
def test_invariant_affine_is_the_affine_map_with_its_gradients(shape):
    E, N, O, I = shape
    g = torch.Generator().manual_seed(0)
    z = torch.randn(E, N, I, dtype=D, generator=g, requires_grad=True)
    W = torch.randn(E, O, I, dtype=D, generator=g, requires_grad=True)
    b = torch.randn(E, O, dtype=D, generator=g, requires_grad=True)
    ref = torch.einsum("eni,eoi->eno", z, W) + b.unsqueeze(1)
    out = invariant_affine(z, W, b)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-12)
    v = torch.randn(E, N, O, dtype=D, generator=g)
    want = torch.autograd.grad((ref * v).sum(), (z, W, b))
    got = torch.autograd.grad((out * v).sum(), (z, W, b))
    for a, c in zip(got, want):
        torch.testing.assert_close(a, c, rtol=0, atol=1e-11)
    assert torch.autograd.gradcheck(invariant_affine, (z[:, :4], W, b))
    assert torch.autograd.gradcheck(lambda z, W: invariant_affine(z, W, None), (z[:, :4], W))


def test_tiles_depend_on_the_layer_not_on_the_ensemble():
    samples = {_blocks(E, 5000, 40, 40)[1] for E in (1, 7, 64, 4096)}
    assert len(samples) == 1
    members, n = _blocks(4096, 5000, 40, 40)
    assert members * n * 40 * 40 <= 1 << 22  # the memory budget of one tile


def test_the_mode_is_scoped_and_switches_the_kernel():
    z, W = torch.randn(2, 3, 2), torch.randn(2, 3, 2)
    assert not is_batch_invariant()
    with batch_invariant():
        assert is_batch_invariant()
        assert affine(z, W, None).grad_fn is None  # no grad needed: plain forward
        with batch_invariant(False):
            assert not is_batch_invariant()
    assert not is_batch_invariant()


CASES = [
    (torch.float32, "tanh", dd.MLP, "adam", "sigmoid"),
    (torch.float32, "sigmoid", dd.ResNet, "sgd", "sigmoid"),
    (torch.float32, "softplus", dd.MLP, "adam", "softmax"),
    (torch.float64, "relu", dd.ResNet, "adam", "identity"),
    (torch.float64, "tanh", dd.MLP, "sgd", "sigmoid"),
    (torch.float64, "softplus", dd.ResNet, "rmsprop", "sigmoid"),
]


@pytest.mark.parametrize(("dtype", "act", "builder", "opt", "readout"), CASES)
def test_training_a_member_in_an_ensemble_is_bit_identical_to_training_it_alone(
    dtype, act, builder, opt, readout
):
    g = torch.Generator().manual_seed(1)
    N, k = 37, (3 if readout == "softmax" else 1)
    X = torch.randn(N, 2, generator=g, dtype=dtype)
    if readout == "softmax":
        y = torch.randint(0, 3, (N,), generator=g)
    elif readout == "identity":
        y = X[:, :1] ** 2
    else:
        y = (X[:, 0] > 0).to(dtype)
    seeds, scales = [3, 4, 5, 6, 7], [0.5, 1.0, 1.5, 2.0, 1.2]

    def train(ensemble, seed, scale):
        net = builder(
            2, 3, 6, out_features=k, activation=act, readout=readout, scale=scale,
            ensemble=ensemble, seed=seed, dtype=dtype,
        )  # fmt: skip
        history = dd.fit(net, X, y, optimizer=opt, lr=0.05, steps=12)
        return [p.detach() for p in net.parameters()], history.loss

    with batch_invariant():
        group, group_loss = train(5, seeds, scales)
        for m in (0, 2, 4):  # first, middle and last member: the tails differ
            alone, loss = train(None, seeds[m], scales[m])
            for a, p in zip(alone, group):
                assert torch.equal(a[0], p[m])
            assert torch.equal(loss.reshape(-1), group_loss[:, m])
