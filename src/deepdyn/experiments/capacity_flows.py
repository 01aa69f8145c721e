"""Catalogue entry: §6's positive approximation results, measured (Prop. 6.2.1, Thm 6.2.1,
Thm 6.1.3).

* **Prop. 6.2.1** — one-dimensional ReLU flows approximate any increasing function. Target
  g(x) = x + 0.4 sin(2.5x) (g′ = 1 + cos(2.5x) ≥ 0) on [−1, 1], no readout; the error against
  the depth L (horizon T fixed, h = T/L), for two fields: the perceptron z + h ReLU(az + b),
  whose steps only move points up (ReLU ≥ 0), so its flows satisfy z_L(x) ≥ x and cannot fit
  the part of g below the diagonal — the statement is false for it; and the bottleneck
  z + h W ReLU(Az + b) (2 hidden units, eq. 5.5), whose outer weight gives the step a sign.
* **Thm 6.2.1** (Li, Lin & Shen) — in dimension n ≥ 2, flows followed by a linear readout
  approximate continuous maps. Target F(x) = (x₁x₂, x₁² − x₂²) on [−1, 1]² (not injective:
  F(x) = F(−x)), tanh ResNets of width 2 (no augmentation) and 4 (two zero-padded dimensions),
  affine readout; the error against L.
* **Thm 6.1.3** (Hanin; Hanin & Sellke) — deep ReLU nets of width d + 3 approximate continuous
  functions on compacts (width d + 1 already suffices, Hanin & Sellke 2017; width ≤ d does not:
  such nets have unbounded level sets, Lu et al. 2017). Target the bump exp(−4‖x‖²) on
  [−1, 1]², d = 2; MLPs of width d, d + 1 and d + 3, the error against L.

All depths of one architecture train as one ensemble: a member of depth L < L_max has steps
h = T/L on its first L layers and h = 1e-300 on the others, identities to within 1e-290, so it
is the network of depth L (``deepdyn`` requires h > 0). MLP depths cannot be padded that way
and train one ensemble (of seeds) per depth and width. Errors are mean squared errors on a
test grid, medians over seeds; Adam, full batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
import xarray as xr
from matplotlib.figure import Figure

from deepdyn import _checks
from deepdyn.dynamics import MLP, ResNet
from deepdyn.experiments import (
    Claim,
    Experiment,
    Progress,
    ProgressCounter,
    register,
    register_claims,
)
from deepdyn.train import compute_loss, fit

D = torch.float64
TINY = 1e-300


@dataclass(frozen=True)
class Config:
    depths: tuple[int, ...] = (1, 2, 4, 8)
    mlp_depths: tuple[int, ...] = (4,)
    seeds: int = 2
    samples: int = 100  # points in 1-D; in 2-D a grid of about as many
    steps: int = 250
    lr: float = 0.02
    T: float = 2.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.depths or not self.mlp_depths:
            raise ValueError("depths and mlp_depths need at least one value each")
        for L in (*self.depths, *self.mlp_depths):
            _checks.integer("depth", L)
        _checks.integer("seeds", self.seeds)
        _checks.integer("samples", self.samples, minimum=4)
        _checks.integer("steps", self.steps)
        _checks.positive("lr", self.lr)
        _checks.positive("T", self.T)


def increasing_target(x: torch.Tensor) -> torch.Tensor:
    return x + 0.4 * torch.sin(2.5 * x)


def map_target(X: torch.Tensor) -> torch.Tensor:
    return torch.stack([X[:, 0] * X[:, 1], X[:, 0] ** 2 - X[:, 1] ** 2], 1)


def bump_target(X: torch.Tensor) -> torch.Tensor:
    return torch.exp(-4 * (X**2).sum(1, keepdim=True))


def _grid2(n: int) -> torch.Tensor:
    k = max(round(n**0.5), 2)
    a = torch.linspace(-1, 1, k, dtype=D)
    A, B = torch.meshgrid(a, a, indexing="ij")
    return torch.stack([A.ravel(), B.ravel()], 1)


def _steps(cfg: Config) -> list[list[float]]:
    """h per layer, one row per (depth, seed) member: T/L on the first L layers, TINY after."""
    Lmax = max(cfg.depths)
    return [[cfg.T / L if i < L else TINY for i in range(Lmax)]
            for L in cfg.depths for _ in range(cfg.seeds)]  # fmt: skip


def _flow_errors(  # type: ignore[no-untyped-def]
    cfg: Config, width: int, d: int, X, Y, Xt, Yt, act: str, readout, field: str = "perceptron"
) -> np.ndarray:
    E = len(cfg.depths) * cfg.seeds
    net = ResNet(d, width, max(cfg.depths), h=_steps(cfg), activation=act, readout=readout,
                 out_features=Y.shape[1], ensemble=E, seed=cfg.seed, dtype=D, field=field,
                 hidden=2 if field == "bottleneck" else None)  # fmt: skip
    fit(net, X, Y, optimizer="adam", lr=cfg.lr, steps=cfg.steps, loss="mse")
    with torch.no_grad():
        err = compute_loss(net, Xt, Yt, loss="mse").numpy()
    return err.reshape(len(cfg.depths), cfg.seeds)


def run(cfg: Config, progress: Progress | None = None) -> xr.Dataset:
    count = ProgressCounter(progress, 3 + len(cfg.mlp_depths))
    # Prop. 6.2.1: 1-D ReLU flows, no readout
    x = torch.linspace(-1, 1, cfg.samples, dtype=D)[:, None]
    xt = torch.linspace(-1, 1, 4 * cfg.samples + 1, dtype=D)[:, None]
    gx, gt = increasing_target(x), increasing_target(xt)
    inc = np.stack([
        _flow_errors(cfg, 1, 1, x, gx, xt, gt, "relu", None),
        _flow_errors(cfg, 1, 1, x, gx, xt, gt, "relu", None, field="bottleneck"),
    ])  # fmt: skip
    above = float(((torch.clamp(gt - xt, max=0.0)) ** 2).mean())  # g below the diagonal
    count("1-D ReLU flows")
    # Thm 6.2.1: 2-D flows, affine readout, with and without augmentation
    X, Xt = _grid2(cfg.samples), _grid2(4 * cfg.samples)
    Y, Yt = map_target(X), map_target(Xt)
    maps = []
    for width in (2, 4):
        maps.append(_flow_errors(cfg, width, 2, X, Y, Xt, Yt, "tanh", "identity"))
        count(f"2-D flows, width {width}")
    # Thm 6.1.3: ReLU MLPs of width d, d + 1, d + 3 on the bump
    B, Bt = bump_target(X), bump_target(Xt)
    widths = (2, 3, 5)
    mlp = np.zeros((len(widths), len(cfg.mlp_depths), cfg.seeds))
    for j, L in enumerate(cfg.mlp_depths):
        for i, w in enumerate(widths):
            net = MLP(2, w, L, activation="relu", init="he", readout="identity",
                      ensemble=cfg.seeds, seed=cfg.seed, dtype=D)  # fmt: skip
            fit(net, X, B, optimizer="adam", lr=cfg.lr, steps=cfg.steps, loss="mse")
            with torch.no_grad():
                mlp[i, j] = compute_loss(net, Xt, Bt, loss="mse").numpy()
        count(f"ReLU MLPs, depth {L}")
    return xr.Dataset(
        {
            "increasing_error": (("field", "depth", "ensemble"), inc),
            "below_diagonal_bound": ((), above),
            "map_error": (("augmentation", "depth", "ensemble"), np.stack(maps)),
            "bump_error": (("mlp_width", "mlp_depth", "ensemble"), mlp),
            "bump_variance": ((), float(Bt.var(unbiased=False))),
            "map_variance": ((), float(Yt.var(0, unbiased=False).mean())),
        },
        coords={
            "depth": list(cfg.depths),
            "field": ["perceptron z + h ReLU(az + b)", "bottleneck z + h W ReLU(Az + b)"],
            "augmentation": ["width 2 (none)", "width 4 (2 padded)"],
            "mlp_width": list(widths),
            "mlp_depth": list(cfg.mlp_depths),
        },
        attrs={"T": cfg.T},
    )


def figure(ds: xr.Dataset) -> Figure:
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
    L = ds["depth"].values
    ax = axes[0]
    for f, c in zip(ds["field"].values, ("tab:red", "tab:blue")):
        v = ds["increasing_error"].sel(field=f).values
        ax.loglog(L, np.median(v, 1), "o-", color=c, label=str(f))
        ax.loglog(np.repeat(L, v.shape[1]), v.ravel(), ".", alpha=0.4, color=c)
    ax.axhline(float(ds["below_diagonal_bound"]), color="tab:red", ls=":", lw=1,
               label="mean (g − x)² where g < x")  # fmt: skip
    ax.set_title("Prop. 6.2.1: 1-D ReLU flows on x + 0.4 sin 2.5x", fontsize=10)
    ax.set_ylabel("test MSE")
    ax = axes[1]
    for a in ds["augmentation"].values:
        ax.loglog(L, ds["map_error"].sel(augmentation=a).median("ensemble"), "o-", label=str(a))
    ax.axhline(float(ds["map_variance"]), color="gray", ls=":", label="variance of the target")
    ax.set_title("Thm 6.2.1: 2-D tanh flows + affine readout, F = (x₁x₂, x₁² − x₂²)",
                 fontsize=10)  # fmt: skip
    for ax in axes[:2]:
        ax.set_xticks(L, [str(int(n)) for n in L])
        ax.minorticks_off()
        ax.set_xlabel(f"depth L (T = {ds.attrs['T']:g}, h = T/L)")
    ax = axes[2]
    Lm = ds["mlp_depth"].values
    for w, label in zip(ds["mlp_width"].values, ("d", "d + 1", "d + 3")):
        ax.semilogy(Lm, ds["bump_error"].sel(mlp_width=w).median("ensemble"), "o-",
                    label=f"width {int(w)} = {label}")  # fmt: skip
    ax.axhline(float(ds["bump_variance"]), color="gray", ls=":", label="variance of the target")
    ax.set_xticks(Lm, [str(int(n)) for n in Lm])
    ax.set_xlabel("depth L (hidden layers)")
    ax.set_title("Thm 6.1.3: ReLU MLPs on exp(−4‖x‖²), d = 2", fontsize=10)
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def numbers(ds: xr.Dataset) -> dict[str, float]:
    inc = ds["increasing_error"].median("ensemble").values  # (field, depth)
    maps = ds["map_error"].median("ensemble").values
    bump = ds["bump_error"].median("ensemble").values  # (width, depth)
    L0, L1 = int(ds["depth"].values[0]), int(ds["depth"].values[-1])
    return {
        f"increasing_perceptron_flow_mse_L{L1}": float(inc[0, -1]),
        "increasing_perceptron_below_diagonal_bound": float(ds["below_diagonal_bound"]),
        f"increasing_bottleneck_flow_mse_L{L0}": float(inc[1, 0]),
        f"increasing_bottleneck_flow_mse_L{L1}": float(inc[1, -1]),
        f"map_mse_width2_L{L1}": float(maps[0, -1]),
        f"map_mse_width4_L{L1}": float(maps[1, -1]),
        f"map_mse_width4_L{L0}": float(maps[1, 0]),
        "map_target_variance": float(ds["map_variance"]),
        "bump_mse_width_d_best": float(bump[0].min()),
        "bump_mse_width_d_plus_1_best": float(bump[1].min()),
        "bump_mse_width_d_plus_3_best": float(bump[2].min()),
        "bump_target_variance": float(ds["bump_variance"]),
    }


EXPERIMENT = register(
    Experiment(
        id="capacity-flows",
        title="What flows and deep narrow nets approximate (§6's positive results)",
        reference="§6.2 Prop. 6.2.1, Thm 6.2.1; §6.1 Thm 6.1.3",
        caption=(
            "Left (Prop. 6.2.1): 1-D ReLU flows without readout fitting the increasing "
            "x + 0.4 sin 2.5x on [−1, 1]: test MSE against the depth at a fixed horizon (dots: "
            "seeds). With the perceptron field every step moves points up (ReLU ≥ 0), so the "
            "flow stays above the diagonal and cannot go below the dotted bound: the "
            "proposition needs a field with an outer weight (bottleneck), which converges. "
            "Middle (Thm 6.2.1): tanh flows in the plane with an affine readout fitting "
            "the non-injective map (x₁x₂, x₁² − x₂²), without augmentation (width 2) and with "
            "two zero-padded dimensions (width 4). Right (Thm 6.1.3): deep ReLU MLPs of width "
            "d = 2, d + 1 and d + 3 on the bump exp(−4‖x‖²): width ≤ d cannot make a bounded "
            "level set and stays near the target's variance; wider ones go below it. Depths of "
            "one flow architecture train as one ensemble (unused layers have h = 1e-300)."
        ),
        config=Config,
        run=run,
        figure=figure,
        numbers=numbers,
        dims=("field", "depth", "augmentation", "mlp_width", "mlp_depth"),
        quick={"depths": (1, 4), "mlp_depths": (3,), "seeds": 1, "samples": 25, "steps": 60},
    )
)

register_claims(
    EXPERIMENT.id,
    [
        Claim(
            "Prop. 6.2.1: 1-D ReLU flows approximate any increasing function",
            "test MSE at the deepest L: the perceptron field z + h ReLU(az + b) stays above the "
            "bound mean (g − x)² where g < x (its flows never move points down); the bottleneck "
            "field converges",
            "corrected",
            (
                "increasing_perceptron_flow_mse_L8",
                "increasing_perceptron_below_diagonal_bound",
                "increasing_bottleneck_flow_mse_L8",
            ),
            lambda n: (
                n["increasing_bottleneck_flow_mse_L8"]
                < 0.5 * n["increasing_perceptron_below_diagonal_bound"]
            ),
        ),
        Claim(
            "Thm 6.2.1 (Li, Lin & Shen): flows in dimension n ≥ 2 with a linear readout "
            "approximate continuous maps",
            "test MSE on the non-injective (x₁x₂, x₁² − x₂²): width 4 (augmented) far below the "
            "variance; width 2 well above width 4 at the same depth and training",
            "confirmed",
            ("map_mse_width4_L8", "map_mse_width2_L8", "map_target_variance"),
            lambda n: n["map_mse_width4_L8"] < 0.1 * n["map_target_variance"],
        ),
        Claim(
            "Thm 6.1.3 (Hanin): deep ReLU nets of width d + 3 approximate continuous functions",
            "test MSE on a bump, d = 2: width d stays at the variance, width d + 3 goes below; "
            "width d + 1 (enough in theory, Hanin & Sellke) did not train at depth 4",
            "confirmed",
            (
                "bump_mse_width_d_best",
                "bump_mse_width_d_plus_1_best",
                "bump_mse_width_d_plus_3_best",
                "bump_target_variance",
            ),
            lambda n: n["bump_mse_width_d_plus_3_best"] < 0.3 * n["bump_target_variance"],
        ),
    ],
)
