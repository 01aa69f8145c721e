"""Catalogue entry ``train``: train one network on one data set — the unit of most sweeps.

Every field of a :class:`deepdyn.NetworkSpec` (scheme, width, depth, field, activation, T or
per-layer steps h, lift, readout, initializer and scale, ODE options) and every training knob
(optimizer, learning rate, steps, batch size, regularizer) is a config field, on any data set
of ``deepdyn.data``. ``architecture`` is a shorthand for a scheme (mlp → map, resnet → euler,
second_order → leapfrog, ode → ode); ``auto`` takes the scheme's. Classification (integer
labels) uses a sigmoid (2 classes) or softmax readout and cross-entropy; regression an identity
readout and MSE.

It declares ``batch_fields = ("seed", "scale", "T", "h")``: a sweep over seeds, init scales and
step sizes runs as one ensemble per remaining config (thesis §8: "100 trials" become one
batched computation; members may have their own T or h_l), under ``batch_invariant()`` so that
every member is bit-identical to its run alone. Optimizers that couple members (``lbfgs``,
``newton``) run member by member, and ``ode`` members with different horizons one by one. The
learning rate is not a batch field: one optimizer steps all members with one rate. Every run
keeps its trained network (spec and θ) in its folder (``Store.network``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
import xarray as xr
from matplotlib.figure import Figure

from deepdyn import _checks, data
from deepdyn.dynamics import (
    ACTIVATIONS,
    BIAS_INITIALIZERS,
    DTYPES,
    FIELDS,
    INITIALIZERS,
    LIFTS,
    READOUT_MAPS,
    SCHEMES,
    SOLVERS,
    TERMINALS,
    Network,
    NetworkSpec,
    ODEOptions,
    batch_invariant,
    build,
)
from deepdyn.experiments import Claim, Experiment, Progress, register, register_claims
from deepdyn.runs import keep_networks
from deepdyn.train import OPTIMIZERS, accuracy, fit

ARCHITECTURES = {"mlp": "map", "resnet": "euler", "second_order": "leapfrog", "ode": "ode"}
COUPLED = ("lbfgs", "newton")  # one optimizer state across members: no batching
_GRID = 201  # points of the prediction curve (1-D inputs)
_MESH = 61  # points per side of the prediction map (2-D inputs)


@dataclass(frozen=True)
class Config:
    data: str = "step"
    samples: int = 100
    test_samples: int = 500
    data_seed: int = 0
    architecture: str = "auto"
    scheme: str = "auto"
    width: int = 3
    depth: int = 15
    field: str = "perceptron"
    hidden: int = 0
    q: int = 2
    activation: str = "tanh"
    T: float = 1.0
    h: tuple[float, ...] = ()
    lift: str = "auto"
    readout: str = "auto"
    readout_map: str = "affine"
    init: str = "uniform"
    scale: float = 1.0
    bias_init: str = "auto"
    solver: str = "dopri5"
    rtol: float = 1e-6
    atol: float = 1e-8
    adjoint: bool = False
    step_size: float = 0.0
    optimizer: str = "adam"
    lr: float = 0.01
    steps: int = 200
    batch_size: int = 0
    regularizer: float = 0.0
    seed: int = 0
    dtype: str = "float64"

    def __post_init__(self) -> None:
        _checks.choice("data", self.data, data.DATASETS)
        _checks.integer("samples", self.samples, minimum=2)
        _checks.integer("test_samples", self.test_samples)
        _checks.integer("data_seed", self.data_seed, minimum=0)
        _checks.choice("architecture", self.architecture, (*ARCHITECTURES, "auto"))
        _checks.choice("scheme", self.scheme, (*SCHEMES, "auto"))
        _checks.choice("field", self.field, FIELDS)
        _checks.integer("hidden", self.hidden, minimum=0)
        _checks.choice("activation", self.activation, ACTIVATIONS)
        _checks.choice("lift", self.lift, (*LIFTS, "auto"))
        _checks.choice("readout", self.readout, (*TERMINALS, "auto", "none"))
        _checks.choice("readout_map", self.readout_map, READOUT_MAPS)
        _checks.choice("init", self.init, INITIALIZERS)
        _checks.choice("bias_init", self.bias_init, BIAS_INITIALIZERS)
        _checks.choice("solver", self.solver, SOLVERS)
        _checks.positive("step_size", self.step_size, allow_zero=True)
        _checks.choice("optimizer", self.optimizer, OPTIMIZERS)
        _checks.positive("lr", self.lr)
        _checks.integer("steps", self.steps)
        _checks.integer("batch_size", self.batch_size, minimum=0)
        if self.batch_size > self.samples:
            raise ValueError(
                f"batch_size must be ≤ samples ({self.samples}), got {self.batch_size}"
                " (0 is the full batch)"
            )
        _checks.positive("regularizer", self.regularizer, allow_zero=True)
        _checks.choice("dtype", self.dtype, DTYPES)
        self.resolved_scheme()  # architecture and scheme agree
        d, k, classes = _shape(self)
        spec(self, d, k, classes, [self])  # every spec field valid, checked before any run

    def resolved_scheme(self) -> str:
        """The scheme named by ``scheme`` and ``architecture`` (both ``auto``: map)."""
        if self.scheme != "auto":
            if self.architecture != "auto" and _architecture(self.scheme) != self.architecture:
                raise ValueError(
                    f'scheme "{self.scheme}" is not a {self.architecture} scheme: set '
                    f"architecture=auto or a scheme of {self.architecture}"
                )
            return self.scheme
        return ARCHITECTURES.get(self.architecture, "map")


def _architecture(scheme: str) -> str:
    s = SCHEMES[scheme]
    if not s.residual:
        return "mlp"
    if not s.fixed_step:
        return "ode"
    return "second_order" if s.second_order else "resnet"


def _shape(cfg: Config) -> tuple[int, int, int]:
    """(input dimension d, outputs k, classes: 0 for regression) of the config's data."""
    X, y = data.load(cfg.data, n=cfg.samples, seed=cfg.data_seed)
    classes = 0 if y.is_floating_point() else max(int(y.max()) + 1, 2)
    if cfg.data == "digits":
        classes = 10
    k = y.shape[1] if classes == 0 and y.dim() == 2 else (1 if classes <= 2 else classes)
    return X.shape[1], k, classes


