"""Born-dead ReLU networks (thesis §8.1.2, Thm 8.1.1–8.1.3; Lu, Shin, Su & Karniadakis 2019).

A ReLU MLP is *born dead* on a domain D when some hidden layer is all-zero on all of D: then the
network is constant on D and, by Thm 8.1.3, gradient training can only fit the best constant.
At one fixed input x₀ ≠ 0, with i.i.d. weights from a symmetric continuous law and zero or
symmetric biases, every unit of layer l is off with probability ½ independently given z_{l−1} ≠ 0,
so (docs/thesis-notes.md §2, thesis Thm 8.1.2 with the product over the hidden layers)

    P(some hidden layer is all-zero at x₀) = 1 − ∏_{l=1}^{L} (1 − 2^{−N_l}),

whatever the scale γ. Dead on D implies dead at x₀ ∈ D, so the same number bounds the domain-wide
probability. The randomized asymmetric initialization (RAI) of Lu et al. 2019 breaks the symmetry
and lowers both.

Monte Carlo runs all trials as one ensemble: weights (ensemble, out, in), one generator.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from deepdyn import _checks
from deepdyn.analysis.regions import ReluNet, check_domain, linear_regions

INITS = ("uniform", "he", "rai")
RAI_SIGMA = 0.6007  # Lu et al. 2019, §5: σ for the Gaussian part, with a Beta(2, 1) entry per row

Layers = list[tuple[torch.Tensor, torch.Tensor]]


def born_dead_bound(widths: Sequence[int]) -> float:
    """1 − ∏_l (1 − 2^{−N_l}) over the hidden widths N_1 … N_L (docs/thesis-notes.md §2):
    exact for the point-wise probability, an upper bound for the domain-wide one."""
    ws = [_checks.integer("width", w) for w in widths]
    return 1.0 - math.prod(1.0 - 2.0 ** (-n) for n in ws)


def wilson_interval(hits: int, trials: int, *, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion hits / trials at confidence ``level``."""
    n = _checks.integer("trials", trials)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    z = float(torch.special.ndtri(torch.tensor(0.5 + level / 2, dtype=torch.float64)))
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def draw_layers(
    in_features: int,
    widths: Sequence[int],
    *,
    init: str = "uniform",
    scale: float = 1.0,
    trials: int = 1000,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
) -> Layers:
    """Weights of ``trials`` ReLU MLPs in one ensemble: [(W (ensemble, out, in), b (ensemble,
    out))] per hidden layer.

    ``uniform``: W, b ~ U[−γ, γ] with γ = ``scale`` (thesis §8.1.3). ``he``: W ~ N(0, 2γ²/fan_in),
    b = 0 (He et al. 2015). ``rai``: each row of [W | b] ~ N(0, σ²/fan_in), σ = 0.6007·γ, except
    one entry per row, chosen uniformly, drawn from Beta(2, 1) (Lu et al. 2019, RAI).
    """
    d = _checks.integer("in_features", in_features)
    ws = [_checks.integer("width", w) for w in widths]
    if not ws:
        raise ValueError("widths is empty: give at least one hidden layer width")
    _checks.choice("init", init, INITS)
    gamma = _checks.positive("scale", scale)
    E = _checks.integer("trials", trials)
    g = torch.Generator().manual_seed(int(seed))
    layers: Layers = []
    fan = d
    for n in ws:
        if init == "uniform":
            W = (torch.rand(E, n, fan, generator=g, dtype=dtype) * 2 - 1) * gamma
            b = (torch.rand(E, n, generator=g, dtype=dtype) * 2 - 1) * gamma
        elif init == "he":
            W = torch.randn(E, n, fan, generator=g, dtype=dtype) * gamma * math.sqrt(2.0 / fan)
            b = torch.zeros(E, n, dtype=dtype)
        else:
            V = torch.randn(E, n, fan + 1, generator=g, dtype=dtype) * (
                RAI_SIGMA * gamma / math.sqrt(fan)
            )
            k = torch.randint(0, fan + 1, (E, n, 1), generator=g)
            # Beta(2, 1) by inversion: its CDF is u², so ξ = √U
            xi = torch.rand(E, n, 1, generator=g, dtype=dtype).sqrt()
            V.scatter_(2, k, xi)
            W, b = V[..., :fan].contiguous(), V[..., fan].contiguous()
        layers.append((W, b))
        fan = n
    return layers


def first_dead_layer(layers: Layers, x: torch.Tensor, *, chunk: int = 4096) -> torch.Tensor:
    """(ensemble,) index l ∈ 1 … L of the first hidden layer that is all-zero at every point of
    x: (sample, input); L + 1 where no layer is. Members found dead stop being propagated.

    Runs ``chunk`` members at a time with the states stored transposed, (ensemble, unit,
    sample): the working set stays in cache and the GEMM runs along the sample axis.
    """
    E = layers[0][0].shape[0]
    L = len(layers)
    out = torch.full((E,), L + 1, dtype=torch.long)
    xt = x.to(layers[0][0].dtype).T  # (input, sample)
    for start in range(0, E, chunk):
        idx = torch.arange(start, min(E, start + chunk))
        alive = torch.ones(len(idx), dtype=torch.bool)
        sliced = True  # idx is still the contiguous range: slice instead of gathering
        z = xt.unsqueeze(0).expand(len(idx), -1, -1)  # (ensemble, input, sample)
        for l, (W, b) in enumerate(layers, start=1):
            Wl, bl = (W[start : start + len(idx)], b[start : start + len(idx)]) if sliced else (
                W[idx], b[idx])  # fmt: skip
            z = torch.relu(torch.baddbmm(bl.unsqueeze(-1), Wl, z))  # (ensemble, unit, sample)
            dead = alive & ~(z != 0).flatten(1).any(1)  # layer all-zero on every sample
            out[idx[dead]] = l
            alive &= ~dead
            n_alive = int(alive.sum())
            if n_alive == 0:
                break
            if n_alive < 0.7 * len(idx):  # compact: drop the dead members' rows
                idx, z, alive = idx[alive], z[alive], alive[alive]
                sliced = False
    return out


