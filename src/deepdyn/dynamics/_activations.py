"""Activation functions σ, applied component-wise (thesis eq. 5.2–5.3), as records that carry
what the analysis needs to know about them.

An :class:`Activation` is the function together with its facts: the Lipschitz constant
sup |σ'| (residual invertibility, h·Lip(f) < 1), whether it is piecewise linear (linear
regions, det J = 0 on open sets) and whether it is a homeomorphism of ℝ onto its range
(thesis Thm 7.1.1). One registry, :data:`ACTIVATIONS`; :func:`register_activation` adds one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from deepdyn import _checks
from deepdyn.dynamics._invariant import is_batch_invariant, padded

LEAKY_SLOPE = 0.01


@dataclass(frozen=True, eq=False)
class Activation:
    """σ and its facts. Compares equal to its name, so ``net.field.activation == "relu"``.

    Attributes:
        name: the registry key.
        fn: the element-wise function (a module-level function, so that networks pickle).
        lipschitz: sup |σ'|.
        piecewise_linear: σ is piecewise linear (ReLU, leaky ReLU, identity).
        bijective: σ is continuous, injective, with a continuous inverse on its range.
        inplace: the same function overwriting its argument (or None); the flow uses it
            without autograd on the fresh output of an affine map, saving a state-sized
            allocation per layer.
    """

    name: str
    fn: Callable[[torch.Tensor], torch.Tensor]
    lipschitz: float
    piecewise_linear: bool
    bijective: bool
    inplace: Callable[[torch.Tensor], torch.Tensor] | None = None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.name == other
        return isinstance(other, Activation) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __str__(self) -> str:
        return self.name


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


ACTIVATIONS: dict[str, Activation] = {}


def register_activation(act: Activation) -> Activation:
    """Add ``act`` to :data:`ACTIVATIONS` (under ``act.name``) and return it."""
    if not isinstance(act, Activation):
        raise ValueError(f"register_activation needs an Activation, got {type(act).__name__}")
    ACTIVATIONS[act.name] = act
    return act


for _a in (
    Activation(
        "relu", torch.relu, 1.0, piecewise_linear=True, bijective=False, inplace=torch.relu_
    ),
    Activation(
        "tanh", torch.tanh, 1.0, piecewise_linear=False, bijective=True, inplace=torch.tanh_
    ),
    Activation("sigmoid", sigmoid, 0.25, piecewise_linear=False, bijective=True),
    Activation("softplus", softplus, 1.0, piecewise_linear=False, bijective=True),
    Activation("leaky_relu", _leaky_relu, 1.0, piecewise_linear=True, bijective=True),
    Activation(
        "identity", _identity, 1.0, piecewise_linear=True, bijective=True, inplace=_identity
    ),
):
    register_activation(_a)


def activation(name: str | Activation) -> Activation:
    """The activation record called ``name`` (one of :data:`ACTIVATIONS`)."""
    if isinstance(name, Activation):
        return name
    return ACTIVATIONS[_checks.choice("activation", name, ACTIVATIONS)]
