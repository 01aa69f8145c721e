"""Catalogue entry: born-dead ReLU networks (thesis §8.1.2, Thm 8.1.2–8.1.3;
docs/thesis-notes.md §2).

Monte Carlo over one ensemble per width: the probability that some hidden layer is all-zero at
x₀ = 1, and on the whole interval [−1, 1], against depth for widths 2 … 10, beside the closed form
1 − ∏(1 − 2^{−N_l}) (exact at one point for symmetric laws, whatever γ; an upper bound on the
domain). Then He against the randomized asymmetric initialization (RAI, Lu et al. 2019), and
Thm 8.1.3: born-dead networks trained on the step data end as the best constant.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
import xarray as xr
from matplotlib.figure import Figure

import deepdyn
from deepdyn import _checks
from deepdyn.analysis import born_dead_bound, born_dead_probability, first_dead_layer
from deepdyn.analysis.born_dead import INITS
from deepdyn.experiments import (
    Claim,
    Experiment,
    Progress,
    ProgressCounter,
    register,
    register_claims,
)

D = torch.float64


@dataclass(frozen=True)
class Config:
    widths: tuple[int, ...] = (2, 3, 4, 6, 8, 10)
    max_depth: int = 30
    trials: int = 2000
    points: int = 129  # grid points on [−1, 1] for the domain-wide check
    scale: float = 1.0  # γ of uniform[−γ, γ]
    compare_width: int = 3  # He against RAI at this width
    compare_inits: tuple[str, ...] = ("uniform", "he", "rai")
    lemma_members: int = 1000  # Lemma 8.1.3: width compare_width, depth lemma_depth
    lemma_depth: int = 10
    train_width: int = 2  # Thm 8.1.3: an ensemble trained on the step data
    train_depth: int = 6
    train_members: int = 32
    train_steps: int = 400
    lr: float = 0.02
    seed: int = 0

    def __post_init__(self) -> None:
        _checks.integers("widths", self.widths, item="width", example="2,3,4")
        for w in (self.compare_width, self.train_width):
            _checks.integer("width", w)
        for name in ("max_depth", "trials", "train_depth", "train_members", "lemma_depth"):
            _checks.integer(name, getattr(self, name))
        _checks.integer("points", self.points, minimum=2)
        _checks.integer("train_steps", self.train_steps, minimum=0)
        _checks.integer("lemma_members", self.lemma_members, minimum=0)
        _checks.positive("scale", self.scale)
        _checks.positive("lr", self.lr)
        for init in self.compare_inits:
            _checks.choice("init", init, INITS)


def _trained(cfg: Config) -> dict[str, tuple[tuple[str, ...], np.ndarray]]:
    X, y = deepdyn.data.step(100, seed=cfg.seed, dtype=D, grid=True)
    net = deepdyn.MLP(
        1,
        cfg.train_width,
        cfg.train_depth,
        activation="relu",
        ensemble=cfg.train_members,
        seed=cfg.seed,
        scale=cfg.scale,
        dtype=D,
    )
    layers = [
        (s.weight.detach().clone(), s.bias.detach().clone())  # type: ignore[union-attr]
        for l in range(cfg.train_depth)
        for s in net.field.sublayers(l)
    ]
    grid = torch.linspace(-1, 1, 201, dtype=D)[:, None]
    dead = (first_dead_layer(layers, grid) <= cfg.train_depth).numpy()
    hist = deepdyn.fit(net, X, y, optimizer="adam", lr=cfg.lr, steps=cfg.train_steps)
    with torch.no_grad():
        out = net(grid)[..., 0].numpy()  # (ensemble, sample)
    return {
        "trained_output": (("ensemble", "x"), out),
        "born_dead": (("ensemble",), dead),
        "trained_loss": (("ensemble",), hist.loss[-1].numpy()),
        "target_mean": ((), np.asarray(float(y.double().mean()))),
    }


def _lemma(cfg: Config) -> dict[str, tuple[tuple[str, ...], np.ndarray]]:
    """Lemma 8.1.3 at initialization: whether some hidden layer is all-zero on a grid of
    [−1, 1], and the range of the network's output over the same grid."""
    net = deepdyn.MLP(
        1,
        cfg.compare_width,
        cfg.lemma_depth,
        activation="relu",
        ensemble=cfg.lemma_members,
        seed=cfg.seed + 1,
        scale=cfg.scale,
        dtype=D,
    )
    layers = [
        (s.weight.detach().clone(), s.bias.detach().clone())  # type: ignore[union-attr]
        for l in range(cfg.lemma_depth)
        for s in net.field.sublayers(l)
    ]
    grid = torch.linspace(-1, 1, 201, dtype=D)[:, None]
    dead = (first_dead_layer(layers, grid) <= cfg.lemma_depth).numpy()
    with torch.no_grad():
        out = net(grid)[..., 0]  # (ensemble, sample)
    spread = (out.amax(1) - out.amin(1)).numpy()
    scale = out.abs().amax(1).numpy()
    return {
        "lemma_dead_layer": (("lemma_ensemble",), dead),
        "lemma_output_range": (("lemma_ensemble",), spread),
        "lemma_output_scale": (("lemma_ensemble",), scale),
    }


