"""A toy catalogue entry for the sweep tests.

The tests register it with ``toy()`` (and unregister it after); a sweep's worker process imports
this module, which registers it there, since only workers have a parent process.
"""

from __future__ import annotations

import dataclasses
import multiprocessing

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from deepdyn import experiments
from deepdyn.experiments import Experiment
from deepdyn.experiments._registry import _REGISTRY

TOY = "toy-sweep"


@dataclasses.dataclass(frozen=True)
class ToySweepConfig:
    n: int = 20
    scale: float = 1.0
    fail: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"n must be at least 1, got {self.n}")


def _run(config: ToySweepConfig, progress):
    if config.fail:
        raise RuntimeError("toy failure")
    rng = np.random.default_rng(config.seed)
    y = config.scale * np.linspace(0.0, 1.0, config.n) + 0.01 * rng.standard_normal(config.n)
    return xr.Dataset({"y": ("sample", y)}, coords={"sample": np.arange(config.n)})


def _figure(ds: xr.Dataset):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot(ds["y"].values)
    return fig


def _numbers(ds: xr.Dataset) -> dict[str, float]:
    return {"mean": float(ds["y"].mean())}


def toy() -> Experiment:
    """The registered toy entry (registering it if needed)."""
    if TOY not in _REGISTRY:
        experiments.register(
            Experiment(
                id=TOY,
                title="Toy sweep",
                reference="§0",
                caption="A noisy line.",
                config=ToySweepConfig,
                run=_run,
                figure=_figure,
                numbers=_numbers,
                quick={"n": 5},
            )
        )
    return _REGISTRY[TOY]


if multiprocessing.parent_process() is not None:
    toy()
