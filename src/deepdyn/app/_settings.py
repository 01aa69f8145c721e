"""The playground's settings: one validated pydantic model, with the limits that bound the work
and memory of a session, and its export as a ``train`` catalogue config."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DATASETS = ("rings", "moons", "spirals", "xor", "gaussians", "step")
ARCHITECTURES = ("mlp", "resnet", "second_order", "ode")
ACTIVATIONS = ("tanh", "relu", "sigmoid", "softplus", "leaky_relu")
INITIALIZERS = ("uniform", "normal", "glorot", "he", "lecun", "orthogonal")
OPTIMIZERS = ("adam", "sgd", "rmsprop", "adagrad")
AUGMENTATIONS = ("pad", "affine")


class Settings(BaseModel):
    """Everything a user picks on the page (issue 7, Build 1).

    ``width`` is the hidden width C of an MLP and the state width of the residual networks and
    the neural ODE; when C > d the input is lifted by zero padding (``augmentation = pad``,
    thesis Prop. 10.1.1) or by an affine map. ``horizon`` T gives the step h = T/L (thesis
    eq. 7.8); ``scale`` is γ of the uniform initializer (σ of the normal one, a gain otherwise).
    """

    model_config = ConfigDict(extra="forbid")

    dataset: Literal["rings", "moons", "spirals", "xor", "gaussians", "step"] = "rings"
    architecture: Literal["mlp", "resnet", "second_order", "ode"] = "resnet"
    activation: Literal["tanh", "relu", "sigmoid", "softplus", "leaky_relu"] = "tanh"
    width: Annotated[int, Field(ge=1, le=16)] = 3
    depth: Annotated[int, Field(ge=1, le=100)] = 10
    horizon: Annotated[float, Field(ge=0.01, le=20.0)] = 2.0
    augmentation: Literal["pad", "affine"] = "pad"
    init: Literal["uniform", "normal", "glorot", "he", "lecun", "orthogonal"] = "uniform"
    scale: Annotated[float, Field(ge=0.0, le=10.0)] = 1.0
    optimizer: Literal["adam", "sgd", "rmsprop", "adagrad"] = "adam"
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

_EXPORTED = {"mlp": "mlp", "resnet": "resnet"}


def export_config(s: Settings, steps: int) -> dict[str, Any]:
    """The settings as a ``train`` catalogue config (deepdyn.experiments.train_network.Config),
    the command that replays it, and the settings that have no field there.

    Raises:
        ValueError: the architecture has no counterpart in ``train`` (mlp, resnet only).
    """
    if s.architecture not in _EXPORTED:
        raise ValueError(
            f'architecture "{s.architecture}" cannot be exported: the train entry has '
            "mlp, resnet; choose one of them to export"
        )
    config: dict[str, Any] = {
        "data": s.dataset,
        "samples": s.points,
        "test_samples": s.points,
        "data_seed": s.seed,
        "architecture": _EXPORTED[s.architecture],
        "width": s.width,
        "depth": s.depth,
        "activation": s.activation,
        "init": s.init,
        "scale": s.scale,
        "optimizer": s.optimizer,
        "lr": s.lr,
        "steps": max(int(steps), 1),
        "seed": s.seed,
        "dtype": "float32",
    }
    unmapped = ["batch_size", "resolution", "grid_lines"]
    if s.architecture == "resnet":
        unmapped = ["horizon", "augmentation", *unmapped]
    command = "deepdyn run train " + " ".join(f"--set {k}={v}" for k, v in config.items())
    return {"experiment": "train", "config": config, "unmapped": unmapped, "command": command}
