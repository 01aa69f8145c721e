"""Local complexity of ReLU networks: the density of linear regions around data points, sampled,
for inputs of any dimension (after Humayun, Balestriero & Baraniuk 2023–24).

Exact region counting (``regions.linear_regions``) needs 1 or 2 inputs. Around a data point x
in d dimensions, the neighbourhood B = x + [−r, r]^d is sampled with M uniform points and their
activation patterns are read (every hidden unit on or off); the distinct patterns seen, K, are
the activation regions met. The regions not met are estimated from how many were seen once
(f₁) and twice (f₂) by the bias-corrected Chao1 estimator of species richness,

    N̂ = K + f₁ (f₁ − 1) / (2 (f₂ + 1)),

with its standard error (Chao 1987), and the local complexity is the region density
N̂ / (2r)^d. Chao1 is a lower-bound estimator: slivers no sample hits leave no trace in f₁; in
2-D, against the exact regions, the seen count is within its sampling error of the count the
exact areas predict (tests/test_complexity.py). Beside it, the number of hidden units whose
sign changes within the samples — the neurons whose boundary crosses B, the count Humayun et
al. use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from deepdyn import _checks
from deepdyn.analysis.regions import ReluNet, activation_patterns, relu_net
from deepdyn.dynamics import Network


def chao1(counts: np.ndarray) -> tuple[float, float]:
    """(N̂, standard error) of the bias-corrected Chao1 estimator from the sample counts of
    each observed class (``counts``: how many samples fell in each distinct region)."""
    c = np.asarray(counts)
    K = int((c > 0).sum())
    f1, f2 = int((c == 1).sum()), int((c == 2).sum())
    est = K + f1 * (f1 - 1) / (2.0 * (f2 + 1))
    if f1 == 0:
        return float(est), 0.0
    if f2 > 0:
        r = f1 / f2
        var = f2 * (0.5 * r**2 + r**3 + 0.25 * r**4)
    else:
        var = f1 * (f1 - 1) / 2 + f1 * (2 * f1 - 1) ** 2 / 4 - f1**4 / (4 * est)
    return float(est), float(math.sqrt(max(var, 0.0)))


@dataclass(frozen=True)
class LocalComplexity:
    """Per data point: regions seen, estimated, their standard error, the region density and
    the number of units whose boundary crosses the neighbourhood.

    Attributes:
        seen, estimate, stderr: (sample,) K, N̂ and its standard error.
        density: (sample,) N̂ / (2r)^d, regions per unit volume.
        crossing_units: (sample,) hidden units whose sign changes within the neighbourhood.
        radius, samples: r and M.
    """

    seen: np.ndarray
    estimate: np.ndarray
    stderr: np.ndarray
    density: np.ndarray
    crossing_units: np.ndarray
    radius: float
    samples: int

    @property
    def mean_density(self) -> float:
        return float(self.density.mean())

    @property
    def mean_density_stderr(self) -> float:
        """Standard error of ``mean_density`` from the estimators' (independent) errors."""
        vol = float(self.estimate[0] / self.density[0]) if self.density[0] else 1.0
        return float(math.sqrt((self.stderr**2).sum()) / len(self.stderr) / vol)


def local_complexity(
    net: Network | ReluNet | Sequence[tuple[np.ndarray, np.ndarray]],
    X: np.ndarray | torch.Tensor,
    *,
    radius: float = 0.1,
    samples: int = 256,
    member: int = 0,
    seed: int = 0,
) -> LocalComplexity:
    """The local complexity of a ReLU network around each point of X (module docstring).

    Args:
        net: a ReLU :class:`~deepdyn.Network` (``map`` or ``euler``, perceptron field), a
            :class:`ReluNet`, or (W, b) pairs of an MLP.
        X: (sample, input) the data points, any input dimension.
        radius: r, the half-width of the box around each point.
        samples: M uniform samples per box.
        member: the ensemble member.
        seed: seed of the sampling (a local generator).
    """
    rn = relu_net(net, member=member)  # type: ignore[arg-type]
    x = np.asarray(X.detach().cpu() if isinstance(X, torch.Tensor) else X, dtype=np.float64)
    d = rn.in_features
    if x.ndim != 2 or x.shape[1] != d:
        raise ValueError(f"X must be (sample, {d}), got shape {x.shape}")
    r = _checks.positive("radius", radius)
    M = _checks.integer("samples", samples, minimum=2)
    rng = np.random.default_rng(_checks.integer("seed", seed, minimum=0))
    n = x.shape[0]
    seen, est, se, cross = (np.zeros(n) for _ in range(4))
    for i in range(n):
        pts = x[i] + rng.uniform(-r, r, size=(M, d))
        pats = activation_patterns(rn, pts)
        _, counts = np.unique(np.packbits(pats, axis=1), axis=0, return_counts=True)
        seen[i] = len(counts)
        est[i], se[i] = chao1(counts)
        cross[i] = int((pats.any(0) & ~pats.all(0)).sum())
    return LocalComplexity(
        seen=seen,
        estimate=est,
        stderr=se,
        density=est / (2 * r) ** d,
        crossing_units=cross,
        radius=r,
        samples=M,
    )
