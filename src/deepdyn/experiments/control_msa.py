"""Catalogue entry: training by the maximum principle against gradient methods (thesis ch. 4).

Case ``toy`` is the function-approximation problem of Li, Chen, Tai & E (2018): the target
sin(x) on [−π, π], 100 training and 100 test points drawn uniformly (one draw per seed), the
input repeated into 5 components, 20 tanh residual layers with δ = 0.25 and no readout (the
target is sin(x) in every component), regularization λ = 1e-3, zero initial weights, full batch.
Case ``rings`` is the disk-inside-annulus classification (thesis §10.1): width 3 (zero-padded
lift), 10 tanh residual layers with δ = 0.25, a sigmoid readout, BCE, λ = 1e-3, uniform initial
weights (seeded). Methods: E-MSA for each ρ in ``rhos``, basic MSA (eq. 4.10), SGD, Adagrad and
Adam (``deepdyn.fit``). The loss is recorded per iteration and per wall-clock second. The
gradient methods train all seeds as one ensemble (member k exactly as alone; each seed its own
data), so their seconds are the ensemble's — an upper bound of one network's.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
import xarray as xr
from matplotlib.figure import Figure

from deepdyn import _checks
from deepdyn.data import rings
from deepdyn.dynamics import ResNet
from deepdyn.experiments import Experiment, Progress, ProgressCounter, register
from deepdyn.train import compute_loss, fit
from deepdyn.train.pmp import msa

D = torch.float64
GRADIENT = ("sgd", "adagrad", "adam")
CASES = ("toy", "rings")


@dataclass(frozen=True)
class Config:
    cases: tuple[str, ...] = CASES
    seeds: tuple[int, ...] = (0, 1, 2)
    rhos: tuple[float, ...] = (1.0, 5.0)  # one E-MSA run per ρ
    basic_msa: bool = True
    gradient: tuple[str, ...] = GRADIENT
    lrs: tuple[float, ...] = (0.1, 0.1, 0.005)  # one per gradient method
    pmp_steps: int = 30
    gradient_steps: int = 600
    msa_inner_steps: int = 10
    emsa_inner_steps: int = 3
    toy_points: int = 100
    toy_depth: int = 20
    rings_points: int = 200
    rings_depth: int = 10
    delta: float = 0.25
    regularizer: float = 1e-3

    def __post_init__(self) -> None:
        if not self.cases:
            raise ValueError("cases is empty: choose some of toy, rings")
        for c in self.cases:
            _checks.choice("case", c, CASES)
        for m in self.gradient:
            _checks.choice("gradient method", m, GRADIENT)
        if len(self.lrs) != len(self.gradient):
            raise ValueError(
                f"lrs has {len(self.lrs)} values, expected one per gradient method "
                f"({', '.join(self.gradient)})"
            )
        for v in (*self.lrs, self.delta):
            _checks.positive("lr/delta", v)
        for r in self.rhos:
            _checks.positive("rho", r, allow_zero=True)
        if not self.seeds:
            raise ValueError("seeds is empty: give at least one seed, e.g. seeds=0")
        for s in self.seeds:
            _checks.integer("seed", s, minimum=0)
        for name in (
            "pmp_steps",
            "gradient_steps",
            "msa_inner_steps",
            "emsa_inner_steps",
            "toy_points",
            "toy_depth",
            "rings_points",
            "rings_depth",
        ):
            _checks.integer(name, getattr(self, name))
        _checks.positive("regularizer", self.regularizer, allow_zero=True)

    def methods(self) -> list[str]:
        pmp = [f"E-MSA rho={r:g}" for r in self.rhos] + (["MSA"] if self.basic_msa else [])
        return pmp + [m.capitalize() if m != "sgd" else "SGD" for m in self.gradient]


def _toy_data(cfg: Config, seed: int) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    n = cfg.toy_points
    x = (torch.rand(2 * n, 1, generator=g, dtype=D) * 2 - 1) * math.pi  # (sample, 1)
    X, Y = x.repeat(1, 5), torch.sin(x).repeat(1, 5)  # (sample, component = 5)
    return X[:n], Y[:n], X[n:], Y[n:]


def _rings_data(cfg: Config, seed: int) -> tuple[torch.Tensor, ...]:
    X, y = rings(cfg.rings_points, seed=1000 + seed, dtype=D)
    Xt, yt = rings(cfg.rings_points, seed=2000 + seed, dtype=D)
    return X, y, Xt, yt


def _net(cfg: Config, case: str, seed: int | tuple[int, ...]) -> ResNet:
    """The network of ``case``; a tuple of seeds gives one ensemble member per seed (member k
    equals the network built alone with seed[k])."""
    ens = len(seed) if isinstance(seed, tuple) else None
    if case == "toy":
        return ResNet(5, 5, cfg.toy_depth, h=cfg.delta, readout=None, init="zero", dtype=D,
                      ensemble=ens)  # fmt: skip
    return ResNet(
        2,
        3,
        cfg.rings_depth,
        h=cfg.delta,
        lift="pad",
        init="uniform",
        scale=0.5,
        seed=seed,
        ensemble=ens,
        dtype=D,
    )


def _data(cfg: Config, case: str, seed: int) -> tuple[torch.Tensor, ...]:
    return (_toy_data if case == "toy" else _rings_data)(cfg, seed)


def _train(cfg: Config, case: str, method: str, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """E-MSA or MSA on one seed: (loss per iteration, seconds at the end of each iteration,
    final test loss)."""
    X, y, Xt, yt = _data(cfg, case, seed)
    net = _net(cfg, case, seed)
    emsa = method.startswith("E-MSA")
    h = msa(
        net,
        X,
        y,
        method="emsa" if emsa else "msa",
        rho=float(method.split("=")[1]) if emsa else 0.0,
        steps=cfg.pmp_steps,
        inner_steps=cfg.emsa_inner_steps if emsa else cfg.msa_inner_steps,
        regularizer=cfg.regularizer,
        on_nonfinite="stop",
    )
    loss, seconds = h.loss.numpy(), h.seconds.numpy() if h.seconds is not None else None
    assert seconds is not None
    with torch.no_grad():
        test = float(compute_loss(net, Xt, yt)) if np.isfinite(loss).all() else float("nan")
    return loss, seconds, test


def _train_gradient(
    cfg: Config, case: str, method: str, seeds: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SGD, Adagrad or Adam on every seed at once, one ensemble member per seed with its own
    data (element-wise updates: member k trains exactly as the network alone). Returns the loss
    (seed, iteration), the ensemble's seconds at the end of each iteration (the same for every
    seed: an upper bound of one network's, since a small network's step costs about as much as
    the ensemble's) and the test losses (seed,)."""
    data = [_data(cfg, case, s) for s in seeds]
    X, y, Xt, yt = (torch.stack([d[i] for d in data]) for i in range(4))
    net = _net(cfg, case, tuple(seeds))
    name = method.lower()
    stamps: list[float] = []
    start = time.perf_counter()
    hist = fit(
        net,
        X,
        y,
        optimizer=name,
        lr=cfg.lrs[cfg.gradient.index(name)],
        steps=cfg.gradient_steps,
        regularizer=cfg.regularizer,
        callback=lambda _s, _l: stamps.append(time.perf_counter() - start),
    )
    loss = hist.loss.numpy().T  # (seed, iteration)
    seconds = np.tile(np.asarray(stamps), (len(seeds), 1))
    with torch.no_grad():
        test = compute_loss(net, Xt, yt).numpy()
    test = np.where(np.isfinite(loss).all(axis=1), test, np.nan)
    return loss, seconds, test