def spec(cfg: Config, d: int, k: int, classes: int, members: Sequence[Config]) -> NetworkSpec:
    """The NetworkSpec of ``members`` (configs equal but for the batch fields) as one ensemble
    (a single network when there is one member: ``ensemble=None``)."""
    readout: str | None
    if cfg.readout == "auto":
        readout = "identity" if classes == 0 else ("sigmoid" if classes == 2 else "softmax")
    else:
        readout = None if cfg.readout == "none" else cfg.readout
    scheme = cfg.resolved_scheme()
    ode = None
    if scheme == "ode":
        ode = ODEOptions(cfg.solver, cfg.rtol, cfg.atol, cfg.adjoint, cfg.step_size or None)
    one = len(members) == 1
    kw: dict[str, Any] = {}
    if all(not c.h for c in members):
        Ts = [c.T for c in members]
        kw["T"] = Ts[0] if len(set(Ts)) == 1 else tuple(Ts)
    else:
        rows = [tuple(c.h) if c.h else (c.T / cfg.depth,) * cfg.depth for c in members]
        kw["h"] = rows[0] if len(set(rows)) == 1 else tuple(rows)
    return NetworkSpec(
        in_features=d, width=cfg.width, depth=cfg.depth, out_features=k, scheme=scheme,
        field=cfg.field, hidden=cfg.hidden or None, q=cfg.q, activation=cfg.activation,
        lift=cfg.lift, readout=readout, readout_map=cfg.readout_map, init=cfg.init,
        scale=cfg.scale if one else tuple(c.scale for c in members), bias_init=cfg.bias_init,
        ode=ode, ensemble=None if one else len(members),
        seed=cfg.seed if one else tuple(c.seed for c in members), dtype=cfg.dtype, **kw,
    )  # fmt: skip


def spec_overrides(data: Any) -> dict[str, Any]:
    """Config overrides that make the ``train`` entry build the network a spec describes (a
    :class:`NetworkSpec` or its JSON dict; ``deepdyn run train --spec FILE``).

    in_features and out_features come from the data and must agree with it; the spec must
    describe one network (a sweep makes ensembles: ``deepdyn sweep train --seeds N``).
    """
    spec = data if isinstance(data, NetworkSpec) else NetworkSpec.from_dict(data)
    if spec.ensemble is not None or spec.per_member_steps:
        raise ValueError(
            "the train entry trains one network: give a spec without ensemble (sweep seeds, "
            "scales and horizons with deepdyn sweep train --seeds N --grid T=…)"
        )
    if isinstance(spec.width, tuple):
        raise ValueError(
            "the train entry builds one width for every layer: give width as one integer"
        )
    out: dict[str, Any] = {
        "scheme": spec.scheme, "width": spec.width, "depth": spec.depth, "field": spec.field,
        "hidden": spec.hidden or 0, "q": spec.q, "activation": spec.activation, "T": spec.T,
        "h": tuple(spec.h) if spec.h else (), "lift": spec.lift,
        "readout": "none" if spec.readout is None else spec.readout,
        "readout_map": spec.readout_map, "init": spec.init, "scale": spec.scale,
        "bias_init": spec.bias_init, "seed": spec.seed, "dtype": spec.dtype,
    }  # fmt: skip
    if spec.ode is not None:
        out.update(solver=spec.ode.solver, rtol=spec.ode.rtol, atol=spec.ode.atol,
                   adjoint=spec.ode.adjoint, step_size=spec.ode.step_size or 0.0)  # fmt: skip
    return out


def check_spec_shape(cfg: Config, spec: NetworkSpec) -> None:
    """A ValueError unless the data of ``cfg`` has the spec's input and output sizes."""
    d, k, _ = _shape(cfg)
    if (spec.in_features, spec.out_features) != (d, k):
        raise ValueError(
            f"the spec has in_features={spec.in_features}, out_features={spec.out_features} but "
            f'data "{cfg.data}" has {d} inputs and {k} outputs: choose data that fits '
            "(--set data=…)"
        )


