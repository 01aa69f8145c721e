"""scikit-learn's handwritten digits (8×8 images, 1797 samples), shipped inside scikit-learn."""

from __future__ import annotations

import torch

from deepdyn._checks import integer

from ._common import Dataset, floating, generator

DIGITS_SIZE = 1797


def digits(
    *,
    n: int | None = None,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    normalize: bool = True,
) -> Dataset:
    """The digits data set of ``sklearn.datasets.load_digits`` (no network access needed).

    Args:
        n: None for all 1797 samples in their stored order; else a random subset of n samples
            (1 ≤ n ≤ 1797) drawn without replacement with ``seed``.
        seed: seed of the local generator (used only when ``n`` is given).
        dtype: floating dtype of X.
        normalize: True divides the pixel intensities (integers 0 … 16) by 16, so X is in [0, 1];
            False keeps them as they are.

    Returns:
        X of shape (sample, input) with input = 64 (the 8×8 pixels, row by row), and y of shape
        (sample,), int64 in 0 … 9.
    """
    dtype = floating(dtype)
    if n is not None:
        n = integer("n", n)
        if n > DIGITS_SIZE:
            raise ValueError(f"n must be ≤ {DIGITS_SIZE} (the size of digits), got {n}")
    g = generator(seed)
    from sklearn.datasets import load_digits  # imported here: scikit-learn is slow to import

    data = load_digits()
    x = torch.as_tensor(data.data, dtype=torch.float64)  # (sample, input)
    y = torch.as_tensor(data.target, dtype=torch.long)  # (sample,)
    if normalize:
        x = x / 16.0
    if n is not None:
        index = torch.randperm(DIGITS_SIZE, generator=g)[:n]
        x, y = x[index], y[index]
    return x.to(dtype), y
