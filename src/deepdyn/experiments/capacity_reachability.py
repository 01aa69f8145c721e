"""Catalogue entry: reachability of the oscillating functions f_m (thesis App. C, Def. C.1.1,
Fig C.1).

ReLU MLPs of width C and depth L, trained by Adam on f_m (the square wave of
:func:`deepdyn.data.oscillation_function`, 2m intervals on [−1, 1]) for m = 1 … M from many
seeds. All m and all seeds of one (C, L) train as one ensemble (each member with its own target).
The heat map is the estimated probability P(loss < ε) that training reaches f_m, the empirical
reachability of Def. C.1.1; under it, the number of oscillations of the trained networks — the
crossings of the level ½ counted on a fine grid (f_m crosses it 2m − 1 times) — is the
complexity measure the thesis proposes (§C.1). Crossings are counted on a grid, not exactly: two
crossings closer than the grid step are missed.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
import xarray as xr
from matplotlib.figure import Figure

from deepdyn import _checks
from deepdyn.data import oscillation_function
from deepdyn.dynamics import MLP
from deepdyn.experiments import (
    Claim,
    Experiment,
    Progress,
    ProgressCounter,
    register,
    register_claims,
)
from deepdyn.train import fit


@dataclass(frozen=True)
class Config:
    widths: tuple[int, ...] = (1, 2, 3, 4, 6, 8)
    depths: tuple[int, ...] = (1, 2, 3)
    m_max: int = 4
    seeds: int = 16
    steps: int = 1500
    lr: float = 0.01
    points: int = 200  # training grid on [−1, 1]
    epsilon: float = 0.01  # reached when the training MSE < ε
    fine: int = 4001  # grid on which crossings of ½ are counted
    activation: str = "relu"
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.widths or not self.depths:
            raise ValueError("widths and depths need at least one value each, e.g. widths=2,4")
        for w in self.widths:
            _checks.integer("width", w)
        for L in self.depths:
            _checks.integer("depth", L)
        _checks.integer("m_max", self.m_max)
        _checks.integer("seeds", self.seeds)
        _checks.integer("steps", self.steps)
        _checks.positive("lr", self.lr)
        _checks.integer("points", self.points, minimum=2)
        _checks.positive("epsilon", self.epsilon)
        _checks.integer("fine", self.fine, minimum=self.points)
        _checks.choice("activation", self.activation, ("relu", "leaky_relu", "tanh", "sigmoid"))


def crossings(y: torch.Tensor, level: float = 0.5) -> torch.Tensor:
    """The number of sign changes of y − level along the last axis: (..., sample) → (...)."""
    s = torch.sign(y - level)
    s = torch.where(s == 0, torch.ones_like(s), s)  # touching the level counts from above
    return (s[..., 1:] != s[..., :-1]).sum(-1)


def grid_regions(net: MLP, x: torch.Tensor) -> torch.Tensor:
    """Activation regions of a ReLU (or leaky ReLU) MLP met along a sorted 1-D grid.

    x: (sample, 1) → (ensemble,).

    One plus the number of grid steps across which the activation pattern (the signs of all
    pre-activations) changes. In 1-D every activation region is an interval (a convex polytope),
    so this is a lower bound of the exact count on [x_0, x_end]: regions narrower than the grid
    step can be missed, none is counted twice.
    """
    with torch.no_grad():
        pre = net.trajectory(x, preactivations=True).preactivations
    assert pre is not None
    pre = pre if pre.dim() == 4 else pre.unsqueeze(1)  # (layer, ensemble, sample, hidden)
    bits = (pre > 0).permute(1, 2, 0, 3).flatten(2)  # (ensemble, sample, layer·hidden)
    return (bits[:, 1:] != bits[:, :-1]).any(-1).sum(-1) + 1


def run(cfg: Config, progress: Progress | None = None) -> xr.Dataset:
    ms = np.arange(1, cfg.m_max + 1)
    M, S = len(ms), cfg.seeds
    X = torch.linspace(-1.0, 1.0, cfg.points)[:, None]  # (sample, input)
    Y = torch.stack([oscillation_function(X, int(m)) for m in ms])  # (m, sample, 1)
    Y = Y.repeat_interleave(S, dim=0)  # (ensemble = m·seed, sample, 1)
    xf = torch.linspace(-1.0, 1.0, cfg.fine)[:, None]
    shape = (len(cfg.depths), len(cfg.widths), M, S)
    loss = np.zeros(shape)
    cross = np.zeros(shape, dtype=np.int64)
    regions = np.full(shape, np.nan)  # defined for piecewise-linear σ only
    count = ProgressCounter(progress, len(cfg.depths) * len(cfg.widths))
    for i, L in enumerate(cfg.depths):
        for j, C in enumerate(cfg.widths):
            net = MLP(
                1,
                C,
                L,
                activation=cfg.activation,
                readout="identity",
                init="he",
                bias_init="normal",
                ensemble=M * S,
                seed=cfg.seed + 100_000 * i + 1000 * j,
            )
            Xe = X.expand(M * S, -1, -1)  # (ensemble, sample, input)
            fit(net, Xe, Y, loss="mse", optimizer="adam", lr=cfg.lr, steps=cfg.steps)
            with torch.no_grad():
                final = (net(Xe) - Y).pow(2).mean((-1, -2))  # (ensemble,)
                yf = net(xf)[..., 0]  # (ensemble, fine)
            loss[i, j] = final.reshape(M, S).numpy()
            cross[i, j] = crossings(yf).reshape(M, S).numpy()
            if cfg.activation in ("relu", "leaky_relu"):
                regions[i, j] = grid_regions(net, xf).reshape(M, S).numpy()
            count(f"L={L} C={C}")
    reached = loss < cfg.epsilon
    return xr.Dataset(
        {
            "loss": (("depth", "width", "m", "ensemble"), loss),
            "crossings": (("depth", "width", "m", "ensemble"), cross),
            "regions": (("depth", "width", "m", "ensemble"), regions),
            "probability": (("depth", "width", "m"), reached.mean(-1)),
            "required_crossings": (("m",), 2 * ms - 1),
        },
        coords={
            "depth": list(cfg.depths),
            "width": list(cfg.widths),
            "m": ms,
            "ensemble": np.arange(S),
        },
        attrs={"epsilon": cfg.epsilon, "steps": cfg.steps, "activation": cfg.activation},
    )


def figure(ds: xr.Dataset) -> Figure:
    depths, widths, ms = ds["depth"].values, ds["width"].values, ds["m"].values
    eps = float(ds.attrs["epsilon"])
    mean_cross = ds["crossings"].mean("ensemble")
    # (title, data (depth, width, m), vmax, colour map, number format, label m with 2m − 1)
    rows = [
        (f"P(loss < {eps:g})", ds["probability"], 1.0, "viridis", "{:.2f}", False),
        ("mean crossings of ½", mean_cross,
         max(float(mean_cross.max()), float(ds["required_crossings"].max())), "cividis", "{:.1f}",
         True),
    ]  # fmt: skip
    if bool(np.isfinite(ds["regions"].values).all()):
        mean_regions = ds["regions"].mean("ensemble")
        rows.append(("mean activation regions (grid)", mean_regions,
                     float(mean_regions.max()), "magma", "{:.1f}", False))  # fmt: skip
    n = len(depths)
    fig, axes = plt.subplots(len(rows), n, figsize=(3.9 * n + 1.2, 3.6 * len(rows)), squeeze=False)
    for row, (title, arr, vmax, cmap, fmt, required) in enumerate(rows):
        for k, L in enumerate(depths):
            data = arr.sel(depth=L).values.T  # (m, width)
            ax = axes[row, k]
            im = ax.imshow(data, origin="lower", aspect="auto", vmin=0, vmax=vmax, cmap=cmap)
            for (a, b), v in np.ndenumerate(data):
                color = "w" if v < 0.6 * vmax else "k"
                ax.text(b, a, fmt.format(v), ha="center", va="center", fontsize=7, color=color)
            ax.set_xticks(range(len(widths)), [str(w) for w in widths])
            labels = [f"m={m}" + (f" ({2 * m - 1})" if required else "") for m in ms]
            ax.set_yticks(range(len(ms)), labels)
            ax.set_xlabel("number of components C")
            ax.set_title(f"{title}, L = {L}", fontsize=10)
            if k == n - 1:
                fig.colorbar(im, ax=ax, shrink=0.85)
    fig.suptitle(
        f"Reachability of f_m ({ds.attrs['activation']} MLPs, {ds.sizes['ensemble']} seeds, "
        f"{ds.attrs['steps']} Adam steps)\nf_m needs 2m − 1 crossings; a ReLU net of width C and "
        "depth L has at most (C + 1)^L regions",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def numbers(ds: xr.Dataset) -> dict[str, float]:
    out: dict[str, float] = {"mean_probability": float(ds["probability"].mean())}
    C, L = ds["width"].values[-1], ds["depth"].values[-1]
    for m in ds["m"].values:  # at the largest architecture, every target
        out[f"p_L{L}_C{C}_m{m}"] = float(ds["probability"].sel(depth=L, width=C, m=m))
    for m in ds["m"].values:
        p = ds["probability"].sel(m=m).max("depth")  # (width,)
        ok = ds["width"].values[p.values >= 0.5]
        out[f"min_width_p50_m{m}"] = float(ok[0]) if ok.size else float("nan")
    # Def C.1.2's oscillation count: mean crossings of ½ at the largest architecture (f_m: 2m − 1)
    for m in ds["m"].values:
        out[f"crossings_mean_L{L}_C{C}_m{m}"] = float(
            ds["crossings"].sel(depth=L, width=C, m=m).mean()
        )
    # Def C.1.2's region count: the most regions any trained net of (L, C) has on the grid (a
    # lower bound of the sup r(L, C)); nan for activations that are not piecewise linear
    top = ds["regions"].max(("m", "ensemble")).values  # (depth, width)
    L0, C0 = ds["depth"].values[0], ds["width"].values[0]
    out[f"regions_max_L{L0}_C{C0}"] = float(top[0, 0])
    out[f"regions_max_L{L}_C{C}"] = float(top[-1, -1])
    if np.isfinite(top).all():
        steps = np.concatenate([np.diff(top, axis=0).ravel(), np.diff(top, axis=1).ravel()])
        out["regions_max_decreases"] = float((steps < 0).sum())  # along depth or width
        bound = (ds["width"].values[None, :] + 1.0) ** ds["depth"].values[:, None]
        out["regions_max_over_bound"] = float((top / bound).max())  # (C + 1)^L, exact in 1-D
    else:
        out["regions_max_decreases"] = out["regions_max_over_bound"] = float("nan")
    return out


EXPERIMENT = register(
    Experiment(
        id="capacity-reachability",
        title="Reachability of the oscillating functions f_m",
        reference="App. C, Def. C.1.1, Def. C.1.2, Fig C.1",
        caption=(
            "ReLU MLPs of width C and depth L trained by Adam (full batch, MSE) on the square "
            "wave f_m with 2m intervals on [−1, 1], for many seeds; all m and seeds of one "
            "architecture train as one ensemble. Top: the fraction of seeds whose training MSE "
            "falls below ε — the empirical reachability of Def. C.1.1. Bottom: the mean number "
            "of crossings of the level ½ by the trained networks on a fine grid (f_m has "
            "2m − 1, shown next to m), the oscillation count proposed as a complexity measure. "
            "Key number min_width_p50_m: the smallest width C tried at which some depth reaches "
            "P ≥ 0.5 for f_m; it is nan (written 'none reached') when no width tried does."
        ),
        config=Config,
        run=run,
        figure=figure,
        numbers=numbers,
        dims=("depth", "width", "m"),
        quick={
            "widths": (2, 6),
            "depths": (1, 2),
            "m_max": 2,
            "seeds": 4,
            "steps": 150,
            "points": 60,
            "fine": 401,
        },
    )
)


def _ordered(values: list[float]) -> bool:
    return all(a >= b for a, b in itertools.pairwise(values))


register_claims(
    EXPERIMENT.id,
    [
        Claim(
            "Def C.1.1: the reachability space of g for (L, C), training time T, probability "
            "Pr and tolerance ε collects the networks that reach loss < ε",
            "as printed the condition is P(loss < ε) < Pr, reversed, and it does not depend "
            "on the element ĝ_θ (thesis notes §23); read as "
            "'g is reached by (L, C) in T steps with P(loss < ε) ≥ Pr'. Measured: the share of "
            "16 seeds whose training MSE < 0.01 after 1500 Adam steps, for every (L, C, m); "
            "at L = 3, C = 8 it separates f_1 (reached) from f_4 (not)",
            "corrected",
            ("mean_probability", "p_L3_C8_m1", "p_L3_C8_m4"),
            lambda n: (
                0 < n["mean_probability"] < 0.5
                and n["p_L3_C8_m1"] >= 0.5
                and n["p_L3_C8_m4"] <= 0.1
            ),
        ),
        Claim(
            "Def C.1.2: a complexity measure has a supremum r(L, C) over the networks of "
            "(L, C) that grows with L and with C; the number of linear regions is one",
            "the most activation regions any trained net of (L, C) has on [−1, 1] (a lower "
            "bound of r(L, C)): from L = 1, C = 1 to L = 3, C = 8; neighbours in L or C along "
            "which it decreases (ties occur at the smallest sizes); its largest fraction of "
            "(C + 1)^L, Serra's bound for one input — reached at L = 1, C = 1, while the "
            "deepest, widest nets use a few per cent of it",
            "confirmed",
            (
                "regions_max_L1_C1",
                "regions_max_L3_C8",
                "regions_max_decreases",
                "regions_max_over_bound",
            ),
            lambda n: (
                n["regions_max_decreases"] == 0
                and n["regions_max_over_bound"] <= 1.0
                and n["regions_max_L3_C8"] >= 5 * n["regions_max_L1_C1"]
            ),
        ),
        Claim(
            "Def C.1.2 (candidates): the number of oscillations measures how complex a target "
            "is for a network",
            "mean crossings of ½ by the trained L = 3, C = 8 nets against the 2m − 1 that f_m "
            "needs: f_1's one crossing is met, f_4's seven are not, matching which targets are "
            "reached",
            "confirmed",
            ("crossings_mean_L3_C8_m1", "crossings_mean_L3_C8_m4", "p_L3_C8_m4"),
            lambda n: (
                abs(n["crossings_mean_L3_C8_m1"] - 1) < 0.2
                and n["crossings_mean_L3_C8_m4"] < 7 - 1
                and n["p_L3_C8_m4"] <= 0.1
            ),
        ),
        Claim(
            "Fig C.1: how often training reaches the oscillating f_m against the number of "
            "components: more oscillations need more components",
            "P(MSE < 0.01) at L = 3, C = 8 for m = 1 … 4, falling with m; the smallest width "
            "at which some depth reaches P ≥ 0.5, for f_1 and f_2; nan means no width tried "
            "(up to C = 8, L = 3) reaches it, which counts as larger than f_1's",
            "reproduced",
            (
                "p_L3_C8_m1",
                "p_L3_C8_m2",
                "p_L3_C8_m3",
                "p_L3_C8_m4",
                "min_width_p50_m1",
                "min_width_p50_m2",
            ),
            lambda n: (
                n["p_L3_C8_m1"] >= 0.8
                and n["p_L3_C8_m1"] > n["p_L3_C8_m2"]
                and _ordered([n[f"p_L3_C8_m{m}"] for m in (2, 3, 4)])
                and n["p_L3_C8_m4"] <= 0.1
                and n["min_width_p50_m1"] <= 4
                and (
                    math.isnan(n["min_width_p50_m2"])
                    or n["min_width_p50_m2"] > n["min_width_p50_m1"]
                )
            ),
        ),
    ],
)
