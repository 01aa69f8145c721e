"""Catalogue entry: Appendix A's optimization claims, measured (Prop. A.1.1, §A.1.2.2, eq. A.17).

* **Step-size regimes (Prop. A.1.1).** Steepest descent w ← w − ν ∇ξ(w) on the quadratic
  ξ(w) = ½ (w − w*)ᵀ H (w − w*), H = diag(λ₁, λ₂): the error along eigenvector i is multiplied
  by 1 − νλᵢ per step, so the iterations to bring every component of w − w* from 1 below ε
  are n(ν) = max_i ⌈log ε / log |1 − νλᵢ|⌉ — a closed form. For small ν this is
  ≈ log(1/ε) / (ν λ_min): the thesis' O(1/ν). For ν < 1/λ_max every factor is positive (a
  smooth path), for 1/λ_max < ν < 2/λ_max the λ_max component changes sign every step (an
  oscillating path), for ν > 2/λ_max it grows (divergence): the three regimes, with
  ν₀ = 2/λ_max.
* **Newton against steepest descent (§A.1.2.2).** A tanh ResNet (width 3, 3 layers) on the
  rings, the same initialization trained by gradient descent and by deepdyn's damped Newton
  method (exact Hessian), the objective against the iteration.
* **Cost per epoch (eq. A.17, C(ξ) = C(ξ̂) O(M)).** The wall time of one epoch over M samples
  with full-batch, mini-batch (32) and on-line (1 sample) steps of ``deepdyn.fit`` (SGD): the
  floating-point work of an epoch is the same M per-sample gradients every way, but the number
  of steps is 1, M/32 and M, and on a CPU each step has a fixed cost — measured.
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
from deepdyn.experiments import (
    Claim,
    Experiment,
    Progress,
    ProgressCounter,
    register,
    register_claims,
)
from deepdyn.train import fit

D = torch.float64


@dataclass(frozen=True)
class Config:
    eigenvalues: tuple[float, ...] = (1.0, 10.0)  # λ₁, λ₂ of the quadratic's Hessian
    step_sizes: int = 40  # ν on a log grid from 1e-3 to 2.4/λ_max
    tolerance: float = 1e-6
    max_iterations: int = 100000
    newton_steps: int = 15
    gd_steps: int = 400
    gd_lr: float = 0.5
    samples: int = 200
    epoch_sizes: tuple[int, ...] = (64, 256)
    mini_batch: int = 32
    seed: int = 0

    def __post_init__(self) -> None:
        if len(self.eigenvalues) < 1:
            raise ValueError("eigenvalues is empty: give the Hessian's eigenvalues, e.g. 1, 10")
        for lam in self.eigenvalues:
            _checks.positive("eigenvalue", lam)
        _checks.integer("step_sizes", self.step_sizes, minimum=2)
        if not 0 < self.tolerance < 1:
            raise ValueError(f"tolerance must be in (0, 1), got {self.tolerance}")
        for name in ("max_iterations", "newton_steps", "gd_steps", "samples", "mini_batch"):
            _checks.integer(name, getattr(self, name))
        for m in self.epoch_sizes:
            _checks.integer("epoch size", m)
        _checks.positive("gd_lr", self.gd_lr)


def iterations_closed_form(nu: float, eigenvalues: np.ndarray, tolerance: float) -> float:
    """max_i ⌈log ε / log|1 − νλᵢ|⌉: steps until every |1 − νλᵢ|^n ≤ ε; inf if some factor
    is ≥ 1 (no convergence), 1 if some factor is 0 and the others reach ε in one step."""
    factors = np.abs(1.0 - nu * np.asarray(eigenvalues, dtype=float))
    if np.any(factors >= 1.0):
        return math.inf
    n = 0
    for f in factors:
        steps = 1 if f == 0.0 else math.ceil(math.log(tolerance) / math.log(f) - 1e-12)
        n = max(n, steps)
    return float(n)


def iterations_measured(
    nu: float, eigenvalues: np.ndarray, tolerance: float, cap: int
) -> tuple[float, np.ndarray]:
    """Run w ← w − ν H (w − w*) from w − w* = (1, …, 1) until max |w − w*| ≤ ε: (steps, the
    first 60 iterates of w − w*). inf when ``cap`` steps do not suffice or the error grows
    past 1e12."""
    lam = np.asarray(eigenvalues, dtype=float)
    e = np.ones_like(lam)
    path = [e.copy()]
    for n in range(1, cap + 1):
        e = e - nu * lam * e
        if len(path) < 60:
            path.append(e.copy())
        err = float(np.max(np.abs(e)))
        if err <= tolerance:
            return float(n), np.asarray(path)
        if err > 1e12:
            break
    return math.inf, np.asarray(path)


def iterations_all(
    nus: np.ndarray, eigenvalues: np.ndarray, tolerance: float, cap: int
) -> np.ndarray:
    """:func:`iterations_measured` for many step sizes at once (one vectorized loop)."""
    lam = np.asarray(eigenvalues, dtype=float)
    factor = 1.0 - nus[:, None] * lam[None]
    e = np.ones((len(nus), len(lam)))
    out = np.full(len(nus), math.inf)
    live = np.ones(len(nus), dtype=bool)
    for n in range(1, cap + 1):
        with np.errstate(over="ignore", invalid="ignore"):  # divergent ν: inf is fine
            e = e * factor  # w − w* ← (1 − νλ)(w − w*), the step w ← w − ν H (w − w*)
        err = np.abs(e).max(1)
        done = live & (err <= tolerance)
        out[done] = n
        live &= ~done & (err <= 1e12)
        if not live.any():
            break
    return out


def _quadratic(cfg: Config) -> dict[str, np.ndarray]:
    lam = np.asarray(cfg.eigenvalues, dtype=float)
    nus = np.geomspace(1e-3, 2.4 / lam.max(), cfg.step_sizes)
    measured = iterations_all(nus, lam, cfg.tolerance, cfg.max_iterations)
    closed = np.array([iterations_closed_form(nu, lam, cfg.tolerance) for nu in nus])
    # three paths for the picture: smooth, oscillating, divergent
    shown = np.array([0.5, 1.6, 2.1]) / lam.max()
    paths = np.full((3, 60, len(lam)), np.nan)
    for i, nu in enumerate(shown):
        p = iterations_measured(nu, lam, cfg.tolerance, 59)[1]
        paths[i, : len(p)] = p
    return {"nu": nus, "measured": measured, "closed": closed, "shown": shown, "paths": paths}


def _newton(cfg: Config) -> dict[str, np.ndarray]:
    X, y = rings(cfg.samples, seed=cfg.seed + 3, dtype=D)

    def net() -> ResNet:
        return ResNet(2, 3, 3, T=1.0, lift="pad", init="uniform", scale=0.5, seed=cfg.seed,
                      dtype=D)  # fmt: skip

    newton = fit(net(), X, y, optimizer="newton", steps=cfg.newton_steps).loss.numpy()
    gd = fit(net(), X, y, optimizer="sgd", lr=cfg.gd_lr, steps=cfg.gd_steps).loss.numpy()
    return {"newton": newton, "gd": gd}


def _epochs(cfg: Config) -> np.ndarray:
    """(epoch size, batch kind) seconds per epoch: full batch, mini-batch, on-line."""
    out = np.zeros((len(cfg.epoch_sizes), 3))
    for i, M in enumerate(cfg.epoch_sizes):
        X, y = rings(M, seed=cfg.seed + 7, dtype=D)
        for j, b in enumerate((None, cfg.mini_batch, 1)):
            steps = 1 if b is None else math.ceil(M / b)
            net = ResNet(2, 3, 3, T=1.0, lift="pad", seed=cfg.seed, dtype=D)
            fit(net, X, y, optimizer="sgd", lr=0.01, steps=1, batch_size=b)  # warm
            t = time.perf_counter()
            fit(net, X, y, optimizer="sgd", lr=0.01, steps=steps, batch_size=b)
            out[i, j] = time.perf_counter() - t
    return out


def run(cfg: Config, progress: Progress | None = None) -> xr.Dataset:
    count = ProgressCounter(progress, 3)
    q = _quadratic(cfg)
    count("step-size regimes")
    nw = _newton(cfg)
    count("Newton against gradient descent")
    ep = _epochs(cfg)
    count("cost per epoch")
    lam = np.asarray(cfg.eigenvalues, dtype=float)
    return xr.Dataset(
        {
            "iterations": (("nu",), q["measured"]),
            "iterations_closed_form": (("nu",), q["closed"]),
            "path": (("regime", "iteration", "component"), q["paths"]),
            "newton_loss": (("newton_step",), nw["newton"]),
            "gd_loss": (("gd_step",), nw["gd"]),
            "epoch_seconds": (("epoch_size", "batch"), ep),
        },
        coords={
            "nu": q["nu"],
            "regime": ["smooth", "oscillating", "divergent"],
            "regime_nu": ("regime", q["shown"]),
            "component": np.arange(len(lam)),
            "newton_step": np.arange(cfg.newton_steps),
            "gd_step": np.arange(cfg.gd_steps),
            "epoch_size": list(cfg.epoch_sizes),
            "batch": ["full batch", f"mini-batch {cfg.mini_batch}", "on-line"],
        },
        attrs={"eigenvalues": list(cfg.eigenvalues), "tolerance": cfg.tolerance},
    )


def figure(ds: xr.Dataset) -> Figure:
    fig, axes = plt.subplots(1, 4, figsize=(20, 4.6))
    lam = np.asarray(ds.attrs["eigenvalues"], dtype=float)
    nu = ds["nu"].values
    ax = axes[0]
    ax.loglog(nu, ds["iterations_closed_form"], "-", color="k", lw=1,
              label="closed form max ⌈log ε / log|1 − νλᵢ|⌉")  # fmt: skip
    ax.loglog(nu, ds["iterations"], "o", ms=4, mfc="none", label="measured")
    eps = float(ds.attrs["tolerance"])
    ax.loglog(nu, np.log(1 / eps) / (nu * lam.min()), ":", color="tab:green",
              label="log(1/ε) / (ν λ_min): O(1/ν)")  # fmt: skip
    for x, text in ((1 / lam.max(), "1/λ_max"), (2 / lam.max(), "ν₀ = 2/λ_max")):
        ax.axvline(x, color="gray", lw=0.8, ls="--")
        ax.text(x, ax.get_ylim()[1], text, rotation=90, va="top", ha="right", fontsize=8)
    ax.set_xlabel("step size ν")
    ax.set_ylabel(f"iterations to max|w − w*| ≤ {eps:g}")
    ax.set_title(f"Prop. A.1.1: ξ = ½ Σ λᵢ wᵢ², λ = {', '.join(f'{v:g}' for v in lam)}",
                 fontsize=10)  # fmt: skip
    ax.legend(fontsize=7)
    ax = axes[1]
    for r, c in zip(ds["regime"].values, ("tab:blue", "tab:orange", "tab:red")):
        p = ds["path"].sel(regime=r).values
        ok = np.isfinite(p[:, 0]) & (np.abs(p).max(1) < 3)
        nu_r = float(ds["regime_nu"].sel(regime=r))
        ax.plot(p[ok, 0], p[ok, -1], ".-", color=c, lw=0.8, ms=3,
                label=f"{r}: ν = {nu_r * lam.max():.1f}/λ_max")  # fmt: skip
    ax.plot([0], [0], "k*", ms=9)
    ax.set_xlim(-0.2, 1.1)
    ax.set_ylim(-3, 3)
    ax.set_xlabel("w₁ − w₁*  (λ_min direction)")
    ax.set_ylabel("w₂ − w₂*  (λ_max direction)")
    ax.set_title("the three regimes of steepest descent", fontsize=10)
    ax.legend(fontsize=7)
    ax = axes[2]
    ax.semilogy(ds["gd_step"] + 1, ds["gd_loss"], label="gradient descent")
    ax.semilogy(ds["newton_step"] + 1, ds["newton_loss"], "o-", ms=3, label="damped Newton")
    ax.set_xscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("training BCE")
    ax.set_title("§A.1.2.2: Newton against steepest descent (same init)", fontsize=10)
    ax.legend(fontsize=8)
    ax = axes[3]
    M = ds["epoch_size"].values
    for b in ds["batch"].values:
        ax.loglog(M, ds["epoch_seconds"].sel(batch=b), "o-", label=str(b))
    ax.set_xticks(M, [str(int(m)) for m in M])
    ax.minorticks_off()
    ax.set_xlabel("samples M")
    ax.set_ylabel("seconds per epoch (this machine)")
    ax.set_title("eq. A.17: one epoch, full batch / mini-batch / on-line", fontsize=10)
    ax.legend(fontsize=8)
    for a in axes:
        a.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    return fig


def numbers(ds: xr.Dataset) -> dict[str, float]:
    it, cf = ds["iterations"].values, ds["iterations_closed_form"].values
    finite = np.isfinite(cf)
    lam = np.asarray(ds.attrs["eigenvalues"], dtype=float)
    nu = ds["nu"].values
    small = nu < 0.1 / lam.max()
    # O(1/ν): iterations × ν is constant for small ν
    prod = it[small] * nu[small]
    M = ds["epoch_size"].values
    ep = ds["epoch_seconds"].values
    return {
        "closed_form_mismatches": float(np.sum(it[finite] != cf[finite])),
        "diverging_step_sizes_not_above_2_over_lambda_max": float(
            np.sum(~np.isfinite(it) & (nu <= 2 / lam.max()))
        ),
        "smallest_diverging_step_times_lambda_max": float(
            nu[~np.isfinite(it)].min() * lam.max() if (~np.isfinite(it)).any() else math.nan
        ),
        "iterations_times_nu_spread_small_nu": float(prod.max() / prod.min() - 1)
        if prod.size
        else math.nan,
        "fewest_iterations": float(np.nanmin(np.where(np.isfinite(it), it, np.nan))),
        "newton_final_loss": float(ds["newton_loss"].values[-1]),
        "gd_final_loss": float(ds["gd_loss"].values[-1]),
        "gd_loss_at_newton_steps": float(ds["gd_loss"].values[ds.sizes["newton_step"] - 1]),
        f"online_over_full_batch_epoch_seconds_M{int(M[-1])}": float(ep[-1, 2] / ep[-1, 0]),
        f"minibatch_over_full_batch_epoch_seconds_M{int(M[-1])}": float(ep[-1, 1] / ep[-1, 0]),
    }


EXPERIMENT = register(
    Experiment(
        id="optimization-basics",
        title="Appendix A: step-size regimes, Newton against steepest descent, cost per epoch",
        reference="App. A.1 Prop. A.1.1, §A.1.2.2, §A.2.1 eq. A.17",
        caption=(
            "Left: steepest descent on ξ = ½(λ₁w₁² + λ₂w₂²), λ = 1, 10, from w − w* = (1, 1): "
            "iterations until every component is below 1e-6, measured (circles) and the closed "
            "form max ⌈log ε / log|1 − νλᵢ|⌉ (line), against the step ν; dotted, "
            "log(1/ε)/(νλ_min), the thesis' O(1/ν). The regimes: smooth below 1/λ_max, "
            "oscillating up to ν₀ = 2/λ_max, divergent above. Second: one path in each regime. "
            "Third: a tanh ResNet on the rings from one initialization, by gradient descent "
            "and by damped Newton with the exact Hessian. Right: seconds per epoch over M "
            "samples of full-batch, mini-batch (32) and on-line SGD with deepdyn.fit: the same "
            "M per-sample gradients, in 1, M/32 and M steps (eq. A.17 counts the work; on a CPU "
            "the per-step overhead dominates for small networks)."
        ),
        config=Config,
        run=run,
        figure=figure,
        numbers=numbers,
        dims=("nu", "regime", "newton_step", "gd_step", "epoch_size", "batch"),
        quick={
            "step_sizes": 12,
            "newton_steps": 6,
            "gd_steps": 60,
            "samples": 60,
            "epoch_sizes": (32, 64),
        },
    )
)

register_claims(
    EXPERIMENT.id,
    [
        Claim(
            "Prop. A.1.1: steepest descent needs O(1/ν) iterations; three regimes: smooth, "
            "oscillating, unstable above ν₀",
            "iterations against ν on a quadratic equal the closed form max⌈log ε/log|1 − νλᵢ|⌉ "
            "(mismatches), diverging steps start at ν₀ = 2/λ_max, iterations·ν constant for "
            "small ν",
            "confirmed",
            (
                "closed_form_mismatches",
                "smallest_diverging_step_times_lambda_max",
                "iterations_times_nu_spread_small_nu",
            ),
            lambda n: (
                n["closed_form_mismatches"] == 0
                and n["diverging_step_sizes_not_above_2_over_lambda_max"] == 0
            ),
        ),
        Claim(
            "§A.1.2.2: Newton's method converges in far fewer iterations than steepest descent",
            "final training loss of damped Newton (few steps) against gradient descent (many)",
            "confirmed",
            ("newton_final_loss", "gd_final_loss", "gd_loss_at_newton_steps"),
            lambda n: n["newton_final_loss"] < n["gd_final_loss"],
        ),
        Claim(
            "eq. A.17: C(ξ) = C(ξ̂)·O(M), the full cost is M per-sample costs",
            "seconds per epoch of on-line and mini-batch SGD over full batch (the same work in "
            "M, M/32 and 1 steps; on a CPU the per-step overhead dominates)",
            "corrected",
            (
                "online_over_full_batch_epoch_seconds_M256",
                "minibatch_over_full_batch_epoch_seconds_M256",
            ),
        ),
    ],
)
