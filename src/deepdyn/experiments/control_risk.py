"""Catalogue entry: sampled against population risk (thesis §9.1.1, eq. 9.11–9.17).

The mean-field view trains on N samples of a distribution μ (the sampled problem, eq. 9.12)
while the goal is the population risk J(θ) = E_μ loss (eq. 9.11). Here μ is the rings
distribution (thesis §10.1), noiseless (realizable: the classes are 0.2 apart) or with a
fraction of labels flipped (not realizable), so J(θ^N) is estimated on a large independent
sample. For each N, one ensemble (one member per seed, each with its own draw of N training
points and its own initialization) is trained by Adam, full batch, with λ‖θ‖². Recorded: the
sampled risk J_N(θ^N), the population risk J(θ^N), their gap, and the excess
J(θ^N) − J(θ^ref) over the same seed trained on ``reference_points`` samples (a stand-in for
θ*). Eq. 9.17, P[|J(θ^N) − J(θ*)| ≥ s] ≤ 4 exp(−N s²/(K₁ + K₂ s)), puts the typical deviation
at s ≈ √(K₁ log 8 / N) for small s: a decay like N^(−1/2). The fitted slopes are compared with
that form; the constants K₁, K₂ are not known and not fitted.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
import xarray as xr
from matplotlib.figure import Figure

from deepdyn import _checks
from deepdyn.analysis import loglog_fit
from deepdyn.data import rings
from deepdyn.dynamics import ResNet
from deepdyn.experiments import Experiment, Progress, ProgressCounter, register
from deepdyn.train import compute_loss, fit

D = torch.float64


@dataclass(frozen=True)
class Config:
    sizes: tuple[int, ...] = (16, 32, 64, 128, 256, 512, 1024)
    seeds: int = 8
    population: int = 20000
    reference_points: int = 8192
    width: int = 3
    depth: int = 4
    T: float = 2.0
    steps: int = 600
    lr: float = 0.05
    regularizer: float = 1e-4
    seed: int = 0
    label_noise: tuple[float, ...] = (0.0, 0.1)  # probability of flipping a label

    def __post_init__(self) -> None:
        for q in self.label_noise:
            if not 0 <= float(q) < 0.5:
                raise ValueError(f"label_noise must be in [0, 0.5), got {q}")
        if not self.label_noise:
            raise ValueError("label_noise is empty: give at least one value, e.g. label_noise=0")
        if len(self.sizes) < 2:
            raise ValueError(f"sizes needs at least two values to fit a slope, got {self.sizes}")
        for n in (*self.sizes, self.population, self.reference_points):
            _checks.integer("sample size", n, minimum=2)
        _checks.integer("seeds", self.seeds)
        _checks.integer("width", self.width, minimum=2)
        _checks.integer("depth", self.depth)
        _checks.integer("steps", self.steps)
        _checks.positive("T", self.T)
        _checks.positive("lr", self.lr)
        _checks.positive("regularizer", self.regularizer, allow_zero=True)
        _checks.integer("seed", self.seed, minimum=0)


def _sample(n: int, seed: int, noise: float) -> tuple[torch.Tensor, torch.Tensor]:
    """n points of the rings, each label flipped with probability ``noise``."""
    X, y = rings(n, seed=seed, dtype=D)
    g = torch.Generator().manual_seed(seed + 1)
    flip = torch.rand(n, generator=g, dtype=D) < noise
    return X, torch.where(flip, 1 - y, y)


def _draws(cfg: Config, n: int, noise: float) -> tuple[torch.Tensor, torch.Tensor]:
    """One draw of n training points per seed: X (ensemble, sample, 2), y (ensemble, sample)."""
    pairs = [_sample(n, cfg.seed + 1 + 7919 * k + n, noise) for k in range(cfg.seeds)]
    return torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])


def _train(
    cfg: Config, n: int, noise: float, pop: tuple[torch.Tensor, torch.Tensor]
) -> tuple[np.ndarray, ...]:
    """(sampled risk, population risk) per seed after training on n points."""
    X, y = _draws(cfg, n, noise)
    net = ResNet(
        2,
        cfg.width,
        cfg.depth,
        T=cfg.T,
        lift="pad",
        init="uniform",
        scale=0.5,
        seed=cfg.seed,
        ensemble=cfg.seeds,
        dtype=D,
    )
    fit(net, X, y, optimizer="adam", lr=cfg.lr, steps=cfg.steps, regularizer=cfg.regularizer)
    with torch.no_grad():
        sampled = compute_loss(net, X, y).numpy()
        population = compute_loss(net, pop[0], pop[1]).numpy()
    return sampled, population


def run(cfg: Config, progress: Progress | None = None) -> xr.Dataset:
    sizes = [*cfg.sizes, cfg.reference_points]
    shape = (len(cfg.label_noise), len(sizes), cfg.seeds)
    sampled, population = np.zeros(shape), np.zeros(shape)
    count = ProgressCounter(progress, len(sizes) * len(cfg.label_noise))
    for a, noise in enumerate(cfg.label_noise):
        pop = _sample(cfg.population, cfg.seed + 10**6, noise)
        for i, n in enumerate(sizes):
            sampled[a, i], population[a, i] = _train(cfg, n, noise, pop)
            count(f"noise {noise:g}, N = {n}")
    ref = population[:, -1]  # J(θ^ref), (noise, ensemble)
    gap = population[:, :-1] - sampled[:, :-1]
    excess = np.abs(population[:, :-1] - ref[:, None])
    N = np.asarray(cfg.sizes, dtype=float)
    slopes = {
        name: [_fit(N, np.median(np.abs(v[a]), axis=1))[0] for a in range(len(cfg.label_noise))]
        for name, v in (("gap", gap), ("excess", excess))
    }
    return xr.Dataset(
        {
            "sampled_risk": (("noise", "N", "ensemble"), sampled[:, :-1]),
            "population_risk": (("noise", "N", "ensemble"), population[:, :-1]),
            "gap": (("noise", "N", "ensemble"), gap),
            "excess": (("noise", "N", "ensemble"), excess),
            "reference_risk": (("noise", "ensemble"), ref),
            "gap_slope": (("noise",), np.asarray(slopes["gap"])),
            "excess_slope": (("noise",), np.asarray(slopes["excess"])),
        },
        coords={
            "noise": list(cfg.label_noise),
            "N": list(cfg.sizes),
            "ensemble": np.arange(cfg.seeds),
        },
        attrs={"population": cfg.population, "reference_points": cfg.reference_points},
    )


def _fit(N: np.ndarray, v: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of log v against log N (points with v > 0)."""
    ok = v > 0
    if ok.sum() < 2:
        return float("nan"), float("nan")
    return loglog_fit(N[ok], v[ok])


