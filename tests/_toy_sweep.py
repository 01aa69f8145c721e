"""A toy catalogue entry for the sweep tests.

The tests register it with ``toy()`` (and unregister it after); a sweep's worker process imports
this module, which registers it there, since only workers have a parent process.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from deepdyn import experiments
from deepdyn.experiments import Experiment

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
    """The registered toy entry (registering it again replaces it with an equal one)."""
    return experiments.register(
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
        ),
        replace=True,
    )


# ---- a batched toy: seeds run as one batch; every batch leaves a mark file

BATCHED = "toy-batched"


@dataclasses.dataclass(frozen=True)
class BatchedConfig:
    n: int = 4
    seed: int = 0
    delay: float = 0.0  # seconds each batch sleeps (to kill workers mid-task)
    marks: str = ""  # folder for "<seeds>.<pid>.<ns>" files, one per batch attempt
    fail_seed: int = -1  # a batch holding this seed raises

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"n must be at least 1, got {self.n}")


def _batch(configs, progress):
    seeds = [c.seed for c in configs]
    if configs[0].marks:
        name = "-".join(map(str, seeds)) + f".{os.getpid()}.{time.time_ns()}"
        (Path(configs[0].marks) / name).write_text("")
    time.sleep(configs[0].delay)
    if configs[0].fail_seed in seeds:
        raise RuntimeError(f"toy failure at seed {configs[0].fail_seed}")
    return [
        xr.Dataset({"y": ("sample", np.random.default_rng(c.seed).standard_normal(c.n))})
        for c in configs
    ]


def _batched_run(config, progress):
    return _batch([config], progress)[0]


def batched() -> Experiment:
    """The registered batched toy entry (registering it again replaces it with an equal one)."""
    return experiments.register(
        Experiment(
            id=BATCHED,
            title="Toy batched sweep",
            reference="§0",
            caption="Noise by seed.",
            config=BatchedConfig,
            run=_batched_run,
            figure=_figure,
            numbers=_numbers,
            batch=_batch,
            batch_fields=("seed",),
        ),
        replace=True,
    )


def marks(folder: Path) -> list[tuple[list[int], int]]:
    """(seeds, pid) of every batch attempt recorded in ``folder``."""
    out = []
    for path in sorted(folder.iterdir()):
        seeds, pid, _ = path.name.split(".")
        out.append(([int(s) for s in seeds.split("-")], int(pid)))
    return out


# ---- a toy that records the torch threads its worker computes with

THREADS = "toy-threads"


@dataclasses.dataclass(frozen=True)
class ThreadsConfig:
    seed: int = 0


def _threads_run(config, progress):
    import torch

    return xr.Dataset({"threads": ((), torch.get_num_threads())})


def _threads_numbers(ds: xr.Dataset) -> dict[str, float]:
    return {"threads": float(ds["threads"])}


def threads() -> Experiment:
    """The registered threads toy entry (registering it again replaces it with an equal one)."""
    return experiments.register(
        Experiment(
            id=THREADS,
            title="Toy threads",
            reference="§0",
            caption="Torch threads of the worker.",
            config=ThreadsConfig,
            run=_threads_run,
            figure=_figure,
            numbers=_threads_numbers,
        ),
        replace=True,
    )


if multiprocessing.parent_process() is not None:
    toy()
    batched()
    threads()
