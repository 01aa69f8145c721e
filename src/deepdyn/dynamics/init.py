"""Initializers for the controls θ (thesis §8.1.3).

Each initializer fills one weight of shape (out, in) for one network; ensembles call it once per
member with that member's generator, so member k equals the network built alone with its seed.

``scale`` means: γ for ``uniform`` (U[−γ, γ]), σ for ``normal`` (N(0, σ²)), and a gain
multiplying the standard deviation for ``glorot``, ``he``, ``lecun`` and ``orthogonal``.
"""

from __future__ import annotations

import math

import torch

from deepdyn import _checks

INITIALIZERS = ("uniform", "normal", "glorot", "he", "lecun", "orthogonal", "zero")
BIAS_INITIALIZERS = ("auto", "zero", "uniform", "normal")


def check_init(init: str, bias_init: str = "auto") -> None:
    _checks.choice("initializer", init, INITIALIZERS)
    _checks.choice("bias initializer", bias_init, BIAS_INITIALIZERS)


def weight(
    shape: tuple[int, int], kind: str, scale: float, gen: torch.Generator, dtype: torch.dtype
) -> torch.Tensor:
    """A weight matrix of ``shape`` = (out, in) drawn from initializer ``kind``."""
    fan_out, fan_in = shape
    if kind == "uniform":
        return (torch.rand(shape, generator=gen, dtype=dtype) * 2 - 1) * scale
    if kind == "normal":
        return torch.randn(shape, generator=gen, dtype=dtype) * scale
    if kind == "glorot":  # Glorot & Bengio 2010, uniform form
        a = scale * math.sqrt(6.0 / (fan_in + fan_out))
        return (torch.rand(shape, generator=gen, dtype=dtype) * 2 - 1) * a
    if kind == "he":  # He et al. 2015, normal form
        return torch.randn(shape, generator=gen, dtype=dtype) * scale * math.sqrt(2.0 / fan_in)
    if kind == "lecun":
        return torch.randn(shape, generator=gen, dtype=dtype) * scale * math.sqrt(1.0 / fan_in)
    if kind == "orthogonal":  # Saxe et al. 2014: Q of a Gaussian matrix, sign-corrected
        rows, cols = shape
        g = torch.randn((max(rows, cols), min(rows, cols)), generator=gen, dtype=torch.float64)
        q, r = torch.linalg.qr(g)
        q = q * torch.sign(torch.diagonal(r)).unsqueeze(0)
        q = q if rows >= cols else q.T
        return (q[:rows, :cols] * scale).to(dtype)
    if kind == "zero":
        return torch.zeros(shape, dtype=dtype)
    raise ValueError(_checks.choice("initializer", kind, INITIALIZERS))


def bias(
    size: int, kind: str, bias_kind: str, scale: float, gen: torch.Generator, dtype: torch.dtype
) -> torch.Tensor:
    """A bias vector. ``bias_kind="auto"`` draws it like the weights for uniform/normal, else 0."""
    if bias_kind == "auto":
        bias_kind = kind if kind in ("uniform", "normal") else "zero"
    if bias_kind == "uniform":
        return (torch.rand((size,), generator=gen, dtype=dtype) * 2 - 1) * scale
    if bias_kind == "normal":
        return torch.randn((size,), generator=gen, dtype=dtype) * scale
    return torch.zeros((size,), dtype=dtype)