def run(cfg: Config, progress: Progress | None = None) -> xr.Dataset:
    count = ProgressCounter(progress, len(cfg.widths) + len(cfg.compare_inits) + 2)
    shape = (len(cfg.widths), cfg.max_depth)
    point, point_ci = np.zeros(shape), np.zeros((*shape, 2))
    domain, domain_ci, bound = np.zeros(shape), np.zeros((*shape, 2)), np.zeros(shape)
    common = {"trials": cfg.trials, "points": cfg.points, "seed": cfg.seed, "scale": cfg.scale}
    for i, w in enumerate(cfg.widths):
        r = born_dead_probability([w] * cfg.max_depth, init="uniform", **common)  # type: ignore[arg-type]
        point[i], point_ci[i], domain[i], domain_ci[i], bound[i] = (
            r.point,
            r.point_ci,
            r.domain,
            r.domain_ci,
            r.bound,
        )
        count(f"width {w}")
    cshape = (len(cfg.compare_inits), cfg.max_depth)
    c_point, c_domain = np.zeros(cshape), np.zeros(cshape)
    c_domain_ci = np.zeros((*cshape, 2))
    c_bound = [born_dead_bound([cfg.compare_width] * L) for L in range(1, cfg.max_depth + 1)]
    for j, init in enumerate(cfg.compare_inits):
        r = born_dead_probability([cfg.compare_width] * cfg.max_depth, init=init, **common)  # type: ignore[arg-type]
        c_point[j], c_domain[j], c_domain_ci[j] = r.point, r.domain, r.domain_ci
        count(f"init {init}")
    data = _trained(cfg) if cfg.train_steps else {}
    count("Thm 8.1.3 training")
    if cfg.lemma_members:
        data.update(_lemma(cfg))
    count("Lemma 8.1.3")
    return xr.Dataset(
        {
            "point": (("width", "depth"), point),
            "point_ci": (("width", "depth", "end"), point_ci),
            "domain": (("width", "depth"), domain),
            "domain_ci": (("width", "depth", "end"), domain_ci),
            "bound": (("width", "depth"), bound),
            "init_point": (("init", "depth"), c_point),
            "init_domain": (("init", "depth"), c_domain),
            "init_domain_ci": (("init", "depth", "end"), c_domain_ci),
            "init_bound": (("depth",), c_bound),
            **data,
        },
        coords={
            "width": list(cfg.widths),
            "depth": np.arange(1, cfg.max_depth + 1),
            "init": list(cfg.compare_inits),
            "x": np.linspace(-1, 1, 201),
            "end": ["low", "high"],
        },
        attrs={
            "trials": cfg.trials,
            "compare_width": cfg.compare_width,
            "scale": cfg.scale,
            "train_depth": cfg.train_depth,
            "train_width": cfg.train_width,
            "lemma_depth": cfg.lemma_depth,
        },
    )


