"""Catalogue entry: initialization and the size of the states along depth (thesis §8.1.3,
Fig 8.3–8.6).

MLPs with 15 ReLU hidden layers of C = 2, 3, 4 neurons, weights and biases uniform on [−γ, γ],
100 trials per γ, all in one ensemble per width. For every layer the L² norm of the state over the
inputs x ∈ [−1, 1], ‖z_l‖ = (∫ |z_l(x)|² dx)^{1/2} (midpoint rule), summarized by its median and
10–90 % band over the trials, against γ (Fig 8.3–8.5). Fig 8.6 compares architectures — MLPs of
several widths and ReLU ResNets z_{l+1} = z_l + ReLU(A_l z_l + b_l) (zero-padded input) — by the
final norm ‖z_L‖ and the share of trials born dead (some state all-zero on [−1, 1]). Narrow MLPs die
for every γ (the share is γ-independent at one point, docs/thesis-notes.md §2, but the share
dead on the whole domain drifts with γ) and explode for large γ;
residual networks keep the identity path and never collapse to zero.
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
from deepdyn.analysis import quadrature_grid
from deepdyn.experiments import (
    Claim,
    Experiment,
    Progress,
    ProgressCounter,
    register,
    register_claims,
)

D = torch.float64
SHOWN_LAYERS = (1, 5, 10, 15)


@dataclass(frozen=True)
class Config:
    widths: tuple[int, ...] = (2, 3, 4)
    depth: int = 15
    gammas: tuple[float, ...] = tuple(float(g) for g in np.round(np.linspace(0.1, 3.0, 15), 4))
    trials: int = 100
    points: int = 256  # midpoint nodes on [−1, 1]
    mlp_widths: tuple[int, ...] = (2, 3, 4, 8, 16)  # Fig 8.6
    resnet_widths: tuple[int, ...] = (2, 4)
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.widths or not self.gammas:
            raise ValueError("widths and gammas need at least one value each")
        for w in (*self.widths, *self.mlp_widths, *self.resnet_widths):
            _checks.integer("width", w)
        _checks.integer("depth", self.depth)
        _checks.integer("trials", self.trials)
        _checks.integer("points", self.points)
        for g in self.gammas:
            _checks.positive("gamma", g)


def _norms(cfg: Config, kind: str, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For (layer, gamma, ensemble): the L² norm of z_l over [−1, 1]; the L² norm of z_l minus its
    mean (0 where z_l is constant up to a relative 1e-10); whether z_l is all-zero on the grid."""
    G, T = len(cfg.gammas), cfg.trials
    scales = [g for g in cfg.gammas for _ in range(T)]
    common = {
        "readout": None,
        "activation": "relu",
        "init": "uniform",
        "scale": scales,
        "ensemble": G * T,
        "seed": cfg.seed,
        "dtype": D,
    }
    if kind == "mlp":
        net: deepdyn.Network = deepdyn.MLP(1, width, cfg.depth, **common)  # type: ignore[arg-type]
    else:
        net = deepdyn.ResNet(1, width, cfg.depth, T=float(cfg.depth), lift="pad", **common)  # type: ignore[arg-type]
    x, w = quadrature_grid((-1.0, 1.0), 1, cfg.points)

    def stats(z: torch.Tensor) -> torch.Tensor:  # z: (ensemble, sample, component)
        dev = z - z.mean(1, keepdim=True)
        hi, lo = z.amax(1), z.amin(1)  # constant up to rounding (the GEMM rounds by position)
        const = (hi - lo - 1e-10 * torch.maximum(hi.abs(), lo.abs()) <= 0).all(-1)
        spread = torch.where(const, 0.0, (dev * dev).sum((1, 2)))
        zero = (z == 0).flatten(1).all(1).to(z.dtype)
        return torch.stack([(z * z).sum((1, 2)) * w, spread * w, zero], -1)  # (ensemble, 3)

    with torch.no_grad():
        v = net.layer_map(x, stats).numpy().reshape(cfg.depth + 1, G, T, 3)
    return np.sqrt(v[..., 0]), np.sqrt(v[..., 1]), v[..., 2] > 0


