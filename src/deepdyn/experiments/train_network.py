"""Catalogue entry ``train``: train one network on one data set — the unit of most sweeps.

Any builder (``mlp``, ``resnet``), width, depth, activation, initializer and scale, optimizer and
learning rate, on any data set of ``deepdyn.data``. Classification (integer labels) uses a
sigmoid (2 classes) or softmax readout and cross-entropy; regression an identity readout and MSE.

It declares ``batch_fields = ("seed", "scale")``: a sweep over seeds and init scales runs as one
ensemble per remaining config (thesis §8: "100 trials" become one batched computation), under
``batch_invariant()`` so that every member is bit-identical to its run alone. Optimizers that
couple members (``lbfgs``, ``newton``) run member by member.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
import xarray as xr
from matplotlib.figure import Figure

from deepdyn import _checks, data
from deepdyn.dynamics import ACTIVATIONS, INITIALIZERS, MLP, ResNet, batch_invariant
from deepdyn.dynamics.network import Network
from deepdyn.experiments import Experiment, Progress, register
from deepdyn.train import fit
from deepdyn.train._fit import OPTIMIZER_NAMES

ARCHITECTURES = ("mlp", "resnet")
DTYPES = {"float32": torch.float32, "float64": torch.float64}
COUPLED = ("lbfgs", "newton")  # one optimizer state across members: no batching
_GRID = 201  # points of the prediction curve (1-D inputs)
_MESH = 61  # points per side of the prediction map (2-D inputs)


@dataclass(frozen=True)
class Config:
    data: str = "step"
    samples: int = 100
    test_samples: int = 500
    data_seed: int = 0
    architecture: str = "mlp"
    width: int = 3
    depth: int = 15
    activation: str = "tanh"
    init: str = "uniform"
    scale: float = 1.0
    optimizer: str = "adam"
    lr: float = 0.01
    steps: int = 200
    seed: int = 0
    dtype: str = "float64"

    def __post_init__(self) -> None:
        _checks.choice("data", self.data, data.DATASETS)
        _checks.integer("samples", self.samples, minimum=2)
        _checks.integer("test_samples", self.test_samples)
        _checks.choice("architecture", self.architecture, ARCHITECTURES)
        _checks.integer("width", self.width)
        _checks.integer("depth", self.depth)
        _checks.choice("activation", self.activation, ACTIVATIONS)
        _checks.choice("init", self.init, INITIALIZERS)
        _checks.positive("scale", self.scale, allow_zero=True)
        _checks.choice("optimizer", self.optimizer, OPTIMIZER_NAMES)
        _checks.positive("lr", self.lr)
        _checks.integer("steps", self.steps)
        _checks.choice("dtype", self.dtype, DTYPES)


def _data(cfg: Config) -> tuple[torch.Tensor, ...]:
    dtype = DTYPES[cfg.dtype]
    X, y = data.load(cfg.data, n=cfg.samples, seed=cfg.data_seed, dtype=dtype)
    Xt, yt = data.load(cfg.data, n=cfg.test_samples, seed=cfg.data_seed + 1, dtype=dtype)
    return X, y, Xt, yt


def _network(cfg: Config, d: int, k: int, classes: int, members: Sequence[Config]) -> Network:
    readout = "identity" if classes == 0 else ("sigmoid" if classes == 2 else "softmax")
    common = dict(
        activation=cfg.activation,
        readout=readout,
        init=cfg.init,
        scale=[c.scale for c in members],
        ensemble=len(members),
        seed=[c.seed for c in members],
        dtype=DTYPES[cfg.dtype],
    )
    if cfg.architecture == "mlp":
        return MLP(d, cfg.width, cfg.depth, k, **common)  # type: ignore[arg-type]
    return ResNet(d, cfg.width, cfg.depth, k, **common)  # type: ignore[arg-type]


def _probe(X: torch.Tensor) -> tuple[dict[str, tuple[str, np.ndarray]], torch.Tensor | None]:
    """Coordinates and points where the prediction is stored: a line (1-D), a mesh (2-D)."""
    lo, hi = float(X.min()), float(X.max())
    pad = 0.1 * (hi - lo)
    if X.shape[1] == 1:
        x = torch.linspace(lo - pad, hi + pad, _GRID, dtype=X.dtype)
        return {"x": ("x", x.numpy())}, x.unsqueeze(1)
    if X.shape[1] == 2:
        a = torch.linspace(float(X[:, 0].min()) - pad, float(X[:, 0].max()) + pad, _MESH)
        b = torch.linspace(float(X[:, 1].min()) - pad, float(X[:, 1].max()) + pad, _MESH)
        A, B = torch.meshgrid(a, b, indexing="xy")
        points = torch.stack([A.reshape(-1), B.reshape(-1)], 1).to(X.dtype)
        return {"x": ("x", a.numpy()), "y": ("y", b.numpy())}, points
    return {}, None


def _score(net: Network, X: torch.Tensor, y: torch.Tensor, classes: int) -> torch.Tensor:
    """(ensemble,) accuracy (classification) or mean squared error (regression)."""
    out = net(X)
    if out.dim() == 2:
        out = out.unsqueeze(0)
    if classes == 0:
        return ((out - y.reshape(1, len(y), -1)) ** 2).mean(dim=(1, 2))
    labels = (out[..., 0] > 0.5).long() if classes == 2 else out.argmax(-1)
    return (labels == y.reshape(1, -1)).to(out.dtype).mean(dim=1)


def batch(configs: Sequence[Config], progress: Progress | None) -> list[xr.Dataset]:
    """Train ``configs`` (equal but for seed and scale) as one ensemble; one dataset each."""
    cfg = configs[0]
    if cfg.optimizer in COUPLED and len(configs) > 1:
        return [ds for c in configs for ds in batch([c], progress)]
    with batch_invariant():
        X, y, Xt, yt = _data(cfg)
        classes = 0 if y.is_floating_point() else int(max(int(y.max()), int(yt.max())) + 1)
        k = y.shape[1] if classes == 0 and y.dim() == 2 else (1 if classes <= 2 else classes)
        net = _network(cfg, X.shape[1], k, classes, configs)
        history = fit(
            net, X, y, optimizer=cfg.optimizer, lr=cfg.lr, steps=cfg.steps,
            X_test=Xt, y_test=yt, progress=progress,
        )  # fmt: skip
        with torch.no_grad():
            train_score = _score(net, X, y, classes)
            test_score = _score(net, Xt, yt, classes)
            coords, points = _probe(X)
            pred = None
            if points is not None:
                p = net(points)
                p = (p if p.dim() == 3 else p.unsqueeze(0))[..., 0]  # (ensemble, point)
                pred = p.reshape(len(configs), *[len(v[1]) for v in reversed(coords.values())])
    loss = history.loss.reshape(cfg.steps, -1)
    test_loss = history.test_loss.reshape(cfg.steps, -1) if history.test_loss is not None else None
    score = "accuracy" if classes else "mse"
    datasets = []
    for m, c in enumerate(configs):
        variables: dict[str, tuple[tuple[str, ...], np.ndarray]] = {
            "loss": (("step",), loss[:, m].numpy()),
            "data_x": (("sample", "input"), X.numpy()),
            "data_y": (("sample",), y.reshape(len(y), -1)[:, 0].to(X.dtype).numpy()),
        }
        if test_loss is not None:
            variables["test_loss"] = (("step",), test_loss[:, m].numpy())
        if pred is not None:
            dims = ("x",) if pred.dim() == 2 else ("y", "x")
            variables["prediction"] = (dims, pred[m].numpy())
        attrs = {
            "classes": classes,
            "score": score,
            f"train_{score}": float(train_score[m]),
            f"test_{score}": float(test_score[m]),
            "seed": c.seed,
            "scale": c.scale,
        }
        ds = xr.Dataset(
            variables,  # type: ignore[arg-type]
            coords={"step": np.arange(cfg.steps), **coords},
            attrs=attrs,
        )
        datasets.append(ds)
    return datasets


def run(cfg: Config, progress: Progress | None) -> xr.Dataset:
    return batch([cfg], progress)[0]


def figure(ds: xr.Dataset) -> Figure:
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
    left.semilogy(ds["step"], ds["loss"], label="train")
    if "test_loss" in ds:
        left.semilogy(ds["step"], ds["test_loss"], label="test", alpha=0.8)
    left.set(xlabel="step τ", ylabel="loss", title="loss")
    left.legend()
    X, y = ds["data_x"].values, ds["data_y"].values
    if "prediction" in ds and ds["prediction"].dims == ("x",):
        right.plot(ds["x"], ds["prediction"], color="C3", label="network")
        right.scatter(X[:, 0], y, s=8, color="k", alpha=0.5, label="data")
        right.set(xlabel="x", ylabel="output")
        right.legend()
    elif "prediction" in ds:
        mesh = right.contourf(ds["x"], ds["y"], ds["prediction"], levels=20, cmap="RdBu_r")
        fig.colorbar(mesh, ax=right)
        right.scatter(X[:, 0], X[:, 1], c=y, s=6, cmap="RdBu_r", edgecolors="k", linewidths=0.2)
        right.set(xlabel="x₁", ylabel="x₂")
    else:
        right.set_axis_off()
    score = ds.attrs["score"]
    right.set_title(f"test {score} {ds.attrs[f'test_{score}']:.3g}")
    return fig


def numbers(ds: xr.Dataset) -> dict[str, float]:
    score = ds.attrs["score"]
    out = {"final_loss": float(ds["loss"][-1])}
    if "test_loss" in ds:
        out["test_loss"] = float(ds["test_loss"][-1])
    out[f"train_{score}"] = float(ds.attrs[f"train_{score}"])
    out[f"test_{score}"] = float(ds.attrs[f"test_{score}"])
    return out


EXPERIMENT = register(
    Experiment(
        id="train",
        title="Train one network (the unit of sweeps)",
        reference="§8, App. C",
        caption=(
            "Loss per training step and the trained network's output over the data; by default "
            "a width-3, depth-15 tanh MLP on the step data (thesis §8.1.2), trained by Adam."
        ),
        config=Config,
        run=run,
        figure=figure,
        numbers=numbers,
        quick={"steps": 30, "depth": 6, "samples": 60, "test_samples": 100},
        batch=batch,
        batch_fields=("seed", "scale"),
    )
)
