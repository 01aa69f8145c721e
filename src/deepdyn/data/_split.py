"""Train/test split, stratified by class for integer labels."""

from __future__ import annotations

import math

import torch

from ._common import generator


def split(
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    test: float = 0.2,
    seed: int = 0,
    stratify: bool = True,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Split ``(X, y)`` into a training and a test set.

    The test set has ⌈test · sample⌉ samples (as in scikit-learn's ``train_test_split``). With
    ``stratify`` and integer labels y of shape (sample,), every class c contributes
    ⌊test · n_c⌋ test samples, and the few still missing go to the classes with the largest
    remainders test · n_c - ⌊test · n_c⌋ (ties to the lower class), so that class proportions are
    kept as closely as integers allow. Float targets (regression) are split without strata. Both
    parts come in random order; the same seed gives the same split.

    Args:
        X: inputs of shape (sample, ...).
        y: labels of shape (sample,) or targets of shape (sample, ...).
        test: fraction of the samples in the test set, in (0, 1).
        seed: seed of the local generator.
        stratify: keep the class proportions in both parts (integer labels only).

    Returns:
        ``(X_train, y_train, X_test, y_test)``.
    """
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise ValueError(
            f"X and y must be torch tensors, got {type(X).__name__} and {type(y).__name__}"
        )
    if X.ndim == 0 or y.ndim == 0 or X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X and y must have the same number of samples, got shapes {tuple(X.shape)} "
            f"and {tuple(y.shape)}"
        )
    try:
        fraction = float(test)
    except (TypeError, ValueError):
        raise ValueError(f"test must be a number in (0, 1), got {test!r}") from None
    if not 0 < fraction < 1:
        raise ValueError(f"test must be in (0, 1), got {test}")
    n = X.shape[0]
    n_test = math.ceil(fraction * n - 1e-9)  # tolerate 0.2 * 10 = 2.0000000000000004
    if not 1 <= n_test <= n - 1:
        raise ValueError(
            f"test={test} of {n} samples leaves an empty part; use more samples or another test"
        )
    g = generator(seed)
    labelled = not (y.is_floating_point() or y.is_complex()) and y.ndim == 1
    if stratify and labelled:
        test_index = _stratified(y, fraction, n_test, g)
    else:
        test_index = torch.randperm(n, generator=g)[:n_test]
    in_test = torch.zeros(n, dtype=torch.bool)
    in_test[test_index] = True
    train_index = torch.nonzero(~in_test).flatten()
    train_index = train_index[torch.randperm(train_index.numel(), generator=g)]
    test_index = test_index[torch.randperm(test_index.numel(), generator=g)]
    return X[train_index], y[train_index], X[test_index], y[test_index]


def _stratified(y: torch.Tensor, fraction: float, n_test: int, g: torch.Generator) -> torch.Tensor:
    """Indices of a test set with ``n_test`` samples, allotted to classes by largest remainder."""
    classes, counts = torch.unique(y, return_counts=True)  # (class,)
    ideal = fraction * counts.to(torch.float64)
    take = torch.floor(ideal + 1e-9).long()
    missing = n_test - int(take.sum())
    if missing > 0:
        remainder = ideal - take
        # stable sort: ties go to the lower class
        order = torch.sort(-remainder, stable=True).indices
        take[order[:missing]] += 1
    parts = []
    for c, k in zip(classes, take.tolist(), strict=True):
        members = torch.nonzero(y == c).flatten()
        parts.append(members[torch.randperm(members.numel(), generator=g)[:k]])
    return torch.cat(parts)