def figure(ds: xr.Dataset) -> Figure:
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    ax0, ax1, ax2 = axes
    depth = ds["depth"].values
    colors = plt.get_cmap("viridis")(np.linspace(0, 0.9, ds.sizes["width"]))
    for w, c in zip(ds["width"].values, colors):
        ci = ds["point_ci"].sel(width=w).values
        p = ds["point"].sel(width=w).values
        ax0.plot(depth, ds["bound"].sel(width=w), "-", color=c, lw=1.2)
        ax0.errorbar(
            depth,
            ds["point"].sel(width=w),
            yerr=np.clip([p - ci[:, 0], ci[:, 1] - p], 0, None),  # Wilson contains p̂
            fmt="o",
            ms=2.5,
            color=c,
            label=f"N = {int(w)}",
        )
        ax0.plot(depth, ds["domain"].sel(width=w), ":", color=c, lw=1.2)
    ax0.set_xlabel("depth L")
    ax0.set_ylabel("P(born dead)")
    ax0.set_title(
        "dots: MC at x₀ = 1 (95% CI), lines: 1 − ∏(1 − 2^−N),\ndotted: MC on the whole of [-1, 1]",
        fontsize=9,
    )
    ax0.legend(fontsize=7, ncol=2)
    for init, style in zip(ds["init"].values, ("-", "--", "-.")):
        v, ci = ds["init_domain"].sel(init=init), ds["init_domain_ci"].sel(init=init).values
        (line,) = ax1.plot(depth, v, style, label=f"{init}: on [-1, 1]")
        ax1.fill_between(depth, ci[:, 0], ci[:, 1], color=line.get_color(), alpha=0.2)
        ax1.plot(
            depth,
            ds["init_point"].sel(init=init),
            style,
            color=line.get_color(),
            lw=0.8,
            alpha=0.6,
            label=f"{init}: at x₀",
        )
    w = int(ds.attrs["compare_width"])
    ax1.plot(depth, ds["init_bound"], "k:", label="closed form")
    ax1.set_xlabel("depth L")
    ax1.set_title(f"initializers at width {w}: RAI (Lu et al. 2019) lowers it", fontsize=9)
    ax1.legend(fontsize=7)
    if "trained_output" in ds:
        x = ds["x"].values
        out, dead = ds["trained_output"].values, ds["born_dead"].values
        for k in range(out.shape[0]):
            ax2.plot(
                x,
                out[k],
                color="tab:red" if dead[k] else "tab:blue",
                lw=1.0 if dead[k] else 0.6,
                alpha=0.9 if dead[k] else 0.5,
            )
        ax2.axhline(float(ds["target_mean"]), color="k", ls=":", lw=1, label="mean of y")
        ax2.plot([], [], color="tab:red", label=f"born dead ({int(dead.sum())})")
        ax2.plot([], [], color="tab:blue", label=f"alive ({int((~dead).sum())})")
        ax2.legend(fontsize=8)
        ax2.set_ylim(-0.05, 1.05)
        ax2.set_xlabel("x")
        ax2.set_ylabel("trained output")
        L, N = int(ds.attrs["train_depth"]), int(ds.attrs["train_width"])
        ax2.set_title(f"Thm 8.1.3: step data, L = {L}, N = {N}: born dead → constant", fontsize=9)
    for ax in axes:
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig


