"""Catalogue entry: the dissipative effect of deep narrow ReLU networks (thesis §8.1.2.1,
Fig 8.1 and 8.2).

The step problem y = 1_{x > 0} on [−1, 1], which one ReLU neuron solves, learned by MLPs with
C = 2 components per layer and L = 1 … 15 layers (uniform[−1, 1] weights and biases, Adam), one
ensemble of trials per depth. Fig 8.1: the trained 15-layer networks — most are constant: the
variation of their states over [−1, 1] dies out along depth and, after a dead layer, is exactly
0. Fig 8.2: against L, the share of networks that solve the problem, the share that end
constant, and the share born dead (some hidden layer all-zero on [−1, 1] at initialization),
which tracks the closed form 1 − (3/4)^L of docs/thesis-notes.md §2 from below.
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
from deepdyn.analysis import born_dead_bound, first_dead_layer
from deepdyn.experiments import (
    Claim,
    Experiment,
    Progress,
    ProgressCounter,
    register,
    register_claims,
)
from deepdyn.train import accuracy

D = torch.float64


@dataclass(frozen=True)
class Config:
    width: int = 2
    depths: tuple[int, ...] = (1, 2, 3, 4, 6, 8, 10, 12, 15)
    trials: int = 40
    samples: int = 100
    steps: int = 600
    lr: float = 0.02
    scale: float = 1.0
    solved_accuracy: float = 0.95
    seed: int = 0

    def __post_init__(self) -> None:
        _checks.integer("width", self.width)
        _checks.integers("depths", self.depths, item="depth", example="1,5,15")
        for name in ("trials", "samples", "steps"):
            _checks.integer(name, getattr(self, name))
        _checks.positive("lr", self.lr)
        _checks.positive("scale", self.scale)
        if not 0 < self.solved_accuracy <= 1:
            raise ValueError(f"solved_accuracy must be in (0, 1], got {self.solved_accuracy}")


def run(cfg: Config, progress: Progress | None = None) -> xr.Dataset:
    X, y = deepdyn.data.step(cfg.samples, seed=cfg.seed, dtype=D)
    grid = torch.linspace(-1, 1, 201, dtype=D)[:, None]
    yg = (grid[:, 0] > 0).to(D)
    n, E = len(cfg.depths), cfg.trials
    count = ProgressCounter(progress, n)
    acc, const, dead = np.zeros((n, E)), np.zeros((n, E), bool), np.zeros((n, E), bool)
    to_mean = np.zeros((n, E))  # max over the grid of |output − mean(y)|: 0 for the best constant
    y_mean = float(y.double().mean())
    data: dict[str, tuple[tuple[str, ...], np.ndarray]] = {}
    for i, L in enumerate(cfg.depths):
        net = deepdyn.MLP(
            1,
            cfg.width,
            L,
            activation="relu",
            ensemble=E,
            scale=cfg.scale,
            seed=cfg.seed + 1000 * L,
            dtype=D,
        )
        layers = [
            (s.weight.detach().clone(), s.bias.detach().clone())  # type: ignore[union-attr]
            for l in range(L)
            for s in net.field.sublayers(l)
        ]
        dead[i] = (first_dead_layer(layers, grid) <= L).numpy()
        deepdyn.fit(net, X, y, optimizer="adam", lr=cfg.lr, steps=cfg.steps)
        with torch.no_grad():
            out = net(grid)[..., 0]  # (ensemble, sample)
        acc[i] = accuracy(out[..., None], yg).numpy()
        const[i] = (out.max(1).values - out.min(1).values < 1e-9).numpy()
        to_mean[i] = (out - y_mean).abs().amax(1).numpy()
        if max(cfg.depths) == L:
            data["output_deepest"] = (("ensemble", "x"), out.numpy())
            with torch.no_grad():
                z = net.trajectory(grid).states  # (layer, ensemble, sample, component)
            spread = (z - z.mean(2, keepdim=True)).pow(2).sum(-1).mean(2).mul(2).sqrt()
            hi, lo = z.amax(2), z.amin(2)  # (layer, ensemble, component)
            flat = (hi - lo - 1e-10 * torch.maximum(hi.abs(), lo.abs()) <= 0).all(-1)
            spread[flat] = 0.0  # constant up to rounding (the GEMM rounds by position)
            data["spread_deepest"] = (("layer", "ensemble"), spread.numpy())
        if min(cfg.depths) == L:
            data["output_shallowest"] = (("ensemble", "x"), out.numpy())
        count(f"depth {L}")
    return xr.Dataset(
        {
            "accuracy": (("depth", "ensemble"), acc),
            "constant": (("depth", "ensemble"), const),
            "born_dead": (("depth", "ensemble"), dead),
            "distance_to_mean_y": (("depth", "ensemble"), to_mean),
            "target_mean": ((), np.asarray(y_mean)),
            "bound": (("depth",), [born_dead_bound([cfg.width] * L) for L in cfg.depths]),
            **data,
        },
        coords={"depth": list(cfg.depths), "x": grid[:, 0].numpy()},
        attrs={"width": cfg.width, "solved_accuracy": cfg.solved_accuracy},
    )


def figure(ds: xr.Dataset) -> Figure:
    fig, (ax0, ax1, ax2) = plt.subplots(1, 3, figsize=(16, 4.6))
    x = ds["x"].values
    Lmax, Lmin = int(ds["depth"].values.max()), int(ds["depth"].values.min())
    for k, o in enumerate(ds["output_shallowest"].values):
        ax0.plot(x, o, color="tab:blue", lw=0.6, alpha=0.5, label=f"L = {Lmin}" if k == 0 else None)
    for k, o in enumerate(ds["output_deepest"].values):
        ax0.plot(x, o, color="tab:red", lw=0.8, alpha=0.6, label=f"L = {Lmax}" if k == 0 else None)
    ax0.step(x, (x > 0).astype(float), "k--", lw=1, where="post", label="target")
    ax0.set_xlabel("x")
    ax0.set_ylabel("trained output")
    ax0.set_title(f"Fig 8.1: trained outputs, C = {int(ds.attrs['width'])}", fontsize=10)
    ax0.legend(fontsize=8)
    norms = ds["spread_deepest"].values  # (layer, ensemble)
    layer = np.arange(norms.shape[0])
    for k in range(norms.shape[1]):
        ax1.plot(layer, norms[:, k], color="0.4", lw=0.6, alpha=0.5)
    ax1.plot(layer, np.median(norms, 1), "k-", lw=2, label="median")
    ax1.set_yscale("symlog", linthresh=1e-3)
    ax1.set_xlabel("layer l")
    ax1.set_ylabel("‖z_l − mean z_l‖ in L²[-1, 1]")
    ax1.set_title(f"dissipation: how much z_l still varies with x (L = {Lmax})", fontsize=10)
    ax1.legend(fontsize=8)
    depth = ds["depth"].values
    solved = (ds["accuracy"] >= ds.attrs["solved_accuracy"]).mean("ensemble")
    ax2.plot(depth, solved, "o-", label=f"solved (accuracy ≥ {ds.attrs['solved_accuracy']:g})")
    ax2.plot(depth, ds["constant"].mean("ensemble"), "s-", label="constant after training")
    ax2.plot(depth, ds["born_dead"].mean("ensemble"), "^-", label="born dead on [-1, 1]")
    ax2.plot(depth, ds["bound"], "k:", label="1 − (1 − 2^−C)^L")
    ax2.set_xlabel("depth L")
    ax2.set_ylabel("share of trials")
    ax2.set_title("Fig 8.2: effect of the number of layers", fontsize=10)
    ax2.legend(fontsize=8)
    for ax in (ax0, ax1, ax2):
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig


def numbers(ds: xr.Dataset) -> dict[str, float]:
    out: dict[str, float] = {}
    thr = ds.attrs["solved_accuracy"]
    for L in ds["depth"].values:
        sel = ds.sel(depth=L)
        out[f"solved_L{int(L)}"] = float((sel["accuracy"] >= thr).mean())
        out[f"constant_L{int(L)}"] = float(sel["constant"].mean())
        out[f"born_dead_L{int(L)}"] = float(sel["born_dead"].mean())
    dead, const = ds["born_dead"].values, ds["constant"].values
    out["born_dead_that_ended_constant"] = float(const[dead].mean()) if dead.any() else 1.0
    # dying during training: of the networks alive at initialization, the share that ended constant
    out["alive_at_init_that_ended_constant"] = float(const[~dead].mean()) if (~dead).any() else 0.0
    # Thm 8.1.3: the constant they end at is the best one, mean(y) (BCE and MSE alike)
    if "distance_to_mean_y" in ds:
        d = ds["distance_to_mean_y"].values
        out["born_dead_output_minus_mean_y_max"] = float(d[dead].max()) if dead.any() else 0.0
    # Fig 8.2: the Monte Carlo share born dead on [−1, 1] against the closed form at one point,
    # which bounds it in expectation (positive values: sampling noise of the trials)
    share = ds["born_dead"].mean("ensemble").values
    out["born_dead_minus_bound_max"] = float((share - ds["bound"].values).max())
    # Fig 8.1: the first layer from which the median L² spread of the deepest trained states
    # (over the trials) is exactly 0 — the input's trace has died out; depth + 1 if none
    med = np.median(ds["spread_deepest"].values, 1)  # (layer,)
    zero = np.flatnonzero(med == 0)
    out["median_spread_zero_from_layer"] = float(zero[0]) if zero.size else float(med.size)
    return out


EXPERIMENT = register(
    Experiment(
        id="dying-relu",
        title="Dissipative effect of deep narrow ReLU networks",
        reference="§8.1.2.1, Fig 8.1–8.2; Thm 8.1.3",
        caption=(
            "The step problem on [-1, 1] learned by ReLU MLPs with C = 2 components "
            "(uniform[-1, 1] initialization, Adam). Left (Fig 8.1): trained outputs of shallow "
            "and 15-layer networks — deep ones mostly end constant. Middle: how much each "
            "state of the trained 15-layer networks still varies over [-1, 1] (L² norm of z_l "
            "minus its mean): it dies out along depth, exactly after a dead layer. Right "
            "(Fig 8.2): against depth, the share of networks that solve the problem, that end "
            "constant, and that were born dead, with the closed form 1 − (3/4)^L."
        ),
        config=Config,
        run=run,
        figure=figure,
        numbers=numbers,
        dims=("depth",),
        quick={"depths": (1, 15), "trials": 8, "steps": 100, "samples": 60},
    )
)


register_claims(
    EXPERIMENT.id,
    [
        Claim(
            "Fig 8.1: a deep narrow ReLU network (C = 2, L = 15) trained on the step problem "
            "dissipates the input: its states stop depending on x and it ends constant",
            "share of the trained 15-layer networks that end constant on [−1, 1] and share that "
            "solve the step; the first layer from which the median L² spread of z_l over "
            "[−1, 1] is exactly 0",
            "reproduced",
            ("constant_L15", "solved_L15", "median_spread_zero_from_layer"),
            lambda n: (
                n["constant_L15"] >= 0.8
                and n["solved_L15"] <= 0.1
                and n["median_spread_zero_from_layer"] < 15
            ),
        ),
        Claim(
            "Fig 8.2: with C = 2 and L = 1 … 15, the deeper the network the fewer trials learn "
            "the step and the more end constant, as more are born dead",
            "shares of 40 trials per depth: solved (accuracy ≥ 0.95) and constant at L = 1 and "
            "15; the largest excess of the share born dead on [−1, 1] over the closed form "
            "1 − (3/4)^L at one point (thesis notes §2), which bounds it up to sampling noise",
            "reproduced",
            (
                "solved_L1",
                "solved_L15",
                "constant_L1",
                "constant_L15",
                "born_dead_L15",
                "born_dead_minus_bound_max",
            ),
            lambda n: (
                n["solved_L1"] >= 0.5
                and n["solved_L15"] <= 0.05
                and n["constant_L1"] <= 0.5
                and n["constant_L15"] >= 0.9
                and n["born_dead_L15"] >= 0.8
                and n["born_dead_minus_bound_max"] < 0.1
            ),
        ),
        Claim(
            "Thm 8.1.3: a born-dead ReLU network, trained by a gradient method, ends as the "
            "constant that minimizes the loss",
            "over all depths, the share of born-dead trials that end constant on [−1, 1] and the "
            "largest distance of their trained output from mean(y), the best constant",
            "confirmed",
            ("born_dead_that_ended_constant", "born_dead_output_minus_mean_y_max"),
            lambda n: (
                n["born_dead_that_ended_constant"] == 1.0
                and n["born_dead_output_minus_mean_y_max"] < 1e-3
            ),
        ),
        Claim(
            "§8.1.2: neurons, and whole networks, can also die during training, not only at "
            "initialization",
            "share of the trials alive at initialization (no all-zero layer on [−1, 1]) that "
            "end constant after training",
            "confirmed",
            ("alive_at_init_that_ended_constant",),
            lambda n: n["alive_at_init_that_ended_constant"] >= 0.1,
        ),
    ],
)
