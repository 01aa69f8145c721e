"""Training: gradient descent and its relatives on a Network or an ensemble (thesis App. A, B).

``fit`` trains in place and returns a :class:`deepdyn.History`; ``compute_loss`` is the
per-member loss it minimizes (the sum over members is the objective). ``deepdyn.train.pmp``
trains by the Pontryagin maximum principle (MSA, E-MSA) and computes costates and Hamiltonians.
"""

from deepdyn.train import pmp
from deepdyn.train._fit import OPTIMIZER_NAMES as OPTIMIZERS
from deepdyn.train._fit import fit
from deepdyn.train._losses import LOSSES, compute_loss, resolve_loss
from deepdyn.train._newton import MAX_PARAMETERS as NEWTON_MAX_PARAMETERS
from deepdyn.train.pmp import PMPHistory, costates, msa, ode_costates

__all__ = [
    "LOSSES",
    "NEWTON_MAX_PARAMETERS",
    "OPTIMIZERS",
    "PMPHistory",
    "compute_loss",
    "costates",
    "fit",
    "msa",
    "ode_costates",
    "pmp",
    "resolve_loss",
]
