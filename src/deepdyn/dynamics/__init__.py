"""Fields, schemes, lifts, readouts and the Network that composes them."""

from deepdyn.dynamics._invariant import batch_invariant, is_batch_invariant
from deepdyn.dynamics.activations import ACTIVATIONS, activation
from deepdyn.dynamics.builders import MLP, NeuralODE, ResNet
from deepdyn.dynamics.ends import LIFTS, TERMINALS, Lift, Readout
from deepdyn.dynamics.fields import FIELDS, Field
from deepdyn.dynamics.init import INITIALIZERS
from deepdyn.dynamics.network import Network
from deepdyn.dynamics.schemes import SCHEMES, SOLVERS

__all__ = [
    "ACTIVATIONS",
    "FIELDS",
    "INITIALIZERS",
    "LIFTS",
    "MLP",
    "SCHEMES",
    "SOLVERS",
    "TERMINALS",
    "Field",
    "Lift",
    "Network",
    "NeuralODE",
    "Readout",
    "ResNet",
    "activation",
    "batch_invariant",
    "is_batch_invariant",
]
