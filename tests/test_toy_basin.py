"""Li et al.'s toy (sin on [−π, π], the input repeated into 5 components, 20 tanh residual
layers, δ = 0.25, no readout): 0.2154 is the basin of the zero initialization, not a floor.

With equal components the flow is one-dimensional and increasing (thesis Lemma 6.2.1), so no
parameters go below the best increasing fit of sin on the 100 points (isotonic regression,
MSE 0.0656); random initializations reach far below the zero initialization's value."""

import math

import numpy as np
import pytest
import torch
from sklearn.isotonic import IsotonicRegression

from deepdyn.dynamics import ResNet
from deepdyn.train import compute_loss, fit

D = torch.float64


def _toy() -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.linspace(-math.pi, math.pi, 100, dtype=D)[:, None]
    return x, torch.sin(x)


def _isotonic_mse() -> float:
    x, y = _toy()
    fit_ = IsotonicRegression().fit_transform(x[:, 0].numpy(), y[:, 0].numpy())
    return float(np.mean((fit_ - y[:, 0].numpy()) ** 2))


def test_isotonic_bound_of_the_toy():
    """The best increasing map: 0.0656 (pool-adjacent-violators), far below 0.2154; a trained
    increasing flow (a few steps from a random start) stays above it."""
    bound = _isotonic_mse()
    assert bound == pytest.approx(0.06560, abs=1e-5)
    x, y = _toy()
    net = ResNet(1, 1, 20, h=0.25, readout=None, init="uniform", scale=0.5, ensemble=4,
                 seed=0, dtype=D)  # fmt: skip
    fit(net, x, y, optimizer="adam", lr=0.02, steps=50)
    with torch.no_grad():
        assert (compute_loss(net, x, y) >= bound).all()


@pytest.mark.slow
def test_zero_init_value_is_a_basin_not_a_floor():
    """Measured: zero weights end at 0.214, random restarts at 0.074 … 0.18 (16 seeds)."""
    x, y = _toy()
    zero = ResNet(1, 1, 20, h=0.25, readout=None, init="zero", dtype=D)
    fit(zero, x, y, optimizer="adam", lr=0.02, steps=1500, regularizer=1e-3)
    rand = ResNet(1, 1, 20, h=0.25, readout=None, init="uniform", scale=0.5, ensemble=4,
                  seed=0, dtype=D)  # fmt: skip
    fit(rand, x, y, optimizer="adam", lr=0.02, steps=1500, regularizer=1e-3)
    with torch.no_grad():
        z = float(compute_loss(zero, x, y))
        r = compute_loss(rand, x, y).numpy()
    assert 0.2 < z < 0.23
    assert r.min() < 0.17 < z
    assert (r >= _isotonic_mse()).all()
