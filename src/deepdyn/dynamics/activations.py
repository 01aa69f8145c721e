"""Activation functions σ, applied component-wise (thesis eq. 5.2–5.3)."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from deepdyn import _checks

Activation = Callable[[torch.Tensor], torch.Tensor]

LEAKY_SLOPE = 0.01

ACTIVATIONS: dict[str, Activation] = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "softplus": F.softplus,
    "leaky_relu": lambda x: F.leaky_relu(x, LEAKY_SLOPE),
    "identity": lambda x: x,
}


def activation(name: str) -> Activation:
    """The activation called ``name`` (relu, tanh, sigmoid, softplus, leaky_relu, identity)."""
    return ACTIVATIONS[_checks.choice("activation", name, ACTIVATIONS)]
