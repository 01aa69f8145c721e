"""The playground's settings: one validated pydantic model, with the limits that bound the work
and memory of a session, the NetworkSpec they describe, and their export as a ``train``
catalogue command that rebuilds the same network.

The vocabularies (activations, initializers, optimizers) come from the library's registries.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from deepdyn import data
from deepdyn.dynamics import ACTIVATIONS as _ACTIVATIONS
from deepdyn.dynamics import INITIALIZERS as _INITIALIZERS
from deepdyn.dynamics import NetworkSpec, ODEOptions
from deepdyn.train import ELEMENTWISE

# the playground draws 2-D classification sets and the 1-D step: a subset of deepdyn.data
DATASETS = tuple(n for n in ("rings", "moons", "spirals", "xor", "gaussians", "step")
                 if n in data.DATASETS)  # fmt: skip
# an architecture is a scheme (ode: fixed-step RK4, one step per control interval: bounded cost)
ARCHITECTURES = {"mlp": "map", "resnet": "euler", "second_order": "leapfrog", "ode": "ode"}
ACTIVATIONS = tuple(n for n in _ACTIVATIONS if n != "identity")
INITIALIZERS = tuple(n for n in _INITIALIZERS if n != "zero")
AUGMENTATIONS = ("pad", "affine")


class Settings(BaseModel):
    """Everything a user picks on the page (issue 7, Build 1).

    ``width`` is the hidden width C of an MLP and the state width of the residual networks and
    the neural ODE; when C > d the input is lifted by zero padding (``augmentation = pad``,
    thesis Prop. 10.1.1) or by an affine map. ``horizon`` T gives the step h = T/L (thesis
    eq. 7.8); ``scale`` is γ of the uniform initializer (σ of the normal one, a gain otherwise).
    """

    model_config = ConfigDict(extra="forbid")

    dataset: Literal[DATASETS] = "rings"  # type: ignore[valid-type]
    architecture: Literal[tuple(ARCHITECTURES)] = "resnet"  # type: ignore[valid-type]
    activation: Literal[ACTIVATIONS] = "tanh"  # type: ignore[valid-type]
    width: Annotated[int, Field(ge=1, le=16)] = 3
    depth: Annotated[int, Field(ge=1, le=100)] = 10
    horizon: Annotated[float, Field(ge=0.01, le=20.0)] = 2.0
    augmentation: Literal[AUGMENTATIONS] = "pad"  # type: ignore[valid-type]
    init: Literal[INITIALIZERS] = "uniform"  # type: ignore[valid-type]
    scale: Annotated[float, Field(ge=0.0, le=10.0)] = 1.0
    optimizer: Literal[ELEMENTWISE] = "adam"  # type: ignore[valid-type]  # deepdyn.fit's names
    lr: Annotated[float, Field(ge=1e-6, le=10.0)] = 0.02
    batch_size: Annotated[int, Field(ge=0, le=2000)] = 0
    points: Annotated[int, Field(ge=10, le=2000)] = 400
    resolution: Annotated[int, Field(ge=8, le=100)] = 40
    grid_lines: Annotated[int, Field(ge=2, le=31)] = 11
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0


def _limits() -> dict[str, tuple[float, float]]:
    out = {}
    for name, field in Settings.model_fields.items():
        bounds = {type(m).__name__: m for m in field.metadata}
        if "Ge" in bounds and "Le" in bounds:
            out[name] = (bounds["Ge"].ge, bounds["Le"].le)
    return out


LIMITS: dict[str, tuple[float, float]] = _limits()
"""name → (minimum, maximum), inclusive, of the numeric settings; ``batch_size = 0`` means
full batch."""


def network_spec(s: Settings, d: int, classes: int) -> NetworkSpec:
    """The network of the settings for d inputs and ``classes`` classes (sigmoid readout for
    two, softmax otherwise), float32 as the page computes."""
    k = 1 if classes == 2 else classes
    scheme = ARCHITECTURES[s.architecture]
    common: dict[str, Any] = dict(
        activation=s.activation,
        readout="sigmoid" if classes == 2 else "softmax",
        init=s.init,
        scale=s.scale,
        seed=s.seed,
    )
    if scheme == "map":
        return NetworkSpec(d, s.width, s.depth, k, scheme="map", **common)
    lift = "identity" if s.width == d else ("affine" if s.width < d else s.augmentation)
    ode = ODEOptions("rk4", step_size=s.horizon / s.depth) if scheme == "ode" else None
    return NetworkSpec(d, s.width, s.depth, k, scheme=scheme, T=s.horizon, lift=lift, ode=ode,
                       **common)  # fmt: skip


def export_config(s: Settings, steps: int) -> dict[str, Any]:
    """The settings as a ``train`` catalogue config (deepdyn.experiments.train_network.Config),
    the command that replays them and the settings that only the page uses.

    Every setting that changes the network or its training is exported (architecture, horizon,
    augmentation, initializer, optimizer, batch size): ``deepdyn run train …`` with the command
    builds the same initial θ and takes the same first steps.
    """
    X, y = data.load(s.dataset, n=s.points, seed=s.seed)
    classes = max(int(y.max()) + 1, 2)
    spec = network_spec(s, X.shape[1], classes)
    config: dict[str, Any] = {
        "data": s.dataset,
        "samples": s.points,
        "test_samples": s.points,
        "data_seed": s.seed,
        "scheme": spec.scheme,
        "width": s.width,
        "depth": s.depth,
        "activation": s.activation,
        "init": s.init,
        "scale": s.scale,
        "optimizer": s.optimizer,
        "lr": s.lr,
        "steps": max(int(steps), 1),
        "batch_size": s.batch_size if s.batch_size < s.points else 0,
        "seed": s.seed,
        "dtype": "float32",
    }
    if spec.scheme != "map":
        config.update({"T": s.horizon, "lift": spec.lift})
    if spec.ode is not None:
        config.update({"solver": spec.ode.solver, "step_size": spec.ode.step_size})
    unmapped = ["resolution", "grid_lines"]
    command = "deepdyn run train " + " ".join(f"--set {k}={v}" for k, v in config.items())
    return {"experiment": "train", "config": config, "unmapped": unmapped, "command": command}
