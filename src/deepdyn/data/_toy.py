"""Synthetic classification sets in the plane and in R^d.

``rings`` is the thesis' running example (§10.1, Figure 10.1 and Appendix D): a disk inside an
annulus, which no homeomorphism of the plane makes linearly separable but one extra dimension does
(Prop. 10.1.1). ``spheres`` is the same in R^d. ``moons``, ``spirals``, ``xor`` and ``gaussians``
are the usual toy sets, scaled so that the noiseless points lie in [-1, 1]² (the thesis normalizes
inputs to [-1, 1]^n, §10).

Every generator draws from its own ``torch.Generator`` seeded with ``seed``, computes in float64
and casts ``X`` to ``dtype`` at the end, so one seed gives the same points in every dtype (up to
rounding). Samples come in random order; labels are int64 classes 0 … k-1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from deepdyn._checks import integer, positive

from ._common import (
    Dataset,
    add_noise,
    balanced_counts,
    floating,
    generator,
    labels,
    samples,
    shuffled,
)

_F64 = torch.float64


def rings(
    n: int = 1000,
    *,
    a: float = 0.5,
    b: float = 0.7,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    balanced: bool = True,
) -> Dataset:
    """A disk inside an annulus, thesis §10.1 (Figure 10.1).

    Class 0 is the disk X₀ = {x : |x| < a}, class 1 the annulus X₁ = {x : b < |x| < 1}, with
    0 < a < b < 1; every point lies in [-1, 1]². Points are uniform in area within their region:
    the radius is r = √u with u uniform on (r₀², r₁²), the angle uniform on [0, 2π).

    The defaults a = 0.5, b = 0.7 leave a gap of 0.2 between the classes (the thesis' data are
    noiseless with d(X₀, X₁) > 0) and give the two regions comparable areas (0.25π and 0.51π).

    Args:
        n: number of samples.
        a: radius of the inner disk (class 0).
        b: inner radius of the annulus (class 1); its outer radius is 1.
        seed: seed of the local generator.
        dtype: floating dtype of X.
        balanced: True gives n // 2 samples to class 0 and the rest to class 1; False draws
            each sample's class with probability proportional to the area of its region.

    Returns:
        X of shape (sample, input) with input = 2, and y of shape (sample,), int64 in {0, 1}.
    """
    return _ball_and_shell(n, 2, a, b, seed, dtype, balanced)


def spheres(
    n: int = 1000,
    *,
    dim: int = 3,
    a: float = 0.5,
    b: float = 0.7,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    balanced: bool = True,
) -> Dataset:
    """A ball inside a spherical shell in R^dim, the d-dimensional version of ``rings`` (§10.1).

    Class 0 is the ball {x : |x| < a}, class 1 the shell {x : b < |x| < 1}. Points are uniform in
    volume within their region: r = u^(1/dim) with u uniform on (r₀^dim, r₁^dim), and the
    direction uniform on the unit sphere (a normalized standard Gaussian vector). All points lie in
    [-1, 1]^dim. ``spheres(dim=2)`` draws the same distribution as ``rings``.

    Args:
        n: number of samples.
        dim: dimension of the space (input).
        a: radius of the inner ball (class 0).
        b: inner radius of the shell (class 1); its outer radius is 1.
        seed: seed of the local generator.
        dtype: floating dtype of X.
        balanced: True gives n // 2 samples to class 0 and the rest to class 1; False draws each
            sample's class with probability proportional to the volume of its region.

    Returns:
        X of shape (sample, input) with input = dim, and y of shape (sample,), int64 in {0, 1}.
    """
    dim = integer("dim", dim)
    return _ball_and_shell(n, dim, a, b, seed, dtype, balanced)


def _ball_and_shell(
    n: int, dim: int, a: float, b: float, seed: int, dtype: torch.dtype, balanced: bool
) -> Dataset:
    n = samples(n, dim)
    a = positive("a", a)
    b = positive("b", b)
    if b >= 1:
        raise ValueError(f"b must be < 1 (the outer radius), got {b}")
    if a >= b:
        raise ValueError(f"a must be < b, got a={a}, b={b}")
    dtype = floating(dtype)
    g = generator(seed)
    if balanced:
        counts = balanced_counts(n, 2)
    else:
        inner, outer = a**dim, 1 - b**dim  # volumes up to the same constant
        n0 = int((torch.rand(n, generator=g, dtype=_F64) < inner / (inner + outer)).sum())
        counts = [n0, n - n0]
    x = torch.cat([_shell(counts[0], dim, 0.0, a, g), _shell(counts[1], dim, b, 1.0, g)])
    return shuffled(x, labels(counts), g, dtype)


def _shell(count: int, dim: int, r0: float, r1: float, g: torch.Generator) -> torch.Tensor:
    """``count`` points uniform in volume on r0 < |x| < r1 in R^dim, float64 (sample, input)."""
    # u in the open interval (0, 1), so that the radius stays strictly inside (r0, r1)
    u = torch.rand(count, generator=g, dtype=_F64).clamp_(min=2.0**-60, max=1 - 2.0**-53)
    r = (r0**dim + u * (r1**dim - r0**dim)) ** (1 / dim)  # (sample,)
    direction = torch.randn(count, dim, generator=g, dtype=_F64)  # (sample, input)
    direction = direction / direction.norm(dim=1, keepdim=True)
    return r[:, None] * direction


def moons(
    n: int = 1000,
    *,
    noise: float = 0.1,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> Dataset:
    """Two interleaved half circles (scikit-learn's ``make_moons``, rescaled into [-1, 1]²).

    Before rescaling, class 0 is (cos t, sin t) and class 1 is (1 - cos t, 1/2 - sin t), with t
    uniform on [0, π]. Both are then mapped by p ↦ (p - (1/2, 1/4)) / (3/2), so the noiseless
    points lie in [-1, 1] × [-1/2, 1/2]. Gaussian noise of standard deviation ``noise`` is added
    after rescaling.

    Args:
        n: number of samples; n // 2 in class 0, the rest in class 1.
        noise: standard deviation of the Gaussian noise added to X.
        seed: seed of the local generator.
        dtype: floating dtype of X.

    Returns:
        X of shape (sample, input) with input = 2, and y of shape (sample,), int64 in {0, 1}.
    """
    n = samples(n, 2)
    noise = positive("noise", noise, allow_zero=True)
    dtype = floating(dtype)
    g = generator(seed)
    counts = balanced_counts(n, 2)
    t0 = math.pi * torch.rand(counts[0], generator=g, dtype=_F64)
    t1 = math.pi * torch.rand(counts[1], generator=g, dtype=_F64)
    outer = torch.stack([torch.cos(t0), torch.sin(t0)], dim=1)  # (sample, input)
    inner = torch.stack([1 - torch.cos(t1), 0.5 - torch.sin(t1)], dim=1)
    x = (torch.cat([outer, inner]) - torch.tensor([0.5, 0.25], dtype=_F64)) / 1.5
    return shuffled(add_noise(x, noise, g), labels(counts), g, dtype)


def spirals(
    n: int = 1000,
    *,
    turns: float = 1.5,
    noise: float = 0.0,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> Dataset:
    """Two interleaved Archimedean spirals in the unit disk.

    Class c ∈ {0, 1} is r (cos θ, sin θ) with r uniform on [0, 1) and θ = 2π · turns · r + cπ: the
    second spiral is the first rotated by half a turn, and each winds ``turns`` times around the
    origin. Gaussian noise of standard deviation ``noise`` is added afterwards.

    Args:
        n: number of samples; n // 2 in class 0, the rest in class 1.
        turns: number of turns of each spiral (> 0).
        noise: standard deviation of the Gaussian noise added to X.
        seed: seed of the local generator.
        dtype: floating dtype of X.

    Returns:
        X of shape (sample, input) with input = 2, and y of shape (sample,), int64 in {0, 1}.
    """
    n = samples(n, 2)
    turns = positive("turns", turns)
    noise = positive("noise", noise, allow_zero=True)
    dtype = floating(dtype)
    g = generator(seed)
    counts = balanced_counts(n, 2)
    y = labels(counts)
    r = torch.rand(n, generator=g, dtype=_F64)  # (sample,)
    theta = 2 * math.pi * turns * r + math.pi * y.to(_F64)
    x = r[:, None] * torch.stack([torch.cos(theta), torch.sin(theta)], dim=1)  # (sample, input)
    return shuffled(add_noise(x, noise, g), y, g, dtype)


def xor(
    n: int = 1000,
    *,
    noise: float = 0.0,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> Dataset:
    """Points uniform in [-1, 1]² labelled by the exclusive or of the signs of their coordinates.

    y = 1 where x₁ x₂ < 0 (the quadrants where exactly one coordinate is positive) and y = 0 where
    x₁ x₂ > 0. Labels are taken before Gaussian noise of standard deviation ``noise`` is added, so
    noise > 0 blurs the boundary along the axes.

    Args:
        n: number of samples (classes are not balanced exactly; each has probability 1/2).
        noise: standard deviation of the Gaussian noise added to X.
        seed: seed of the local generator.
        dtype: floating dtype of X.

    Returns:
        X of shape (sample, input) with input = 2, and y of shape (sample,), int64 in {0, 1}.
    """
    n = samples(n, 2)
    noise = positive("noise", noise, allow_zero=True)
    dtype = floating(dtype)
    g = generator(seed)
    x = 2 * torch.rand(n, 2, generator=g, dtype=_F64) - 1  # (sample, input)
    y = ((x[:, 0] > 0) != (x[:, 1] > 0)).long()
    return add_noise(x, noise, g).to(dtype), y


def gaussians(
    n: int = 1000,
    *,
    centers: int | Sequence[Sequence[float]] | torch.Tensor = 2,
    std: float = 0.2,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> Dataset:
    """k isotropic Gaussian blobs, one class each.

    Args:
        n: number of samples; n // k per class, the remainder to the last classes.
        centers: either k, the number of blobs, whose centers are then evenly spaced on the circle
            of radius 1/2 in the plane, 0.5 (cos 2πj/k, sin 2πj/k) for class j; or the centers
            themselves, of shape (k, input).
        std: standard deviation of each blob in every coordinate.
        seed: seed of the local generator.
        dtype: floating dtype of X.

    Returns:
        X of shape (sample, input), input = 2 or the second dimension of ``centers``, and y of
        shape (sample,), int64 in 0 … k-1.
    """
    n = samples(n, 2)
    std = positive("std", std, allow_zero=True)
    dtype = floating(dtype)
    mu = _centers(centers)  # (class, input)
    g = generator(seed)
    counts = balanced_counts(n, mu.shape[0])
    y = labels(counts)
    x = mu[y] + std * torch.randn(n, mu.shape[1], generator=g, dtype=_F64)  # (sample, input)
    return shuffled(x, y, g, dtype)


def _centers(centers: int | Sequence[Sequence[float]] | torch.Tensor) -> torch.Tensor:
    """The blob centers as float64 of shape (class, input)."""
    if isinstance(centers, int | float) and not isinstance(centers, bool):
        k = integer("centers", centers)
        angle = 2 * math.pi * torch.arange(k, dtype=_F64) / k
        return 0.5 * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    try:
        mu = torch.as_tensor(centers, dtype=_F64)
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(
            f"centers must be an int ≥ 1 or an array of shape (k, input), got {centers!r}"
        ) from None
    if mu.ndim != 2 or mu.shape[0] < 1 or mu.shape[1] < 1 or not torch.isfinite(mu).all():
        raise ValueError(
            "centers must be an int ≥ 1 or a finite array of shape (k, input), "
            f"got shape {tuple(mu.shape)}"
        )
    return mu
