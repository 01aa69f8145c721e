"""deepdyn — deep learning as dynamical systems.

A network is a discrete dynamical system: layers are time steps, weights are controls.
"""

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
