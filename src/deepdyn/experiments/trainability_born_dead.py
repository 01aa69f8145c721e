"""Catalogue entry: born-dead ReLU networks (thesis §8.1.2, Thm 8.1.2–8.1.3;
docs/thesis-notes.md §2).

Monte Carlo over one ensemble per width: the probability that some hidden layer is all-zero at
x₀ = 1, and on the whole interval [−1, 1], against depth for widths 2 … 10, beside the closed form
1 − ∏(1 − 2^{−N_l}) (exact at one point for symmetric laws, whatever γ; an upper bound on the
domain). Then He against the randomized asymmetric initialization (RAI, Lu et al. 2019), and
Thm 8.1.3: born-dead networks trained on the step data end as the best constant.
"""

from __future__ import annotations

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
from deepdyn.experiments import Experiment, Progress, ProgressCounter, register

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
    train_width: int = 2  # Thm 8.1.3: an ensemble trained on the step data
    train_depth: int = 6
    train_members: int = 32
    train_steps: int = 400
    lr: float = 0.02
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.widths:
            raise ValueError("widths needs at least one value")
        for w in (*self.widths, self.compare_width, self.train_width):
            _checks.integer("width", w)
        for name in ("max_depth", "trials", "train_depth", "train_members"):
            _checks.integer(name, getattr(self, name))
        _checks.integer("points", self.points, minimum=2)
        _checks.integer("train_steps", self.train_steps, minimum=0)
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


def run(cfg: Config, progress: Progress | None = None) -> xr.Dataset:
    count = ProgressCounter(progress, len(cfg.widths) + len(cfg.compare_inits) + 1)
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
    for init in ds["init"].values:
        out[f"domain_{init}_L{L}"] = float(ds["init_domain"].sel(init=init, depth=L))
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
        dims=("width", "depth", "init"),
        quick={
            "widths": (2, 4),
            "max_depth": 12,
            "trials": 500,
            "points": 33,
            "train_members": 24,
            "train_steps": 100,
        },
    )
)
