"""Catalogue entry: skip connections keep gradients from vanishing (thesis §8.2, Def. 8.2.1).

Per-layer gradient norms ‖∂loss/∂θ_l‖ (``deepdyn.analysis.gradient_norms``) of tanh networks of
width ``width`` on the rings, at initialization and after ``steps`` Adam steps, for depths
L = 10 … 100, each architecture and depth one ensemble (a member per seed):

* ``mlp``: z_{l+1} = tanh(A_l z_l + b_l), Glorot-uniform weights (the usual tanh init);
* ``resnet``: z_{l+1} = z_l + h tanh(A_l z_l + b_l), h = T/L (thesis eq. 3.21);
* ``block``: z_{l+1} = z_l + h f_l(z_l) with f_l a q-layer perceptron (the q-layer block of
  Def. 8.2.1, q = 2).

The residual step's Jacobian is I + h ∂f, so the product of L of them stays near the identity
and the gradient reaching layer 0 is of the size of the one at layer L − 1; the MLP's Jacobians
diag(tanh′) A_l shrink it by a factor per layer. Measured: the ratio of the first layer's
gradient norm to the last one's, against L. (A residual layer's gradient also carries the factor
h; the ratio does not depend on it.)
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
import xarray as xr
from matplotlib.figure import Figure

from deepdyn import _checks
from deepdyn.analysis import gradient_norms
from deepdyn.data import rings
from deepdyn.dynamics import MLP, Network, ResNet
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
ARCHS = ("mlp", "resnet", "block")


@dataclass(frozen=True)
class Config:
    depths: tuple[int, ...] = (10, 30, 100)
    width: int = 4
    seeds: int = 3
    samples: int = 50
    steps: int = 10
    lr: float = 0.01
    T: float = 1.0
    q: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        _checks.integers("depths", self.depths, item="depth", minimum=2, example="10")
        _checks.integer("width", self.width, minimum=2)
        _checks.integer("seeds", self.seeds)
        _checks.integer("samples", self.samples, minimum=2)
        _checks.integer("steps", self.steps, minimum=0)
        _checks.integer("q", self.q)
        _checks.positive("lr", self.lr)
        _checks.positive("T", self.T)


def network(cfg: Config, arch: str, depth: int) -> Network:
    if arch == "mlp":
        return MLP(2, cfg.width, depth, activation="tanh", init="glorot", ensemble=cfg.seeds,
                   seed=cfg.seed, dtype=D)  # fmt: skip
    field = {"resnet": "perceptron", "block": "block"}[arch]
    return ResNet(2, cfg.width, depth, T=cfg.T, lift="pad", field=field, q=cfg.q,
                  activation="tanh", init="glorot", ensemble=cfg.seeds, seed=cfg.seed,
                  dtype=D)  # fmt: skip


def run(cfg: Config, progress: Progress | None = None) -> xr.Dataset:
    X, y = rings(cfg.samples, seed=cfg.seed + 5, dtype=D)
    Lmax = max(cfg.depths)
    shape = (2, len(ARCHS), len(cfg.depths), Lmax, cfg.seeds)
    norms = np.full(shape, np.nan)  # (stage, arch, depth, layer, ensemble), nan past the depth
    count = ProgressCounter(progress, len(ARCHS) * len(cfg.depths))
    for a, arch in enumerate(ARCHS):
        for d, L in enumerate(cfg.depths):
            net = network(cfg, arch, L)
            norms[0, a, d, :L] = gradient_norms(net, X, y).numpy()
            if cfg.steps:
                fit(net, X, y, optimizer="adam", lr=cfg.lr, steps=cfg.steps)
            norms[1, a, d, :L] = gradient_norms(net, X, y).numpy()
            count(f"{arch} L = {L}")
    return xr.Dataset(
        {"gradient_norm": (("stage", "arch", "depth", "layer", "ensemble"), norms)},
        coords={
            "stage": ["initialization", f"after {cfg.steps} Adam steps"],
            "arch": list(ARCHS),
            "depth": list(cfg.depths),
            "layer": np.arange(Lmax),
        },
        attrs={"width": cfg.width, "T": cfg.T, "q": cfg.q},
    )


def ratio(ds: xr.Dataset) -> xr.DataArray:
    """(stage, arch, depth, ensemble): ‖∂loss/∂θ_0‖ / ‖∂loss/∂θ_{L−1}‖."""
    g = ds["gradient_norm"]
    rows = []
    for L in ds["depth"].values:
        gl = g.sel(depth=L)
        rows.append(gl.isel(layer=0) / gl.isel(layer=int(L) - 1))
    return xr.concat(rows, dim="depth")


_COLORS = {"mlp": "tab:red", "resnet": "tab:blue", "block": "tab:green"}


def figure(ds: xr.Dataset) -> Figure:
    depths = ds["depth"].values
    n = len(depths)
    fig, axes = plt.subplots(1, n + 1, figsize=(4.3 * (n + 1), 4.2), squeeze=False)
    for ax, L in zip(axes[0], depths):
        for arch in ds["arch"].values:
            for s, style in zip(ds["stage"].values, ("-", "--")):
                v = ds["gradient_norm"].sel(arch=arch, depth=L, stage=s).values[: int(L)]
                med = np.median(v, axis=1)
                ax.semilogy(np.arange(int(L)), np.maximum(med, 1e-300), style,
                            color=_COLORS[str(arch)],
                            label=f"{arch}, {'init' if style == '-' else 'trained'}")  # fmt: skip
        ax.set_xlabel("layer l")
        ax.set_title(f"L = {int(L)}: median over {ds.sizes['ensemble']} seeds", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
    axes[0, 0].set_ylabel("‖∂loss/∂θ_l‖")
    axes[0, 0].legend(fontsize=7)
    ax = axes[0, -1]
    r = ratio(ds)
    for arch in ds["arch"].values:
        for s, style in zip(ds["stage"].values, ("o-", "s--")):
            v = r.sel(arch=arch, stage=s).median("ensemble").values
            ax.loglog(depths, np.maximum(v, 1e-300), style, color=_COLORS[str(arch)],
                      label=f"{arch}, {'init' if style == 'o-' else 'trained'}")  # fmt: skip
    ax.axhline(1.0, color="k", lw=0.6)
    ax.set_xticks(depths, [str(int(L)) for L in depths])
    ax.minorticks_off()
    ax.set_xlabel("depth L")
    ax.set_ylabel("‖∂loss/∂θ_0‖ / ‖∂loss/∂θ_{L−1}‖")
    ax.set_title("first layer against last: vanishing = ≪ 1", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def numbers(ds: xr.Dataset) -> dict[str, float]:
    r = ratio(ds).median("ensemble")
    out: dict[str, float] = {}
    for arch in ds["arch"].values:
        for L in ds["depth"].values:
            out[f"first_over_last_gradient_{arch}_L{int(L)}_init"] = float(
                r.sel(arch=arch, depth=L).isel(stage=0)
            )
        L = ds["depth"].values[-1]
        out[f"first_over_last_gradient_{arch}_L{int(L)}_trained"] = float(
            r.sel(arch=arch, depth=L).isel(stage=1)
        )
        first = ds["gradient_norm"].sel(arch=arch).isel(stage=0, layer=0).median("ensemble")
        for L in (ds["depth"].values[0], ds["depth"].values[-1]):
            out[f"first_layer_gradient_{arch}_L{int(L)}_init"] = float(first.sel(depth=L))
    return out


EXPERIMENT = register(
    Experiment(
        id="skip-gradients",
        title="Skip connections and vanishing gradients",
        reference="§8.2, Def. 8.2.1",
        caption=(
            "Per-layer gradient norms ‖∂loss/∂θ_l‖ of tanh networks of width 4 on 50 rings "
            "points (median over 3 seeds, one ensemble per architecture and depth): Glorot "
            "MLPs, ResNets z + h tanh(Az + b) with h = 1/L, and residual networks of q = 2-layer "
            "blocks (Def. 8.2.1); solid at initialization, dashed after 10 Adam steps. Right: "
            "the first layer's gradient over the last one's against the depth. With skip "
            "connections the first layer's gradient stays of the order of the last one's, at "
            "initialization and after training, at every depth (the thesis' claim of §8.2). "
            "The Glorot MLPs are not vanishing *along* depth at initialization (ratio ≈ 5) but "
            "as a whole: all their layers' gradients shrink with L (1e-2 at L = 10, 1e-6 at "
            "L = 100), and after training the first layer's is 1e-11 of the last one's."
        ),
        config=Config,
        run=run,
        figure=figure,
        numbers=numbers,
        dims=("stage", "arch", "depth"),
        quick={"depths": (5, 20), "seeds": 2, "samples": 20, "steps": 3},
    )
)

register_claims(
    EXPERIMENT.id,
    [
        Claim(
            "Def 8.2.1, §8.2: skip connections (z_l reads z_(l−q) directly) keep gradients "
            "from vanishing in deep networks",
            "first layer's gradient over the last one's, ResNets (q = 1) and q = 2 block "
            "ResNets, deepest L, after training",
            "confirmed",
            (
                "first_over_last_gradient_resnet_L100_trained",
                "first_over_last_gradient_block_L100_trained",
            ),
            lambda n: 0.3 < n["first_over_last_gradient_resnet_L100_trained"] < 3,
        ),
        Claim(
            "§8.1–8.2: gradients vanish along the depth of MLPs",
            "at Glorot init the MLP's first/last ratio is ≈ 5 (no vanishing along depth) but "
            "all layers shrink with L; after training the ratio collapses",
            "corrected",
            (
                "first_over_last_gradient_mlp_L100_init",
                "first_over_last_gradient_mlp_L100_trained",
                "first_layer_gradient_mlp_L10_init",
                "first_layer_gradient_mlp_L100_init",
            ),
            lambda n: n["first_over_last_gradient_mlp_L100_trained"] < 1e-2,
        ),
    ],
)
