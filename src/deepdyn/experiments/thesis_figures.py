"""Catalogue entry: the thesis' pictures that need no training (Fig 1.1, 3.1, 5.1, 7.1, 7.3,
7.4, 8.7, 8.8, 10.1).

Fig 5.1 is the activation functions of deepdyn (``deepdyn.dynamics.ACTIVATIONS``) on [−3, 3]
with their derivatives (by autograd). Fig 10.1 is the rings of §10.1 alone: 1000 samples,
``deepdyn.data.rings``. The architecture schemes are drawn by ``deepdyn.viz.draw_architecture``
from the NetworkSpec of the architecture each caption describes:

* Fig 1.1 — "a shallow neural network with one hidden layer and input dimension 3";
* Fig 3.1 — "a multilayer perceptron with dimension of the input 2, output dimension 1, a
  constant number of components 4";
* Fig 7.1 — "a multilayer perceptron with dimension of the input 2, dimension of the blocks 2";
* Fig 7.3, 7.4 — their captions repeat Fig 7.1's; they close §7.3, which derives ResNets as the
  first-order difference of an ODE (eq. 7.8) and a second-order architecture from the central
  second difference (eq. 7.9): drawn as those two, the ResNet with steps Δl = 1/L and the
  second-order (leapfrog) network with its second skip;
* Fig 8.7 — "the skip connections in ResNets" (a residual network of 2-layer blocks,
  Def. 8.2.1);
* Fig 8.8 — "a ResNet with dimension of the input 2, dimension of the blocks 2".

Fig 1.2 and 2.1 (diagrams of concepts) are not drawn: they show no computation. Fig 7.2 (a
picture of the coordinate systems and the pullback metric the layers induce) is computed by
the ``layers-geometry`` entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
import xarray as xr
from matplotlib.figure import Figure

from deepdyn import _checks, viz
from deepdyn.data import rings
from deepdyn.dynamics import ACTIVATIONS, NetworkSpec
from deepdyn.experiments import Claim, Experiment, Progress, register, register_claims

D = torch.float64
SCHEMES_SHOWN = {
    "Fig 1.1": NetworkSpec(3, 4, 1, scheme="map", readout="identity"),
    "Fig 3.1": NetworkSpec(2, 4, 3, scheme="map"),
    "Fig 7.1": NetworkSpec(2, 2, 3, scheme="map"),
    "Fig 7.3": NetworkSpec(2, 2, 3, T=1.0),
    "Fig 7.4": NetworkSpec(2, 2, 3, scheme="leapfrog", T=1.0),
    "Fig 8.7": NetworkSpec(2, 2, 3, field="block", q=2),
    "Fig 8.8": NetworkSpec(2, 2, 3),
}


@dataclass(frozen=True)
class Config:
    samples: int = 1000  # Fig 10.1
    points: int = 601  # Fig 5.1's grid on [−3, 3]
    seed: int = 0

    def __post_init__(self) -> None:
        _checks.integer("samples", self.samples, minimum=2)
        _checks.integer("points", self.points, minimum=3)
        _checks.integer("seed", self.seed, minimum=0)


def run(cfg: Config, progress: Progress | None = None) -> xr.Dataset:
    x = torch.linspace(-3.0, 3.0, cfg.points, dtype=D, requires_grad=True)
    names = list(ACTIVATIONS)
    values, slopes = [], []
    for name in names:
        v = ACTIVATIONS[name].fn(x)
        (g,) = torch.autograd.grad(v.sum(), x)
        values.append(v.detach().numpy())
        slopes.append(g.numpy())
    X, y = rings(cfg.samples, seed=cfg.seed, dtype=D)
    return xr.Dataset(
        {
            "activation": (("name", "x"), np.stack(values)),
            "derivative": (("name", "x"), np.stack(slopes)),
            "X": (("sample", "input"), X.numpy()),
            "y": (("sample",), y.numpy()),
        },
        coords={"name": names, "x": x.detach().numpy()},
        attrs={"schemes": json.dumps({k: s.to_dict() for k, s in SCHEMES_SHOWN.items()})},
    )


def figure(ds: xr.Dataset) -> Figure:
    schemes = {k: NetworkSpec.from_dict(v) for k, v in json.loads(ds.attrs["schemes"]).items()}
    fig = plt.figure(figsize=(25, 8.4))
    grid = fig.add_gridspec(2, 5)
    ax = fig.add_subplot(grid[0, 0])
    x = ds["x"].values
    for name in ds["name"].values:
        ax.plot(x, ds["activation"].sel(name=name), label=str(name))
    ax.set_ylim(-1.6, 3.1)
    ax.set_title("Fig 5.1: activation functions σ(x)", fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(True, alpha=0.3)
    ax = fig.add_subplot(grid[1, 0])
    for name in ds["name"].values:
        ax.plot(x, ds["derivative"].sel(name=name), label=str(name))
    ax.set_title("their derivatives σ′(x) (autograd)", fontsize=10)
    ax.set_xlabel("x")
    ax.grid(True, alpha=0.3)
    ax = fig.add_subplot(grid[0, 1])
    X, y = ds["X"].values, ds["y"].values
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", s=5, edgecolors="none")
    ax.set_aspect("equal")
    ax.set_title(f"Fig 10.1: the rings, {len(y)} samples", fontsize=10)
    cells = [grid[1, 1]] + [grid[r, c] for r in (0, 1) for c in (2, 3, 4)]
    for (name, spec), cell in zip(schemes.items(), cells):
        ax = fig.add_subplot(cell)
        s = viz.draw_architecture(ax, spec, title=False)
        ax.set_title(f"{name}: {s.title}", fontsize=9)
    fig.tight_layout()
    return fig


def numbers(ds: xr.Dataset) -> dict[str, float]:
    out = {"rings_samples": float(ds.sizes["sample"]), "rings_share_class_1": float(ds["y"].mean())}
    x = ds["x"].values
    h = x[1] - x[0]
    for name in ds["name"].values:  # the derivative against the value's finite differences
        v, g = ds["activation"].sel(name=name).values, ds["derivative"].sel(name=name).values
        fd = np.gradient(v, h)
        smooth = np.abs(x) > 2 * h  # away from the kinks at 0
        out[f"derivative_vs_differences_{name}"] = float(np.max(np.abs(fd - g)[smooth]))
    return out


EXPERIMENT = register(
    Experiment(
        id="thesis-figures",
        title="The thesis' pictures without training: activations, the rings, schemes",
        reference="Fig 1.1, 3.1, 5.1, 7.1, 7.3, 7.4, 8.7, 8.8, 10.1",
        caption=(
            "Fig 5.1: deepdyn's activation functions and their derivatives. Fig 10.1: the "
            "rings data alone (1000 samples, the disk inside the annulus). The architecture "
            "schemes of Fig 1.1, 3.1, 7.1, 7.3, 7.4, 8.7 and 8.8 (7.3 and 7.4: the first- and "
            "second-order architectures of eq. 7.8–7.9, as their place in §7.3 says), drawn by "
            "deepdyn.viz.draw_architecture from the NetworkSpec each thesis caption describes: "
            "input x (orange), states z_l "
            "(blue), the inner layers of a block (white), layer maps (grey), the lift (green), "
            "skip connections (blue arcs) and the readout to y (red)."
        ),
        config=Config,
        run=run,
        figure=figure,
        numbers=numbers,
        dims=("name",),
        quick={"samples": 200, "points": 121},
    )
)

register_claims(
    EXPERIMENT.id,
    [
        Claim(
            "Fig 5.1: activation functions",
            "σ and σ′ of deepdyn's activations (σ′ by autograd, against finite differences)",
            "reproduced",
            ("derivative_vs_differences_tanh",),
        ),
        Claim(
            "Fig 10.1: the rings, 1000 samples",
            "the data of deepdyn.data.rings",
            "reproduced",
            ("rings_samples", "rings_share_class_1"),
        ),
        Claim(
            "Fig 1.1, 3.1, 7.1, 8.7, 8.8: architecture schemes",
            "drawn from the NetworkSpec each caption describes (viz.draw_architecture)",
            "reproduced",
        ),
        Claim(
            "Fig 7.3, 7.4: schemes closing §7.3 (captions as Fig 7.1's)",
            "drawn as §7.3's first-order (ResNet, eq. 7.8) and second-order (leapfrog, eq. "
            "7.9) architectures with steps Δl = 1/L",
            "reproduced",
        ),
        Claim(
            "Fig 1.2, 2.1: diagrams of concepts (the paradigms of supervised learning; how the "
            "fields meet)",
            "nothing to compute",
            "not checkable",
        ),
    ],
)
