"""deepdyn — deep learning as dynamical systems.

A network is a discrete dynamical system: layers are time steps, weights are controls.

The names below load on first use (PEP 562): ``import deepdyn`` itself imports no torch, so the
``deepdyn`` command answers ``--help``, ``list`` and ``show`` at once (tests/test_front_door.py).
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deepdyn import data
    from deepdyn.dynamics import (
        MLP,
        Network,
        NetworkSpec,
        NeuralODE,
        ODEOptions,
        ResNet,
        Scheme,
        build,
        from_torch,
        register_scheme,
    )
    from deepdyn.train import fit
    from deepdyn.trajectory import DIMENSIONS, History, Trajectory

# name -> the module that defines it (``data`` is the subpackage itself)
_LAZY = {
    "DIMENSIONS": "deepdyn.trajectory",
    "MLP": "deepdyn.dynamics",
    "History": "deepdyn.trajectory",
    "Network": "deepdyn.dynamics",
    "NetworkSpec": "deepdyn.dynamics",
    "NeuralODE": "deepdyn.dynamics",
    "ODEOptions": "deepdyn.dynamics",
    "ResNet": "deepdyn.dynamics",
    "Scheme": "deepdyn.dynamics",
    "Trajectory": "deepdyn.trajectory",
    "build": "deepdyn.dynamics",
    "data": "deepdyn.data",
    "fit": "deepdyn.train",
    "from_torch": "deepdyn.dynamics",
    "register_scheme": "deepdyn.dynamics",
}

__all__ = [
    "DIMENSIONS",
    "MLP",
    "History",
    "Network",
    "NetworkSpec",
    "NeuralODE",
    "ODEOptions",
    "ResNet",
    "Scheme",
    "Trajectory",
    "build",
    "data",
    "fit",
    "from_torch",
    "register_scheme",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        value = module if module.__name__ == f"{__name__}.{name}" else getattr(module, name)
    elif not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        value = importlib.import_module(f"{__name__}.{name}")  # deepdyn.train, deepdyn.viz, …
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