def run(cfg: Config, progress: Progress | None = None) -> xr.Dataset:
    archs = [("mlp", w) for w in cfg.mlp_widths] + [("resnet", w) for w in cfg.resnet_widths]
    count = ProgressCounter(progress, len(cfg.widths) + len(archs))
    per_width = []
    for w in cfg.widths:
        per_width.append(_norms(cfg, "mlp", w)[0])
        count(f"MLP width {w}")
    final, spread, dead = [], [], []
    for kind, w in archs:
        norm, dev, zero = _norms(cfg, kind, w)
        final.append(norm[-1])  # (gamma, ensemble)
        spread.append(dev[-1])
        dead.append(zero[1:].any(0))  # some hidden state all-zero on [−1, 1]: born dead
        count(f"{kind} width {w}")
    return xr.Dataset(
        {
            "norm": (("width", "layer", "gamma", "ensemble"), np.stack(per_width)),
            "final_norm": (("arch", "gamma", "ensemble"), np.stack(final)),
            "final_spread": (("arch", "gamma", "ensemble"), np.stack(spread)),
            "born_dead": (("arch", "gamma", "ensemble"), np.stack(dead)),
        },
        coords={
            "width": list(cfg.widths),
            "layer": np.arange(cfg.depth + 1),
            "gamma": list(cfg.gammas),
            "arch": [f"{k} C={w}" for k, w in archs],
        },
        attrs={"depth": cfg.depth, "trials": cfg.trials},
    )


def _band(
    ax: plt.Axes,
    x: np.ndarray,
    v: np.ndarray,
    label: str,
    color: object,
    shift: float = 0.0,
    style: str = "-",
) -> None:
    """Median (line and dots) and 10–90 % range (vertical bars) over the last axis of v:
    (x, ensemble). ``shift`` moves the bars sideways (a fraction of the x spacing), so the
    ranges of several curves on one axis sit next to each other instead of on top."""
    lo, med, hi = np.quantile(v, [0.1, 0.5, 0.9], axis=-1)
    step = float(np.min(np.diff(x))) if len(x) > 1 else 1.0
    xs = x + shift * step
    ax.plot(xs, med, style, color=color, lw=1.4)
    ax.errorbar(xs, med, yerr=[med - lo, hi - med], fmt="o", ms=3, color=color, elinewidth=1.1,
                capsize=2, label=label)  # fmt: skip


def _shifts(n: int) -> np.ndarray:
    return np.linspace(-0.3, 0.3, n) if n > 1 else np.zeros(1)


def figure(ds: xr.Dataset) -> Figure:
    W = ds.sizes["width"]
    fig, axes = plt.subplots(2, max(W, 3), figsize=(5 * max(W, 3), 8.4), squeeze=False)
    gamma = ds["gamma"].values
    L = int(ds.attrs["depth"])
    layers = [l for l in SHOWN_LAYERS if l <= L] or [L]
    colors = plt.get_cmap("plasma")(np.linspace(0, 0.85, len(layers)))
    for i, w in enumerate(ds["width"].values):
        ax = axes[0, i]
        for l, c, sh in zip(layers, colors, _shifts(len(layers))):
            _band(ax, gamma, ds["norm"].sel(width=w, layer=l).values, f"layer {l}", c, sh)
        ax.set_yscale("symlog", linthresh=1e-3)
        ax.set_xlabel("γ (uniform[−γ, γ])")
        ax.set_ylabel("‖z_l‖ in L²[-1, 1]")
        ax.set_title(f"Fig 8.{3 + i}: L = {L}, C = {int(w)}, median and 10–90 %", fontsize=10)
        ax.legend(fontsize=8)
    for j in range(W, axes.shape[1]):
        axes[0, j].axis("off")
    ax_med, ax_dead, ax_lay = axes[1, 0], axes[1, 1], axes[1, 2]
    for arch in ds["arch"].values:
        v = ds["final_norm"].sel(arch=arch).values  # (gamma, ensemble)
        dead = ds["born_dead"].sel(arch=arch).values
        style = "--" if str(arch).startswith("resnet") else "-"
        ax_med.plot(gamma, np.median(v, 1), style, marker="o", ms=3, label=str(arch))
        ax_dead.plot(gamma, dead.mean(1), style, marker="o", ms=3, label=str(arch))
    ax_med.set_yscale("symlog", linthresh=1e-3)
    ax_med.set_ylabel(f"median ‖z_{L}‖")
    ax_dead.set_ylabel("share born dead (a state ≡ 0 on [-1, 1])")
    ax_med.set_title("Fig 8.6: effect of initialization across architectures", fontsize=10)
    ax_dead.set_title(
        "born dead on all of [−1, 1]: depends on γ for MLPs\n"
        "(at one point x₀ it would not: thesis notes §2); never for ResNets",
        fontsize=9,
    )
    for ax in (ax_med, ax_dead):
        ax.set_xlabel("γ")
        ax.legend(fontsize=7)
    w0 = ds["width"].values[0]
    shown = gamma[np.linspace(0, len(gamma) - 1, min(4, len(gamma))).astype(int)]
    cg = plt.get_cmap("viridis")(np.linspace(0, 0.85, len(shown)))
    for g, c, sh in zip(shown, cg, _shifts(len(shown))):
        v = ds["norm"].sel(width=w0, gamma=g).values  # (layer, ensemble)
        _band(ax_lay, ds["layer"].values, v, f"γ = {g:.2g}", c, sh)
    ax_lay.set_yscale("symlog", linthresh=1e-3)
    ax_lay.set_xlabel("layer l")
    ax_lay.set_title(f"C = {int(w0)}: the norm along depth", fontsize=10)
    ax_lay.legend(fontsize=8)
    for ax in axes.flat:
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig


