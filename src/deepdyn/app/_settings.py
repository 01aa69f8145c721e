"""The playground's settings: one validated pydantic model, with the limits that bound the work
and memory of a session, the NetworkSpec they describe, and their export — as a ``train``
catalogue command that rebuilds the same network, as a Python snippet, and as a page address.

The vocabularies (activations, initializers, optimizers) come from the library's registries.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, model_validator

from deepdyn.dynamics import ACTIVATIONS as _ACTIVATIONS
from deepdyn.dynamics import INITIALIZERS as _INITIALIZERS
from deepdyn.dynamics import NetworkSpec, ODEOptions
from deepdyn.train import ELEMENTWISE

PROBLEMS = ("classification", "regression")
CLASSIFICATION_SETS = ("rings", "moons", "spirals", "xor", "gaussians", "step", "custom")
REGRESSION_SETS = ("step", "oscillation", "surface", "custom")
DATASETS = ("rings", "moons", "spirals", "xor", "gaussians", "step", "oscillation", "surface",
            "custom")  # fmt: skip
# an architecture is a scheme (ode: fixed-step RK4, one step per control interval: bounded cost)
ARCHITECTURES = {"mlp": "map", "resnet": "euler", "second_order": "leapfrog", "ode": "ode"}
ACTIVATIONS = tuple(n for n in _ACTIVATIONS if n != "identity")
INITIALIZERS = tuple(n for n in _INITIALIZERS if n != "zero")
AUGMENTATIONS = ("pad", "affine")
REGULARIZATIONS = ("none", "l1", "l2")
ODE_MAX_DEPTH = 25
"""RK4 evaluates the field 4 times per control interval: a neural ODE has at most 25 of them,
the work of 100 layers of the other architectures (so every allowed setting stays responsive)."""
MAX_WORK = 300_000
"""The most work one update may take, in samples × layers × field evaluations per layer (4 for
the RK4 neural ODE, 1 otherwise): a training step (forward and backward: 3 × the batch) and a
frame (the training and test points, the mesh and the grid through every layer). It keeps
every allowed setting at two or more updates a second on 2 cores (benchmarks/playground.py)."""
PAGE_ONLY = ("resolution", "grid_lines")
"""Settings that only change what the page draws."""


def _f(description: str, **bounds: Any) -> Any:
    return Field(description=description, **bounds)


class Settings(BaseModel):
    """Everything a user picks on the page.

    ``width`` is the hidden width C of an MLP and the state width of the residual networks and
    the neural ODE; when C > d the input is lifted by zero padding (``augmentation = pad``) or
    by an affine map. ``horizon`` T gives the step h = T/L; ``scale`` is γ of the uniform
    initializer (σ of the normal one, a gain otherwise).
    """

    model_config = ConfigDict(extra="forbid")

    problem: Literal[PROBLEMS] = _f(  # type: ignore[valid-type]
        "classification (class labels, cross-entropy) or regression (real targets, squared "
        "error)", default="classification")  # fmt: skip
    dataset: Literal[DATASETS] = _f(  # type: ignore[valid-type]
        "the data: classification rings, moons, spirals, xor, gaussians, step; regression "
        "step, oscillation, surface; custom: points added on the page or from a CSV file",
        default="rings")  # fmt: skip
    classes: Annotated[int, _f("gaussians: the number of blobs; spirals: the number of arms",
                               ge=2, le=6)] = 2  # fmt: skip
    periods: Annotated[int, _f("oscillation: the number m of periods of the square wave",
                               ge=1, le=8)] = 2  # fmt: skip
    noise: Annotated[float, _f("standard deviation of Gaussian noise added to the inputs",
                               ge=0.0, le=1.0)] = 0.0  # fmt: skip
    train_fraction: Annotated[float, _f(
        "share of training points in all points: the test set has points·(1−f)/f points "
        "(at most 2000)", ge=0.1, le=0.9)] = 0.5  # fmt: skip
    points: Annotated[int, _f("training points", ge=10, le=2000)] = 400
    architecture: Literal[tuple(ARCHITECTURES)] = _f(  # type: ignore[valid-type]
        "mlp, resnet (Euler steps), second_order (leapfrog) or ode (RK4 neural ODE)",
        default="resnet")  # fmt: skip
    activation: Literal[ACTIVATIONS] = _f("the activation σ", default="tanh")  # type: ignore[valid-type]
    width: Annotated[int, _f("hidden width (mlp) or state width (the others)",
                             ge=1, le=16)] = 3  # fmt: skip
    depth: Annotated[
        int,
        _f(
            "number of layers L (a neural ODE: at most 25); the size of a "
            "setting is bounded so that it trains live",
            ge=1,
            le=100,
        ),
    ] = 10
    horizon: Annotated[float, _f("time horizon T; the step is h = T/L", ge=0.01, le=20.0)] = 2.0
    augmentation: Literal[AUGMENTATIONS] = _f(  # type: ignore[valid-type]
        "lift of the input when the width exceeds it: zero padding or an affine map",
        default="pad")  # fmt: skip
    init: Literal[INITIALIZERS] = _f("initializer of the weights", default="uniform")  # type: ignore[valid-type]
    scale: Annotated[float, _f("γ of the uniform initializer, σ of the normal one, a gain "
                               "otherwise", ge=0.0, le=10.0)] = 1.0  # fmt: skip
    optimizer: Literal[ELEMENTWISE] = _f("the optimizer", default="adam")  # type: ignore[valid-type]
    lr: Annotated[float, _f("learning rate", ge=1e-6, le=10.0)] = 0.02
    batch_size: Annotated[int, _f("mini-batch size; 0 is the full batch", ge=0, le=2000)] = 0
    regularization: Literal[REGULARIZATIONS] = _f(  # type: ignore[valid-type]
        "penalty on the parameters: none, l1 (rate · Σ|θ|) or l2 (rate · Σθ²)",
        default="none")  # fmt: skip
    regularization_rate: Annotated[float, _f("the rate of the penalty", ge=0.0, le=1.0)] = 0.001
    resolution: Annotated[int, _f("points per side of the mesh of the output view",
                                  ge=8, le=64)] = 40  # fmt: skip
    grid_lines: Annotated[int, _f("lines per direction of the deformed grid", ge=2, le=31)] = 11
    seed: Annotated[int, _f("seed of the data and of the initial parameters",
                            ge=0, le=2**31 - 1)] = 0  # fmt: skip

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        sets = CLASSIFICATION_SETS if self.problem == "classification" else REGRESSION_SETS
        if self.dataset not in sets:
            raise ValueError(
                f"dataset {self.dataset} is not a {self.problem} problem: choose one of "
                f"{', '.join(sets)}"
            )
        if self.architecture == "ode" and self.depth > ODE_MAX_DEPTH:
            raise ValueError(
                f"depth must be at most {ODE_MAX_DEPTH} for a neural ODE (4 field evaluations "
                f"per step), got {self.depth}"
            )
        if self.dataset != "custom":
            check_work(self, self.points, self.test_points)
        return self

    @property
    def test_points(self) -> int:
        """Test points: points·(1−f)/f, rounded, between 1 and 2000."""
        f = self.train_fraction
        return max(1, min(2000, round(self.points * (1 - f) / f)))


def work(s: Settings, train: int, test: int) -> int:
    """The work of one update (see :data:`MAX_WORK`) with ``train`` and ``test`` points."""
    batch = s.batch_size if 0 < s.batch_size < train else train
    samples = 3 * batch + train + test + s.resolution**2 + 2 * s.grid_lines * 40
    return samples * s.depth * (4 if s.architecture == "ode" else 1)


def check_work(s: Settings, train: int, test: int) -> None:
    """A one-line ValueError when an update would take more than :data:`MAX_WORK`."""
    w = work(s, train, test)
    if w > MAX_WORK:
        raise ValueError(
            f"this setting is too large to train live ({w} > {MAX_WORK} sample-layers per "
            "update: 3 × batch + training and test points + mesh² + 80 × grid lines, times "
            "depth, × 4 for a neural ODE): use fewer points or layers, a mini-batch, a smaller "
            "mesh or fewer grid lines"
        )


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
    two, softmax for more, identity with one output for regression: ``classes = 0``), float32
    as the page computes."""
    k = 1 if classes in (0, 2) else classes
    scheme = ARCHITECTURES[s.architecture]
    readout = "identity" if classes == 0 else ("sigmoid" if classes == 2 else "softmax")
    common: dict[str, Any] = dict(
        activation=s.activation, readout=readout, init=s.init, scale=s.scale, seed=s.seed
    )
    if scheme == "map":
        return NetworkSpec(d, s.width, s.depth, k, scheme="map", **common)
    lift = "identity" if s.width == d else ("affine" if s.width < d else s.augmentation)
    ode = ODEOptions("rk4", step_size=s.horizon / s.depth) if scheme == "ode" else None
    return NetworkSpec(d, s.width, s.depth, k, scheme=scheme, T=s.horizon, lift=lift, ode=ode,
                       **common)  # fmt: skip


