"""skip-gradients (thesis §8.2, Def. 8.2.1): seeded claims on the quick config, the full config
under ``slow``, and the gradient norms of each architecture against autograd on one member."""

import math

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

import deepdyn.experiments.trainability_skip as entry
from deepdyn.data import rings
from deepdyn.train import compute_loss


def test_quick_claims():
    cfg = entry.Config(**entry.EXPERIMENT.quick)
    ds = entry.run(cfg, None)
    n = entry.numbers(ds)
    assert all(math.isfinite(v) for v in n.values())
    # residual networks: first-layer gradient within a factor 2 of the last one's at every
    # depth, before and after training (measured 0.90 … 1.0)
    r = entry.ratio(ds).median("ensemble")
    for arch in ("resnet", "block"):
        v = r.sel(arch=arch).values
        assert np.all((v > 0.4) & (v < 2.5)), (arch, v)
    # the MLP's gradients shrink with depth as a whole (L = 5 → 20)
    assert n["first_layer_gradient_mlp_L20_init"] < n["first_layer_gradient_mlp_L5_init"]
    assert isinstance(entry.figure(ds), Figure)


@pytest.mark.slow
def test_full_claims():
    ds = entry.run(entry.Config(), None)
    n = entry.numbers(ds)
    assert n["first_over_last_gradient_mlp_L100_trained"] < 1e-3  # measured 1.6e-11
    assert 0.5 < n["first_over_last_gradient_resnet_L100_trained"] < 2  # 1.07
    assert 0.3 < n["first_over_last_gradient_block_L100_trained"] < 3  # 0.66
    # all MLP layers at L = 100 get ≥ 100× less gradient than at L = 10 (1e-6 against 1e-2)
    assert n["first_layer_gradient_mlp_L100_init"] < 1e-2 * n["first_layer_gradient_mlp_L10_init"]


@pytest.mark.parametrize("arch", entry.ARCHS)
def test_gradient_norms_are_autograd_of_member_zero(arch):
    cfg = entry.Config(depths=(6,), seeds=2, samples=20)
    X, y = rings(cfg.samples, seed=cfg.seed + 5, dtype=torch.float64)
    ds = entry.run(entry.Config(depths=(6,), seeds=2, samples=20, steps=0), None)
    net = entry.network(cfg, arch, 6).member(0)
    loss = compute_loss(net, X, y)
    expected = []
    for l in range(6):
        g = torch.autograd.grad(loss, net.field.layer_parameters(l), retain_graph=True)
        expected.append(float(torch.sqrt(sum((t**2).sum() for t in g))))
    got = ds["gradient_norm"].sel(arch=arch, depth=6).isel(stage=0).values[:, 0]
    assert np.allclose(got, expected, rtol=1e-10, atol=0)


def test_config_errors():
    with pytest.raises(ValueError, match="depths is empty"):
        entry.Config(depths=())