def figure(ds: xr.Dataset) -> Figure:
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.4))
    N = ds["N"].values.astype(float)
    seeds = ds.sizes["ensemble"]
    jitter = np.exp(np.linspace(-0.05, 0.05, seeds))
    for name, ax, title in (
        ("gap", a, "|population − sampled risk|"),
        ("excess", b, "|J(θ^N) − J(θ^ref)|"),
    ):
        for c, noise in enumerate(ds["noise"].values):
            color = plt.get_cmap("tab10")(c)
            v = np.abs(ds[name].values[c])  # (N, ensemble)
            for k in range(seeds):
                ax.loglog(N * jitter[k], np.maximum(v[:, k], 1e-6), ".", color=color, alpha=0.35)
            med = np.median(v, axis=1)
            slope, icpt = _fit(N, med)
            ax.loglog(
                N, med, "o-", color=color, label=f"label noise {noise:g}: median, fit N^{slope:.2f}"
            )
            if np.isfinite(slope):
                ax.loglog(N, np.exp(icpt) * N**slope, "--", color=color, lw=0.8)
        top = np.median(np.abs(ds[name].values[:, 0]))
        ax.loglog(N, top * (N / N[0]) ** -0.5, "k:", lw=1, label="eq. 9.17 form: N^-1/2")
        ax.set_xlabel("training samples N (dots: seeds)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    a.set_ylabel("risk difference (BCE)")
    fig.tight_layout()
    return fig


def numbers(ds: xr.Dataset) -> dict[str, float]:
    N = ds["N"].values
    out: dict[str, float] = {}
    for c, noise in enumerate(ds["noise"].values):
        key = f"noise{noise:g}"
        out[f"{key}_gap_slope"] = float(ds["gap_slope"].values[c])
        out[f"{key}_excess_slope"] = float(ds["excess_slope"].values[c])
        out[f"{key}_gap_median_N{N[0]}"] = float(np.median(ds["gap"].values[c, 0]))
        out[f"{key}_gap_median_N{N[-1]}"] = float(np.median(ds["gap"].values[c, -1]))
        out[f"{key}_population_risk_median_N{N[-1]}"] = float(
            np.median(ds["population_risk"].values[c, -1])
        )
        out[f"{key}_reference_risk_median"] = float(np.median(ds["reference_risk"].values[c]))
    return out


EXPERIMENT = register(
    Experiment(
        id="control-risk",
        title="Sampled against population risk",
        reference="§9.1.1 eq. 9.11–9.17",
        caption=(
            "Networks trained on N samples of the rings (noiseless, and with 10% of the labels "
            "flipped), their risk on a 20 000-point independent sample; dots are seeds. Left: "
            "the generalization gap J(θ^N) − J_N(θ^N); right: the distance to the risk of the "
            "same seed trained on 8192 points. Dashed: the fitted power of N; dotted: the "
            "N^(−1/2) decay that the a-priori estimate (eq. 9.17) gives for small deviations."
        ),
        config=Config,
        run=run,
        figure=figure,
        numbers=numbers,
        dims=("noise", "N"),
        quick={
            "sizes": (16, 64),
            "seeds": 2,
            "population": 2000,
            "reference_points": 256,
            "steps": 60,
            "label_noise": (0.0,),
        },
    )
)