def run(cfg: Config, progress: Progress | None = None) -> xr.Dataset:
    methods = cfg.methods()
    # one untimed iteration of every method first: lazy initialization (double backward,
    # optimizer set-up) would otherwise land in the first timed iteration of the first run
    tiny = Config(
        cases=("toy",), seeds=cfg.seeds[:1], rhos=cfg.rhos, basic_msa=cfg.basic_msa,
        gradient=cfg.gradient, lrs=cfg.lrs, pmp_steps=1, gradient_steps=1, toy_depth=2,
    )  # fmt: skip
    pmp = len(methods) - len(cfg.gradient)  # E-MSA and MSA first, then the gradient methods
    for j, method in enumerate(methods):
        if j < pmp:
            _train(tiny, "toy", method, cfg.seeds[0])
        else:
            _train_gradient(tiny, "toy", method, cfg.seeds[:1])
    n_iter = max(cfg.pmp_steps, cfg.gradient_steps)
    shape = (len(cfg.cases), len(methods), len(cfg.seeds), n_iter)
    loss, seconds = np.full(shape, np.nan), np.full(shape, np.nan)
    test = np.full(shape[:3], np.nan)
    count = ProgressCounter(progress, len(cfg.cases) * (pmp * len(cfg.seeds) + len(cfg.gradient)))
    for i, case in enumerate(cfg.cases):
        for j, method in enumerate(methods):
            if j >= pmp:  # a gradient method: all seeds as one ensemble
                curves, stamps, tests = _train_gradient(cfg, case, method, cfg.seeds)
                loss[i, j, :, : curves.shape[1]] = curves
                seconds[i, j, :, : stamps.shape[1]] = stamps
                test[i, j] = tests
                count(f"{case} {method} seeds {', '.join(map(str, cfg.seeds))}")
                continue
            for k, seed in enumerate(cfg.seeds):
                lo, se, te = _train(cfg, case, method, seed)
                loss[i, j, k, : len(lo)] = lo
                seconds[i, j, k, : len(se)] = se
                test[i, j, k] = te
                count(f"{case} {method} seed {seed}")
    return xr.Dataset(
        {
            "loss": (("case", "method", "ensemble", "iteration"), loss),
            "seconds": (("case", "method", "ensemble", "iteration"), seconds),
            "test_loss": (("case", "method", "ensemble"), test),
        },
        coords={
            "case": list(cfg.cases),
            "method": methods,
            "seed": ("ensemble", list(cfg.seeds)),
            "iteration": np.arange(n_iter),
        },
        attrs={"regularizer": cfg.regularizer, "delta": cfg.delta},
    )


