"""Helpers shared by the dataset generators: seeding, dtype checks, class counts, shuffling."""

from __future__ import annotations

import torch

from deepdyn import _budget
from deepdyn._checks import integer

Dataset = tuple[torch.Tensor, torch.Tensor]
"""``(X, y)``: X of shape (sample, input); y of shape (sample,) int64 or (sample, 1) float."""


def generator(seed: int) -> torch.Generator:
    """A fresh CPU generator seeded with ``seed`` (an int ≥ 0); never the global state."""
    return torch.Generator().manual_seed(integer("seed", seed, minimum=0))


def samples(n: int, features: int, name: str = "n") -> int:
    """``n`` as an int ≥ 1 whose (sample, features) data fit in memory; else a ValueError."""
    n = integer(name, n)
    _budget.check_samples(n, features)
    return n


def floating(dtype: torch.dtype) -> torch.dtype:
    """Return ``dtype`` if it is a floating point dtype; else a ValueError."""
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"dtype must be a floating torch dtype such as torch.float32, got {dtype}")
    return dtype


def balanced_counts(n: int, k: int) -> list[int]:
    """``n`` samples over ``k`` classes, n // k each; the remainder goes to the last classes."""
    q, r = divmod(n, k)
    return [q + (1 if j >= k - r else 0) for j in range(k)]


def labels(counts: list[int]) -> torch.Tensor:
    """Class j repeated ``counts[j]`` times, as int64 of shape (sample,)."""
    return torch.repeat_interleave(
        torch.arange(len(counts)), torch.tensor(counts, dtype=torch.long)
    )


def shuffled(x: torch.Tensor, y: torch.Tensor, g: torch.Generator, dtype: torch.dtype) -> Dataset:
    """Permute the samples of ``(x, y)`` with ``g`` and cast x to ``dtype``."""
    perm = torch.randperm(x.shape[0], generator=g)
    return x[perm].to(dtype), y[perm]


def add_noise(x: torch.Tensor, noise: float, g: torch.Generator) -> torch.Tensor:
    """``x`` plus isotropic Gaussian noise of standard deviation ``noise`` (float64)."""
    if noise == 0:
        return x
    return x + noise * torch.randn(x.shape, generator=g, dtype=torch.float64)