def _data(cfg: Config) -> tuple[torch.Tensor, ...]:
    dtype = DTYPES[cfg.dtype]
    X, y = data.load(cfg.data, n=cfg.samples, seed=cfg.data_seed, dtype=dtype)
    Xt, yt = data.load(cfg.data, n=cfg.test_samples, seed=cfg.data_seed + 1, dtype=dtype)
    return X, y, Xt, yt


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
    return accuracy(out, y)


def _parts(configs: Sequence[Config]) -> list[list[int]]:
    """Indices of the configs that can share one ensemble: coupled optimizers run alone, and
    ``ode`` members with different steps apart (an adaptive solve is shared by all members)."""
    cfg = configs[0]
    if cfg.optimizer in COUPLED:
        return [[i] for i in range(len(configs))]
    if not SCHEMES[cfg.resolved_scheme()].fixed_step:
        groups: dict[tuple[Any, ...], list[int]] = {}
        for i, c in enumerate(configs):
            groups.setdefault((c.T, c.h), []).append(i)
        return list(groups.values())
    return [list(range(len(configs)))]


def batch(configs: Sequence[Config], progress: Progress | None) -> list[xr.Dataset]:
    """Train ``configs`` (equal but for the batch fields) as one ensemble; one dataset each."""
    parts = _parts(configs)
    if len(parts) > 1:
        out: list[xr.Dataset | None] = [None] * len(configs)
        for idx in parts:
            for i, ds in zip(idx, batch([configs[i] for i in idx], progress)):
                out[i] = ds
        return out  # type: ignore[return-value]
    cfg = configs[0]
    with batch_invariant():
        X, y, Xt, yt = _data(cfg)
        d, k, classes = _shape(cfg)
        net = build(spec(cfg, d, k, classes, configs))
        history = fit(
            net, X, y, optimizer=cfg.optimizer, lr=cfg.lr, steps=cfg.steps,
            batch_size=cfg.batch_size or None, regularizer=cfg.regularizer or None,
            seed=cfg.data_seed, X_test=Xt, y_test=yt, progress=progress,
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
        member = net if net.ensemble is None else net.member(m)
        datasets.append(keep_networks(ds, member))
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
    else:  # inputs in d > 2: no output map to draw; the data in its two principal directions
        Xc = X - X.mean(0)
        _, _, vt = np.linalg.svd(Xc, full_matrices=False)
        P = Xc @ vt[:2].T if vt.shape[0] >= 2 else np.c_[Xc[:, 0], np.zeros(len(Xc))]
        pts = right.scatter(P[:, 0], P[:, 1], c=y, s=6, cmap="tab10", edgecolors="none")
        fig.colorbar(pts, ax=right, label="label")
        right.set(xlabel="principal direction 1", ylabel="principal direction 2")
    score = ds.attrs["score"]
    what = "" if "prediction" in ds else f" (training data, {X.shape[1]} inputs, 2-D projection)"
    right.set_title(f"test {score} {ds.attrs[f'test_{score}']:.3g}{what}", fontsize=9)
    return fig


def numbers(ds: xr.Dataset) -> dict[str, float]:
    score = ds.attrs["score"]
    out = {"final_loss": float(ds["loss"][-1])}
    if "test_loss" in ds:
        out["test_loss"] = float(ds["test_loss"][-1])
    # the objective (and the test loss) at the initial weights, before the first step
    out["initial_loss"] = float(ds["loss"][0])
    if "test_loss" in ds:
        out["initial_test_loss"] = float(ds["test_loss"][0])
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
        batch_fields=("seed", "scale", "T", "h"),
    )
)


register_claims(
    EXPERIMENT.id,
    [
        Claim(
            "Def 5.0.1: supervised deep learning finds the network weights (K, b) and the "
            "classifier's (W, μ) that minimize the loss of g(W x_N + μ) against the labels "
            "plus a regularizer, subject to the network's layer equation",
            "the entry's default fit of that problem: a width-3, depth-15 tanh MLP (eq. 5.1) "
            "with a sigmoid classifier g(W z_L + μ) on the step data (100 samples), BCE, no "
            "regularizer, 200 full-batch Adam steps; the objective at the start and at the "
            "end, train and test accuracy (500 new samples)",
            "reproduced",
            ("initial_loss", "final_loss", "train_accuracy", "test_accuracy"),
            lambda n: n["final_loss"] < 0.7 * n["initial_loss"] and n["test_accuracy"] > 0.8,
        ),
        Claim(
            "§9.1.1 (eq. 9.9–9.10): the empirical risk on N samples stands in for the "
            "population risk: minimizing it lowers the loss on new samples of the same law",
            "loss on 500 new samples (no regularizer) before and after the fit, and against "
            "the final training loss (N = 100)",
            "confirmed",
            ("initial_test_loss", "test_loss", "final_loss"),
            lambda n: (
                n["test_loss"] < 0.7 * n["initial_test_loss"]
                and abs(n["test_loss"] - n["final_loss"]) < 0.1
            ),
        ),
    ],
)
