"""Defaults that work: the public API's defaults, with no arguments, on the problems they are
for (issue: front door). Each test fails with the defaults the project had before."""

from __future__ import annotations

import math

import pytest
import torch

from deepdyn import ResNet
from deepdyn.data import moons
from deepdyn.train import msa

D = torch.float64


def _toy():
    """Li et al.'s toy (sin on [−π, π], 5 components, 20 tanh layers, δ = 0.25, zero weights)."""
    x = torch.linspace(-math.pi, math.pi, 100, dtype=D)[:, None]
    net = ResNet(5, 5, 20, h=0.25, readout=None, init="zero", dtype=D)
    return net, x.repeat(1, 5), torch.sin(x).repeat(1, 5)


def _moons():
    """The moons as the control-msa entry sets up its rings (width 3, padded, δ = 0.25)."""
    X, y = moons(200, seed=1000, dtype=D)
    net = ResNet(2, 3, 10, h=0.25, lift="pad", init="uniform", scale=0.5, seed=0, dtype=D)
    return net, X, y


@pytest.mark.parametrize(
    ("make", "final"),
    [(_toy, 0.3), (_moons, 0.4)],  # measured with ρ = 30: 0.278 and 0.346
    ids=["li-toy", "moons"],
)
def test_emsa_default_rho_descends(make, final):
    """E-MSA with its default ρ: the loss never rises above its start and falls by half in 10
    iterations (ρ = 1, the old default, ends at 0.50 on the toy and 3.8 on the moons)."""
    net, X, y = make()
    loss = msa(net, X, y, steps=10, regularizer=1e-3).loss
    assert bool((loss <= loss[0]).all()), loss
    assert float(loss[-1]) < final, loss
