"""Catalogue entry (beyond the thesis): FTLE fields of trained classifiers, narrow against wide
(Storm, Linander, Bec, Gustavsson & Mehlig, PRL 132, 057301, 2024).

tanh MLPs of depth L and widths 4 … 64 (N(0, 1) weights and biases, an ensemble of seeds per width)
are trained with Adam on the thesis' rings (§10.1) and on moons. On a grid over [−1.2, 1.2]² the
finite-time Lyapunov exponent λ_L(x) = log σ_max(∂z_L/∂x) / L of the map x ↦ z_L
(``deepdyn.analysis.ftle_field``) is drawn with the class boundary of each network over it. For
narrow networks the ridges of λ follow the boundary: the input directions that cross it are
stretched most. The contrast — mean λ on the grid cells at the boundary minus the mean
elsewhere, in standard deviations of λ — fades as the width grows, as published.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.figure import Figure

import deepdyn
from deepdyn import _checks
from deepdyn.analysis import ftle_field
from deepdyn.experiments import (
    Claim,
    Experiment,
    Progress,
    ProgressCounter,
    register,
    register_claims,
)

BOX = ((-1.2, 1.2), (-1.2, 1.2))
DATASETS = ("rings", "moons")


@dataclass(frozen=True)
class Config:
    datasets: tuple[str, ...] = DATASETS
    widths: tuple[int, ...] = (4, 16, 64)
    depth: int = 5
    seeds: int = 2
    samples: int = 100
    steps: int = 100
    lr: float = 0.02
    grid: int = 48
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.datasets or not self.widths:
            raise ValueError("datasets and widths need at least one value each")
        for d in self.datasets:
            _checks.choice("dataset", d, DATASETS)
        for w in self.widths:
            _checks.integer("width", w)
        _checks.integer("depth", self.depth)
        _checks.integer("seeds", self.seeds)
        _checks.integer("samples", self.samples, minimum=4)
        _checks.integer("steps", self.steps, minimum=0)
        _checks.positive("lr", self.lr)
        _checks.integer("grid", self.grid, minimum=4)
        _checks.integer("seed", self.seed, minimum=0)


def run(cfg: Config, progress: Progress | None = None) -> xr.Dataset:
    tick = ProgressCounter(progress, len(cfg.datasets) * len(cfg.widths))
    nd, nw, S, G = len(cfg.datasets), len(cfg.widths), cfg.seeds, cfg.grid
    ftle = np.zeros((nd, nw, S, G, G))
    labels = np.zeros((nd, nw, S, G, G), dtype=np.int64)
    contrast = np.zeros((nd, nw, S))
    acc = np.zeros((nd, nw, S))
    points = []
    for i, name in enumerate(cfg.datasets):
        X, y = getattr(deepdyn.data, name)(cfg.samples, seed=cfg.seed)
        points.append((X.numpy(), y.numpy()))
        for j, w in enumerate(cfg.widths):
            net = deepdyn.MLP(
                2,
                w,
                cfg.depth,
                activation="tanh",
                init="normal",
                scale=1.0,
                ensemble=S,
                seed=cfg.seed,
            )
            if cfg.steps:
                hist = deepdyn.fit(net, X, y, optimizer="adam", lr=cfg.lr, steps=cfg.steps)
                acc[i, j] = hist.accuracy[-1].numpy()
            field = ftle_field(net, BOX, G, layers=[cfg.depth], whole=False)
            ftle[i, j] = field.values[0]
            labels[i, j] = field.labels()
            contrast[i, j] = [field.boundary_contrast(member=k) for k in range(S)]
            tick(f"{name} width {w}")
    g = np.linspace(BOX[0][0], BOX[0][1], G)
    n = max(len(p[1]) for p in points)
    X_all = np.full((nd, n, 2), np.nan)
    y_all = np.full((nd, n), -1, dtype=np.int64)
    for i, (Xp, yp) in enumerate(points):
        X_all[i, : len(yp)], y_all[i, : len(yp)] = Xp, yp
    return xr.Dataset(
        {
            "ftle": (("dataset", "width", "ensemble", "gy", "gx"), ftle),
            "label": (("dataset", "width", "ensemble", "gy", "gx"), labels),
            "contrast": (("dataset", "width", "ensemble"), contrast),
            "accuracy": (("dataset", "width", "ensemble"), acc),
            "X": (("dataset", "sample", "input"), X_all),
            "y": (("dataset", "sample"), y_all),
        },
        coords={
            "dataset": list(cfg.datasets),
            "width": list(cfg.widths),
            "ensemble": np.arange(S),
            "gx": g,
            "gy": g,
        },
        attrs={"depth": cfg.depth, "trained": int(cfg.steps > 0)},
    )


def figure(ds: xr.Dataset) -> Figure:
    names, widths = list(ds["dataset"].values), list(ds["width"].values)
    nd, nw = len(names), len(widths)
    fig, axes = plt.subplots(nd, nw + 1, figsize=(3.3 * (nw + 1), 3.2 * nd), squeeze=False)
    g = ds["gx"].values
    L = int(ds.attrs["depth"])
    for i, name in enumerate(names):
        for j, w in enumerate(widths):
            ax = axes[i, j]
            v = ds["ftle"].values[i, j, 0]
            mesh = ax.pcolormesh(g, g, v, cmap="magma", shading="auto")
            lab = ds["label"].values[i, j, 0]
            if lab.min() != lab.max():
                ax.contour(g, g, lab, levels=[0.5], colors="c", linewidths=1.0)
            X, y = ds["X"].values[i], ds["y"].values[i]
            ok = y >= 0
            ax.scatter(X[ok, 0], X[ok, 1], c=y[ok], cmap="coolwarm", s=3, alpha=0.5)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{name}, width {w}", fontsize=9)
            fig.colorbar(mesh, ax=ax, fraction=0.046, pad=0.02)
        ax = axes[i, nw]
        c = ds["contrast"].values[i]
        ax.semilogx(widths, np.nanmean(c, 1), "o-", color="k")
        for k in range(c.shape[1]):
            ax.semilogx(widths, c[:, k], ".", color="0.5")
        ax.axhline(0, color="0.7", lw=0.8)
        ax.set_xticks(widths, [str(int(w)) for w in widths])
        ax.minorticks_off()
        ax.set_xlabel("width")
        ax.set_ylabel("ridge contrast at the boundary (sd)")
        ax.set_title(f"{name}: λ_{L} at the boundary − elsewhere", fontsize=9)
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig


def numbers(ds: xr.Dataset) -> dict[str, float]:
    out: dict[str, float] = {}
    widths = list(ds["width"].values)
    for i, name in enumerate(ds["dataset"].values):
        c = np.nanmean(ds["contrast"].values[i], 1)
        out[f"contrast_{name}_width{widths[0]}"] = float(c[0])
        out[f"contrast_{name}_width{widths[-1]}"] = float(c[-1])
        if ds.attrs["trained"]:
            out[f"accuracy_{name}_min"] = float(ds["accuracy"].values[i].min())
    return out


EXPERIMENT = register(
    Experiment(
        id="beyond-ftle",
        title="FTLE fields: ridges along the class boundary fade with width",
        reference="beyond the thesis: Storm et al., PRL 132, 057301 (2024); thesis §10.1 data",
        caption=(
            "Finite-time Lyapunov exponent λ_L(x) = log σ_max(∂z_L/∂x)/L of trained tanh MLPs "
            "over the input plane, with each network's class boundary (cyan) and the training "
            "data. Narrow networks stretch inputs most along their boundary: the ridges of λ "
            "trace it. Right: the contrast of λ at the boundary against elsewhere, per seed "
            "(grey) and mean (black), falls as the width grows (Storm et al. 2024)."
        ),
        config=Config,
        run=run,
        figure=figure,
        numbers=numbers,
        dims=("dataset", "width"),
        quick={"datasets": ("rings",), "widths": (4, 32), "steps": 60, "grid": 24},
    )
)


register_claims(
    EXPERIMENT.id,
    [
        Claim(
            "Storm, Linander, Bec, Gustavsson & Mehlig (2024): in a trained narrow classifier "
            "the largest finite-time Lyapunov exponent of the input-to-output map has ridges "
            "along the decision boundary; in wide networks these ridges fade",
            "tanh MLPs of depth 5 trained with Adam on rings and moons (2 seeds): contrast of "
            "λ_L on the grid cells at the class boundary against the rest, in standard "
            "deviations of λ, at width 4 and 64, and the lowest training accuracy",
            "confirmed",
            (
                "contrast_rings_width4",
                "contrast_rings_width64",
                "contrast_moons_width4",
                "contrast_moons_width64",
                "accuracy_rings_min",
                "accuracy_moons_min",
            ),
            lambda n: all(
                n[f"contrast_{d}_width4"] > 1.0
                and n[f"contrast_{d}_width4"] > n[f"contrast_{d}_width64"] + 0.5
                and n[f"accuracy_{d}_min"] > 0.8
                for d in ("rings", "moons")
            ),
        ),
    ],
)
