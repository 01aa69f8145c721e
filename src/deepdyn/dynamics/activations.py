"""Activation functions σ, applied component-wise (thesis eq. 5.2–5.3)."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from deepdyn import _checks
from deepdyn.dynamics._invariant import is_batch_invariant, padded

Activation = Callable[[torch.Tensor], torch.Tensor]

LEAKY_SLOPE = 0.01


def _leaky_relu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, LEAKY_SLOPE)


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    """σ(x) = 1 / (1 + e^(−x)); padded inside ``batch_invariant()`` (its SIMD tail rounds apart)."""
    return padded(torch.sigmoid, x) if is_batch_invariant() else torch.sigmoid(x)


def softplus(x: torch.Tensor) -> torch.Tensor:
    """log(1 + eˣ); padded inside ``batch_invariant()`` like ``sigmoid``."""
    return padded(F.softplus, x) if is_batch_invariant() else F.softplus(x)


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


# Module-level functions, not lambdas, so that networks pickle (torch.save, joblib).
ACTIVATIONS: dict[str, Activation] = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": sigmoid,
    "softplus": softplus,
    "leaky_relu": _leaky_relu,
    "identity": _identity,
}


def activation(name: str) -> Activation:
    """The activation called ``name`` (relu, tanh, sigmoid, softplus, leaky_relu, identity)."""
    return ACTIVATIONS[_checks.choice("activation", name, ACTIVATIONS)]