def command_gaps(s: Settings) -> list[str]:
    """The settings the ``train`` catalogue command cannot carry (it loads a data set by name
    with its default options and knows only the L2 penalty); [] when it rebuilds the run."""
    gaps = []
    if s.dataset in ("surface", "custom"):
        gaps.append(f"dataset={s.dataset}")
    if s.problem == "regression" and s.dataset == "step":
        gaps.append("problem=regression with dataset=step")
    if s.dataset in ("gaussians", "spirals") and s.classes != 2:
        gaps.append(f"classes={s.classes}")
    if s.dataset == "oscillation" and s.periods != 1:
        gaps.append(f"periods={s.periods}")
    if s.noise > 0:
        gaps.append(f"noise={s.noise:g}")
    if s.regularization == "l1" and s.regularization_rate > 0:
        gaps.append("regularization=l1")
    return gaps


def _config(s: Settings, steps: int, spec: NetworkSpec) -> dict[str, Any]:
    config: dict[str, Any] = {
        "data": s.dataset,
        "samples": s.points,
        "test_samples": s.test_points,
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
    if s.regularization == "l2" and s.regularization_rate > 0:
        config["regularizer"] = s.regularization_rate
    return config


def changed(s: Settings) -> dict[str, Any]:
    """The settings that differ from the defaults."""
    default = Settings.model_construct()
    return {k: v for k, v in s.model_dump().items() if getattr(default, k) != v}


def page_query(s: Settings) -> str:
    """The page address' query that restores the settings (only those not at their default)."""
    return urlencode(changed(s))


def python_snippet(s: Settings, steps: int, spec: NetworkSpec) -> str:
    """Python that rebuilds the data, the network and the training of the settings."""
    reg = "None"
    if s.regularization == "l2" and s.regularization_rate > 0:
        reg = repr(s.regularization_rate)
    elif s.regularization == "l1" and s.regularization_rate > 0:
        reg = f"l1_penalty({s.regularization_rate!r})"
    batch = s.batch_size if 0 < s.batch_size < s.points else None
    data_line = "X, y, X_test, y_test = training_data(settings)"
    if s.dataset == "custom":
        data_line = (
            "# custom data: the page's 'download CSV' file\n"
            'X, y, X_test, y_test = training_data(settings, points=read_points("points.csv"))'
        )
    return "\n".join([
        "import deepdyn",
        "from deepdyn.app import Settings, l1_penalty, read_points, training_data",
        "",
        f"settings = Settings(**{json.dumps(changed(s))})",
        data_line,
        f"spec = deepdyn.NetworkSpec.from_json({spec.to_json()!r})",
        "net = deepdyn.build(spec)",
        "history = deepdyn.fit(",
        f"    net, X, y, optimizer={s.optimizer!r}, lr={s.lr!r}, steps={max(int(steps), 1)},",
        f"    batch_size={batch}, regularizer={reg}, seed={s.seed},",
        "    X_test=X_test, y_test=y_test,",
        ")",
        "print(history.loss[:5])",
    ])  # fmt: skip


def export_config(s: Settings, steps: int) -> dict[str, Any]:
    """The settings as a ``train`` catalogue config (deepdyn.experiments.train_network.Config),
    the command that replays them, a Python snippet, the page address' query, and the
    settings that only the page uses.

    Every setting that changes the network or its training is exported (architecture, horizon,
    augmentation, initializer, optimizer, batch size, L2 penalty, train/test sizes): ``deepdyn
    run train …`` with the command builds the same initial θ and takes the same first steps.
    ``not_in_command`` lists what the command cannot carry (noise, the L1 penalty, more than
    two classes, the data sets the catalogue does not have); the Python snippet carries all.
    """
    from deepdyn.app._data import dimensions

    d, classes = dimensions(s)
    spec = network_spec(s, d, classes)
    config = _config(s, steps, spec)
    command = "deepdyn run train " + " ".join(f"--set {k}={v}" for k, v in config.items())
    return {
        "experiment": "train",
        "config": config,
        "unmapped": list(PAGE_ONLY),
        "not_in_command": command_gaps(s),
        "command": command,
        "python": python_snippet(s, steps, spec),
        "query": page_query(s),
        "spec": spec.to_dict(),
    }
