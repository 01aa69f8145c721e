"""Fields, schemes, lifts, readouts and the Network that composes them.

Every name here is public; the modules are private (``_name.py``). Schemes, fields and
activations are objects in one registry each (:data:`SCHEMES`, :data:`FIELDS`,
:data:`ACTIVATIONS`); ``register_scheme`` / ``register_field`` / ``register_activation`` add
one. A network is described by a :class:`NetworkSpec` and made by :func:`build`.
"""

from deepdyn.dynamics._activations import ACTIVATIONS as ACTIVATIONS
from deepdyn.dynamics._activations import Activation as Activation
from deepdyn.dynamics._activations import activation as activation
from deepdyn.dynamics._activations import register_activation as register_activation
from deepdyn.dynamics._builders import MLP as MLP
from deepdyn.dynamics._builders import NeuralODE as NeuralODE
from deepdyn.dynamics._builders import ResNet as ResNet
from deepdyn.dynamics._builders import build as build
from deepdyn.dynamics._ends import LIFTS as LIFTS
from deepdyn.dynamics._ends import READOUT_MAPS as READOUT_MAPS
from deepdyn.dynamics._ends import TERMINALS as TERMINALS
from deepdyn.dynamics._ends import Lift as Lift
from deepdyn.dynamics._ends import Readout as Readout
from deepdyn.dynamics._fields import FIELDS as FIELDS
from deepdyn.dynamics._fields import Field as Field
from deepdyn.dynamics._fields import FieldKind as FieldKind
from deepdyn.dynamics._fields import register_field as register_field
from deepdyn.dynamics._init import BIAS_INITIALIZERS as BIAS_INITIALIZERS
from deepdyn.dynamics._init import INITIALIZERS as INITIALIZERS
from deepdyn.dynamics._invariant import batch_invariant as batch_invariant
from deepdyn.dynamics._invariant import is_batch_invariant as is_batch_invariant
from deepdyn.dynamics._invariant import padded as padded
from deepdyn.dynamics._network import Layer as Layer
from deepdyn.dynamics._network import Network as Network
from deepdyn.dynamics._padded import pad_ensemble as pad_ensemble
from deepdyn.dynamics._padded import unpad as unpad
from deepdyn.dynamics._schemes import SCHEMES as SCHEMES
from deepdyn.dynamics._schemes import SOLVERS as SOLVERS
from deepdyn.dynamics._schemes import Scheme as Scheme
from deepdyn.dynamics._schemes import register_scheme as register_scheme
from deepdyn.dynamics._schemes import residual_fixed as residual_fixed
from deepdyn.dynamics._schemes import run_fixed as run_fixed
from deepdyn.dynamics._schemes import run_ode as run_ode
from deepdyn.dynamics._schemes import scheme as scheme
from deepdyn.dynamics._solver_stats import SolverTotals as SolverTotals
from deepdyn.dynamics._solver_stats import SolveStats as SolveStats
from deepdyn.dynamics._spec import DTYPES as DTYPES
from deepdyn.dynamics._spec import FIXED_GRID_SOLVERS as FIXED_GRID_SOLVERS
from deepdyn.dynamics._spec import NetworkSpec as NetworkSpec
from deepdyn.dynamics._spec import ODEOptions as ODEOptions
from deepdyn.dynamics._spec import field_names as spec_fields
from deepdyn.dynamics._torch_io import ResidualBlock as ResidualBlock
from deepdyn.dynamics._torch_io import from_torch as from_torch

__all__ = [
    "ACTIVATIONS",
    "BIAS_INITIALIZERS",
    "DTYPES",
    "FIELDS",
    "FIXED_GRID_SOLVERS",
    "INITIALIZERS",
    "LIFTS",
    "MLP",
    "READOUT_MAPS",
    "SCHEMES",
    "SOLVERS",
    "TERMINALS",
    "Activation",
    "Field",
    "FieldKind",
    "Layer",
    "Lift",
    "Network",
    "NetworkSpec",
    "NeuralODE",
    "ODEOptions",
    "Readout",
    "ResNet",
    "ResidualBlock",
    "Scheme",
    "SolveStats",
    "SolverTotals",
    "activation",
    "batch_invariant",
    "build",
    "from_torch",
    "is_batch_invariant",
    "pad_ensemble",
    "padded",
    "register_activation",
    "register_field",
    "register_scheme",
    "residual_fixed",
    "run_fixed",
    "run_ode",
    "scheme",
    "spec_fields",
    "unpad",
]