def dead_on_domain_exact(
    layers: Layers, domain: Sequence[float] | Sequence[Sequence[float]], member: int
) -> int:
    """First hidden layer of member ``member`` that is all-zero on the whole interval or box,
    decided exactly from its activation regions; L + 1 if none."""
    pairs = tuple((W[member].double().numpy(), b[member].double().numpy()) for W, b in layers)
    d = pairs[0][0].shape[1]
    regions = linear_regions(ReluNet((np.eye(d), np.zeros(d)), pairs), domain)
    for l in range(1, len(pairs) + 1):
        if not regions.layer_patterns(l).any():
            return l
    return len(pairs) + 1


@dataclass(frozen=True)
class BornDead:
    """Monte-Carlo estimates over ``trials`` networks with hidden widths ``widths``.

    point, domain: (layer,) probability that the MLP made of the first l hidden layers
    (l = 1 … L) is dead at x₀, resp. on the domain; point_ci, domain_ci: (layer, 2) Wilson
    intervals; bound: (layer,) the closed form 1 − ∏(1 − 2^{−N_l}) of the first l layers.
    """

    widths: tuple[int, ...]
    init: str
    scale: float
    trials: int
    level: float
    point: np.ndarray
    point_ci: np.ndarray
    domain: np.ndarray
    domain_ci: np.ndarray
    bound: np.ndarray


def born_dead_probability(
    widths: Sequence[int],
    *,
    in_features: int = 1,
    domain: Sequence[float] | Sequence[Sequence[float]] = (-1.0, 1.0),
    x0: Sequence[float] | None = None,
    init: str = "uniform",
    scale: float = 1.0,
    trials: int = 1000,
    points: int = 257,
    level: float = 0.95,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
) -> BornDead:
    """Probability that a ReLU MLP is born dead at x₀ and on the domain, for every depth
    1 … len(widths) at once (the depth-l network is the first l layers of the deepest).

    The domain check uses a grid of ``points`` per axis with x₀ added, so it over-estimates the
    true domain-wide probability only by networks alive solely between grid points (test it with
    :func:`dead_on_domain_exact`); and domain ≤ point holds trial by trial.

    Args:
        widths: N_1 … N_L. in_features: d (1 or 2 for the grid; x₀ works for any d when
            ``points`` is 0). domain: interval or box. x₀: a point ≠ 0 (default: the upper corner
            of the domain). init, scale: see :func:`draw_layers`. trials: networks in the
            ensemble. level: confidence level of the intervals.
    """
    d = _checks.integer("in_features", in_features)
    E = _checks.integer("trials", trials)
    _checks.integer("points", points, minimum=0)
    ws = tuple(_checks.integer("width", w) for w in widths)
    box = check_domain(domain, d)
    x0_t = torch.as_tensor(box[:, 1] if x0 is None else x0, dtype=dtype).reshape(1, -1)
    if x0_t.shape[1] != d:
        raise ValueError(f"x0 has {x0_t.shape[1]} coordinates, expected in_features = {d}")
    if not bool(x0_t.any()):
        raise ValueError("x0 must be ≠ 0 (at x0 = 0 with zero biases every network is dead)")
    layers = draw_layers(d, ws, init=init, scale=scale, trials=E, seed=seed, dtype=dtype)
    first_point = first_dead_layer(layers, x0_t)
    if points:
        if d > 2:
            raise ValueError(f"the domain grid needs in_features 1 or 2, got {d}: set points=0")
        axes = [torch.linspace(float(lo), float(hi), points, dtype=dtype) for lo, hi in box]
        grid = torch.stack(torch.meshgrid(*axes, indexing="ij"), -1).reshape(-1, d)
        first_domain = first_dead_layer(layers, torch.cat([x0_t, grid]))
    else:
        first_domain = torch.full_like(first_point, len(ws) + 1)
    depth = torch.arange(1, len(ws) + 1)
    hits_p = (first_point[None, :] <= depth[:, None]).sum(1).numpy()  # (layer,)
    hits_d = (first_domain[None, :] <= depth[:, None]).sum(1).numpy()
    return BornDead(
        widths=ws,
        init=init,
        scale=float(scale),
        trials=E,
        level=level,
        point=hits_p / E,
        point_ci=np.array([wilson_interval(int(h), E, level=level) for h in hits_p]),
        domain=hits_d / E,
        domain_ci=np.array([wilson_interval(int(h), E, level=level) for h in hits_d]),
        bound=np.array([born_dead_bound(ws[:l]) for l in range(1, len(ws) + 1)]),
    )
