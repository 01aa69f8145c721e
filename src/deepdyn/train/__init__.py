"""Training: gradient descent and its relatives on a Network or an ensemble (thesis App. A, B).

``fit`` trains in place and returns a :class:`deepdyn.History`; ``compute_loss`` is the
per-member loss it minimizes (the sum over members is the objective). ``deepdyn.train.pmp``
trains by the Pontryagin maximum principle (MSA, E-MSA) and computes costates and Hamiltonians.
"""

from deepdyn.train import pmp
from deepdyn.train._fit import ELEMENTWISE, OPTIMIZERS, batches, fit
from deepdyn.train._losses import LOSSES, compute_loss, resolve_loss
from deepdyn.train._metrics import accuracy
from deepdyn.train._newton import MAX_PARAMETERS as NEWTON_MAX_PARAMETERS
from deepdyn.train._problem import Problem, check_inputs, check_regularizer, problem
from deepdyn.train.pmp import PMPHistory, costates, msa, ode_costates

__all__ = [
    "ELEMENTWISE",
    "LOSSES",
    "NEWTON_MAX_PARAMETERS",
    "OPTIMIZERS",
    "PMPHistory",
    "Problem",
    "accuracy",
    "batches",
    "check_inputs",
    "check_regularizer",
    "compute_loss",
    "costates",
    "fit",
    "msa",
    "ode_costates",
    "pmp",
    "problem",
    "resolve_loss",
]