def numbers(ds: xr.Dataset) -> dict[str, float]:
    L = int(ds["depth"].values[-1])
    out: dict[str, float] = {}
    for w in ds["width"].values:
        out[f"point_N{int(w)}_L{L}"] = float(ds["point"].sel(width=w, depth=L))
        out[f"bound_N{int(w)}_L{L}"] = float(ds["bound"].sel(width=w, depth=L))
        out[f"domain_N{int(w)}_L{L}"] = float(ds["domain"].sel(width=w, depth=L))
    inside = (ds["point_ci"].sel(end="low") <= ds["bound"]) & (
        ds["bound"] <= ds["point_ci"].sel(end="high")
    )
    out["closed_form_inside_ci_fraction"] = float(inside.mean())
    mid = max(1, L // 3)
    for w in ds["width"].values:
        out[f"domain_N{int(w)}_L{mid}"] = float(ds["domain"].sel(width=w, depth=mid))
    for init in ds["init"].values:
        out[f"domain_{init}_L{L}"] = float(ds["init_domain"].sel(init=init, depth=L))
        out[f"point_{init}_L{L}"] = float(ds["init_point"].sel(init=init, depth=L))
    out[f"init_bound_L{L}"] = float(ds["init_bound"].sel(depth=L))
    if "lemma_dead_layer" in ds:
        # Lemma 8.1.3: output constant on the grid (up to a relative 1e-12: the GEMM rounds by
        # position) ⇔ some hidden layer all-zero there
        dead = ds["lemma_dead_layer"].values
        spread = ds["lemma_output_range"].values
        constant = spread <= 1e-12 * np.maximum(ds["lemma_output_scale"].values, 1e-300)
        out["lemma_mismatches"] = float((dead != constant).sum())
        out["lemma_dead_share"] = float(dead.mean())
        out["lemma_alive_output_range_min"] = float(spread[~dead].min()) if (~dead).any() else 0.0
    if "trained_output" in ds:
        dead = ds["born_dead"].values
        out["born_dead_members"] = float(dead.sum())
        if dead.any():
            o = ds["trained_output"].values[dead]
            out["dead_output_range_max"] = float((o.max(1) - o.min(1)).max())
            out["dead_output_minus_mean_y_max"] = float(np.abs(o - float(ds["target_mean"])).max())
    return out


EXPERIMENT = register(
    Experiment(
        id="born-dead",
        title="Born-dead ReLU networks: Monte Carlo against the closed form",
        reference="§8.1.2 Thm 8.1.2–8.1.3; docs/thesis-notes.md §2; Lu et al. 2019",
        caption=(
            "Left: the probability that a ReLU MLP with uniform[-1, 1] weights and biases has an "
            "all-zero hidden layer at x₀ = 1 (dots, Monte Carlo with 95% Wilson intervals) is the "
            "closed form 1 − ∏(1 − 2^{−N}) (lines) for every width N; on the whole interval "
            "(dotted) it is lower. Middle: He against RAI (Lu et al. 2019) at one width, on the "
            "interval (bands: 95% CI) and at x₀. Right: an ensemble trained on the step data; "
            "every born-dead member (red) ends as the constant mean of y (Thm 8.1.3)."
        ),
        config=Config,
        run=run,
        figure=figure,
        numbers=numbers,
        dims=("width", "depth", "init", "lemma_ensemble"),
        quick={
            "widths": (2, 4),
            "max_depth": 12,
            "trials": 500,
            "points": 33,
            "train_members": 24,
            "train_steps": 100,
            "lemma_members": 200,
        },
    )
)


def _decreasing(values: list[float]) -> bool:
    return all(a > b for a, b in itertools.pairwise(values))


register_claims(
    EXPERIMENT.id,
    [
        Claim(
            "Lemma 8.1.3: with weights that almost surely map no non-zero vector to 0, a ReLU "
            "network is born dead on a domain exactly when one of its hidden layers is all-zero "
            "on it",
            "1000 networks (width 3, depth 10, uniform[−1, 1]) at initialization, on a 201-point "
            "grid of [−1, 1]: trials where 'output constant' (to a relative 1e-12) and 'some "
            "hidden layer all-zero' disagree, the share born dead, and the smallest output range "
            "of the live ones",
            "confirmed",
            ("lemma_mismatches", "lemma_dead_share", "lemma_alive_output_range_min"),
            lambda n: (
                n["lemma_mismatches"] == 0
                and 0.2 < n["lemma_dead_share"] < 0.9
                and n["lemma_alive_output_range_min"] > 1e-10
            ),
        ),
        Claim(
            "Thm 8.1.1 (Taki): if each unit is off on the whole positive orthant with "
            "probability ≥ p > 0, a ReLU MLP of fixed width is born dead with probability → 1 "
            "as its depth grows",
            "Monte Carlo share (2000 trials, uniform[−1, 1], where p = 2^−(N+1)) of networks "
            "dead on all of [−1, 1] at depth 10 and 30: near 1 for N = 2, 3 at depth 30 and "
            "rising with depth for N = 4",
            "confirmed",
            ("domain_N2_L30", "domain_N3_L30", "domain_N4_L10", "domain_N4_L30"),
            lambda n: (
                n["domain_N2_L30"] >= 0.99
                and n["domain_N3_L30"] >= 0.95
                and n["domain_N4_L30"] > n["domain_N4_L10"] + 0.2
            ),
        ),
        Claim(
            "Thm 8.1.2: with symmetric weight and bias laws, P(born dead) ≤ 1 − ∏(1 − 2^−N_l)",
            "corrected (thesis notes §2): the closed form, with the product over all hidden "
            "layers, is the exact probability at one point x₀ = 1 for every symmetric law — "
            "the share of the 95 % intervals holding it (widths 2 … 10, depths 1 … 30), He "
            "against the closed form at width 3 — and only an upper bound on the domain "
            "[−1, 1]; asymmetric RAI is not bound by it. The result is Lu, Shin, Su & "
            "Karniadakis (2019), not Taki",
            "corrected",
            (
                "closed_form_inside_ci_fraction",
                "point_he_L30",
                "init_bound_L30",
                "point_N4_L30",
                "domain_N4_L30",
                "bound_N4_L30",
                "point_rai_L30",
            ),
            lambda n: (
                n["closed_form_inside_ci_fraction"] >= 0.9
                and abs(n["point_he_L30"] - n["init_bound_L30"]) < 0.02
                and n["domain_N4_L30"] < n["bound_N4_L30"] - 0.02
                and n["point_rai_L30"] < 0.5 * n["init_bound_L30"]
            ),
        ),
        Claim(
            "Cor 8.1.1: with equal widths N, P(born dead) → 1 as L → ∞ and → 0 as N → ∞",
            "Monte Carlo at x₀ = 1, depth 30: near 1 at N = 2, falling with N through 3, 4, 6, "
            "8 to near 0 at N = 10",
            "confirmed",
            tuple(f"point_N{w}_L30" for w in (2, 3, 4, 6, 8, 10)),
            lambda n: (
                n["point_N2_L30"] >= 0.99
                and n["point_N10_L30"] < 0.06
                and _decreasing([n[f"point_N{w}_L30"] for w in (2, 3, 4, 6, 8, 10)])
            ),
        ),
        Claim(
            "Thm 8.1.3 (Taki): a born-dead network trained by any gradient method on any loss "
            "becomes the constant that minimizes the loss",
            "32 networks (width 2, depth 6) trained with Adam on the step data: the born-dead "
            "ones, their largest output range over [−1, 1] and largest distance from mean(y), "
            "the best constant",
            "confirmed",
            ("born_dead_members", "dead_output_range_max", "dead_output_minus_mean_y_max"),
            lambda n: (
                n["born_dead_members"] >= 5
                and n["dead_output_range_max"] < 1e-12
                and n["dead_output_minus_mean_y_max"] < 1e-3
            ),
        ),
    ],
)
