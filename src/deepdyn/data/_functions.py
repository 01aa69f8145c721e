"""One-dimensional problems on X = [-1, 1]: the step (§8.1.2.1) and the oscillation f_m (App. C)."""

from __future__ import annotations

import torch

from deepdyn._checks import integer, positive

from ._common import Dataset, add_noise, floating, generator, samples

_F64 = torch.float64


def _inputs(n: int, grid: bool, g: torch.Generator) -> torch.Tensor:
    """x in [-1, 1] of shape (sample, input) with input = 1: evenly spaced or uniform, float64."""
    if grid:
        return torch.linspace(-1.0, 1.0, n, dtype=_F64)[:, None]
    return (2 * torch.rand(n, 1, generator=g, dtype=_F64) - 1).clamp_(-1.0, 1.0)


def step(
    n: int = 100,
    *,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    noise: float = 0.0,
    grid: bool = False,
) -> Dataset:
    """The step classification problem of thesis §8.1.2.1: y = 1 if x > 0, else 0, on [-1, 1].

    The thesis uses it to show the dying-ReLU effect: one neuron solves it (L = 1), deep narrow ReLU
    networks are born dead and collapse to a constant.

    Args:
        n: number of samples.
        seed: seed of the local generator.
        dtype: floating dtype of X.
        noise: standard deviation of Gaussian noise added to x after labelling (x may then leave
            [-1, 1]).
        grid: True gives n evenly spaced points from -1 to 1 (sorted, ``torch.linspace``); False
            draws x uniformly on [-1, 1].

    Returns:
        X of shape (sample, input) with input = 1, and y of shape (sample,), int64 in {0, 1}.
    """
    n = samples(n, 1)
    noise = positive("noise", noise, allow_zero=True)
    dtype = floating(dtype)
    g = generator(seed)
    x = _inputs(n, grid, g)  # (sample, input)
    y = (x[:, 0] > 0).long()
    return add_noise(x, noise, g).to(dtype), y


def oscillation_function(x: torch.Tensor, m: int) -> torch.Tensor:
    """The oscillating function f_m of thesis Appendix C (§C.1), elementwise on ``x``.

    [-1, 1] is cut into 2m intervals of length 1/m, I_1 = [-1, -1 + 1/m], I_{i+1} = I_i + 1/m,
    and f_m = 1 on I_i for i odd, 0 for i even: a square wave that starts at 1 and switches
    2m - 1 times.
    In closed form, with k = ⌊m (x + 1)⌋ (the 0-based interval index),

        f_m(x) = 1 if k is even, 0 if k is odd.

    The thesis' intervals are closed and share their end points; here each interior end point
    -1 + k/m belongs to the interval on its right, and x = 1 to I_{2m} (f_m(1) = 0). Outside
    [-1, 1] the function is extended by its end values (1 on the left, 0 on the right).

    Args:
        x: a floating tensor of any shape.
        m: number of periods (≥ 1).

    Returns:
        f_m(x), same shape and dtype as ``x``, with values in {0, 1}.
    """
    m = integer("m", m)
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise ValueError(f"x must be a floating torch tensor, got {type(x).__name__}")
    k = torch.floor(m * (x.to(_F64) + 1)).clamp(0, 2 * m - 1)
    return (k.remainder(2) == 0).to(x.dtype)


def oscillation(
    n: int = 200,
    *,
    m: int = 1,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    grid: bool = True,
) -> Dataset:
    """Regression on the oscillating function f_m of thesis Appendix C (reachability, §C.1).

    Targets are y = f_m(x) (see ``oscillation_function``) on x in [-1, 1]; a network must have
    enough linear regions (about 2m) to fit it.

    Args:
        n: number of samples.
        m: number of periods of f_m (2m intervals of length 1/m).
        seed: seed of the local generator (used when ``grid`` is False).
        dtype: floating dtype of X and y.
        grid: True gives n evenly spaced points from -1 to 1 (sorted); False draws x uniformly.

    Returns:
        X of shape (sample, input) with input = 1, and y of shape (sample, 1) of dtype ``dtype``.
    """
    n = samples(n, 1)
    m = integer("m", m)
    dtype = floating(dtype)
    g = generator(seed)
    x = _inputs(n, grid, g)  # (sample, input)
    return x.to(dtype), oscillation_function(x, m).to(dtype)