def numbers(ds: xr.Dataset) -> dict[str, float]:
    out: dict[str, float] = {}
    L = int(ds.attrs["depth"])
    for w in ds["width"].values:
        last = ds["norm"].sel(width=w, layer=L).values  # (gamma, ensemble)
        out[f"zero_output_share_C{int(w)}"] = float((last == 0).mean())
    for arch in ds["arch"].values:
        v = ds["final_norm"].sel(arch=arch).values
        # numerically constant output: born dead, or the input's trace dissipated below 1e-10
        const = (ds["final_spread"].sel(arch=arch).values == 0).mean(1)  # (gamma,)
        key = str(arch).replace(" C=", "_C")
        dead = ds["born_dead"].sel(arch=arch).values.mean(1)  # (gamma,)
        out[f"constant_share_{key}"] = float(const.mean())
        out[f"born_dead_share_{key}"] = float(dead.mean())
        out[f"born_dead_share_range_{key}"] = float(np.ptp(dead))
        out[f"median_norm_{key}_gamma_max"] = float(np.median(v[-1]))
    return out


EXPERIMENT = register(
    Experiment(
        id="init-norms",
        title="Initialization and the norm of the states along depth",
        reference="§8.1.3, Fig 8.3–8.6; docs/thesis-notes.md §2",
        caption=(
            "Top (Fig 8.3–8.5): the L² norm over x ∈ [-1, 1] of the states of 15-layer ReLU MLPs "
            "with C = 2, 3, 4 neurons, uniform[−γ, γ] weights and biases, 100 trials per γ: median "
            "(dots) and 10–90 % range (bars, set side by side) for a few layers, against γ. "
            "Bottom (Fig 8.6): the final norm and the share of trials born dead (a state "
            "all-zero on [-1, 1]), for MLPs of several widths and ReLU ResNets; the norm along "
            "depth for C = 2 at a few γ."
        ),
        config=Config,
        run=run,
        figure=figure,
        numbers=numbers,
        dims=("arch", "width", "gamma"),
        quick={
            "gammas": (0.2, 1.0, 3.0),
            "trials": 20,
            "points": 64,
            "mlp_widths": (2, 4),
            "resnet_widths": (2,),
        },
    )
)

register_claims(
    EXPERIMENT.id,
    [
        Claim(
            "Fig 8.3–8.5: the L² norm of the states of 15-layer ReLU MLPs against γ",
            "median and 10–90 % range per layer over 100 trials, C = 2, 3, 4",
            "reproduced",
            ("zero_output_share_C2",),
        ),
        Claim(
            "Fig 8.6 / §8.1.3: narrow MLPs are born dead; residual networks keep the identity",
            "share of trials dead on all of [−1, 1]: depends on γ for MLPs (range over γ), "
            "0 for ResNets",
            "corrected",
            ("born_dead_share_range_mlp_C4", "born_dead_share_resnet_C2"),
            lambda n: (
                n["born_dead_share_resnet_C2"] == 0 and n["born_dead_share_range_mlp_C4"] > 0.02
            ),
        ),
    ],
)
