"""capacity-flows (thesis Prop. 6.2.1, Thm 6.2.1, Thm 6.1.3): seeded claims on the quick
config, the full config under ``slow``, and the structural bound of perceptron ReLU flows."""

import math

import pytest
import torch
from matplotlib.figure import Figure

import deepdyn.experiments.capacity_flows as entry
from deepdyn.dynamics import ResNet


def test_quick_claims():
    ds = entry.run(entry.Config(**entry.EXPERIMENT.quick), None)
    n = entry.numbers(ds)
    assert all(math.isfinite(v) for v in n.values())
    # z + h ReLU(az + b) only moves points up: no perceptron flow gets below the bound
    bound = n["increasing_perceptron_below_diagonal_bound"]
    assert (ds["increasing_error"].isel(field=0).values >= bound - 1e-12).all()
    # the bottleneck field (an outer weight) fits the increasing target (0.0055 at L = 4)
    assert n["increasing_bottleneck_flow_mse_L4"] < 0.5 * bound
    # augmented 2-D flows fit the map better than unaugmented ones (0.066 against 0.19)
    assert n["map_mse_width4_L4"] < n["map_mse_width2_L4"]
    assert isinstance(entry.figure(ds), Figure)


def test_perceptron_relu_flows_never_move_points_down():
    """Any parameters: z_L(x) ≥ x for z_{l+1} = z_l + h ReLU(a z_l + b) (here 50 random ones)."""
    x = torch.linspace(-2, 2, 201, dtype=torch.float64)[:, None]
    net = ResNet(1, 1, 6, T=3.0, activation="relu", readout=None, init="uniform", scale=3.0,
                 ensemble=50, seed=1, dtype=torch.float64)  # fmt: skip
    with torch.no_grad():
        z = net(x)
    assert (z[..., 0] >= x[:, 0] - 1e-15).all()


def test_tiny_steps_make_identity_layers():
    """A member of depth L < L_max (h = 1e-300 after layer L) is the depth-L network with the
    same first L layers, to rounding."""
    x = torch.linspace(-1, 1, 11, dtype=torch.float64)[:, None]
    cfg = entry.Config(depths=(2, 4), seeds=1)
    kw = {"activation": "relu", "readout": None, "field": "bottleneck", "hidden": 2,
          "init": "uniform", "scale": 2.0, "dtype": torch.float64}  # fmt: skip
    net = ResNet(1, 1, 4, h=entry._steps(cfg), ensemble=2, seed=0, **kw).member(0)
    short = ResNet(1, 1, 2, T=cfg.T, seed=5, **kw)
    with torch.no_grad():
        for l in range(2):
            for p, q in zip(short.field.layer_parameters(l), net.field.layer_parameters(l)):
                p.copy_(q)
        a, b = net(x), short(x)
    assert torch.allclose(a, b, rtol=0, atol=1e-14)
    assert not torch.allclose(a, x)  # the two active layers do move the points


@pytest.mark.slow
def test_full_claims():
    n = entry.numbers(entry.run(entry.Config(), None))
    assert n["increasing_bottleneck_flow_mse_L8"] < 0.01  # 1.1e-3
    assert n["increasing_perceptron_flow_mse_L8"] > 0.04  # 0.052: bounded below by 0.048
    assert n["map_mse_width4_L8"] < 0.1 * n["map_mse_width2_L8"]  # 2.5e-3 against 0.136
    # width ≤ d stays at the target's variance; width d + 3 goes below it (7.8e-3)
    assert n["bump_mse_width_d_best"] > 0.8 * n["bump_target_variance"]
    assert n["bump_mse_width_d_plus_3_best"] < 0.3 * n["bump_target_variance"]
