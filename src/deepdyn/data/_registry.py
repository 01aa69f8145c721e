"""The data sets by name, for the CLI, the experiment configs and the playground."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from deepdyn._checks import choice

from ._common import Dataset
from ._digits import digits
from ._functions import oscillation, step
from ._toy import gaussians, moons, rings, spheres, spirals, xor

DATASETS: dict[str, Callable[..., Dataset]] = {
    "rings": rings,
    "spheres": spheres,
    "step": step,
    "oscillation": oscillation,
    "moons": moons,
    "spirals": spirals,
    "xor": xor,
    "gaussians": gaussians,
    "digits": digits,
}
"""Name → generator. Every generator takes keyword options and returns ``(X, y)``."""


def load(name: str, **kwargs: Any) -> Dataset:
    """The data set ``name`` of ``DATASETS``, built with ``kwargs`` (e.g. ``n=500, seed=1``).

    Raises:
        ValueError: ``name`` is not a key of ``DATASETS``, or an option is out of range.
    """
    return DATASETS[choice("dataset", name, DATASETS)](**kwargs)