def figure(ds: xr.Dataset) -> Figure:
    cases = list(ds["case"].values)
    fig, axes = plt.subplots(len(cases), 2, figsize=(11, 4.0 * len(cases)), squeeze=False)
    colors = plt.get_cmap("tab10")
    for i, case in enumerate(cases):
        ax_it, ax_t = axes[i]
        for j, method in enumerate(ds["method"].values):
            c = colors(j)
            for k in range(ds.sizes["ensemble"]):
                lo = ds["loss"].values[i, j, k]
                se = ds["seconds"].values[i, j, k]
                ok = np.isfinite(lo)
                label = str(method) if k == 0 else None
                ax_it.plot(np.flatnonzero(ok) + 1, lo[ok], color=c, lw=1.0, alpha=0.8, label=label)
                # loss[k] is J(θ_k), reached when iteration k − 1 ends, at seconds[k − 1]
                at = ok[1:] & np.isfinite(se[:-1])
                ax_t.plot(se[:-1][at], lo[1:][at], color=c, lw=1.0, alpha=0.8, label=label)
        for ax, xlabel in ((ax_it, "iteration"), (ax_t, "wall-clock seconds")):
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel(xlabel)
            ax.set_ylabel("training loss J (with λ‖θ‖²)")
            ax.grid(True, which="both", alpha=0.3)
        ax_it.set_title(f"{case}: loss per iteration")
        ax_t.set_title(f"{case}: loss against wall-clock time (2-core CPU)")
        ax_it.legend(fontsize=8)
    fig.tight_layout()
    return fig


def numbers(ds: xr.Dataset) -> dict[str, float]:
    out: dict[str, float] = {}
    for case in ds["case"].values:
        for method in ds["method"].values:
            at = {"case": case, "method": method}  # (sel's own "method" keyword is taken)
            lo = ds["loss"].sel(at).values  # (ensemble, iteration)
            se = ds["seconds"].sel(at).values
            last = [row[np.isfinite(row)][-1] if np.isfinite(row).any() else np.nan for row in lo]
            key = f"{case}_{str(method).replace(' ', '_').replace('=', '')}"
            out[f"{key}_final_loss"] = float(np.median(last))
            out[f"{key}_best_loss"] = float(np.nanmedian(np.nanmin(lo, axis=1)))
            out[f"{key}_test_loss"] = float(np.nanmedian(ds["test_loss"].sel(at).values))
            n = np.isfinite(lo).sum(axis=1)
            per = [s[m - 1] / m for s, m in zip(se, n) if m > 0]
            out[f"{key}_seconds_per_iteration"] = float(np.median(per)) if per else math.nan
    return out


EXPERIMENT = register(
    Experiment(
        id="control-msa",
        title="MSA and E-MSA against gradient methods",
        reference="ch. 4 eq. 4.6–4.17; Li, Chen, Tai & E 2018",
        caption=(
            "Training by the maximum principle. Top: Li et al.'s toy problem (sin on [−π, π], "
            "5 components, 20 tanh residual layers, δ = 0.25, λ = 1e-3, zero initial weights); "
            "bottom: the rings. Left: loss per iteration; right: per wall-clock second, one "
            "line per seed (SGD, Adagrad and Adam train the seeds as one ensemble: their seconds "
            "are the ensemble's, an upper bound of one network's). "
            "E-MSA takes far fewer iterations than SGD/Adagrad/Adam but each "
            "costs an inner L-BFGS maximization per layer; basic MSA oscillates (thesis notes §7)."
        ),
        config=Config,
        run=run,
        figure=figure,
        numbers=numbers,
        dims=("case", "method"),
        quick={
            "seeds": (0,),
            "pmp_steps": 3,
            "gradient_steps": 20,
            "toy_depth": 6,
            "rings_points": 60,
            "rings_depth": 4,
            "rhos": (5.0,),
        },
    )
)
