"""Training as optimal control (thesis ch. 3, 4, 9): costates, Hamiltonians, PMP trainers.

* :func:`costates` — forward pass, costates p_l = −∂J/∂z_l by the backward recursion
  (eq. 3.15–3.16, 4.8), layer Hamiltonians H_l (eq. 4.6) and the PMP residual; for ``ode``
  networks the continuous costate through torchdiffeq's adjoint (:func:`ode_costates`).
* :func:`msa` — train by basic MSA (eq. 4.10), extended MSA (Li, Chen, Tai & E 2018) or the
  gradient form (eq. 4.11); returns a :class:`PMPHistory`, a :class:`deepdyn.History` that
  also carries the Hamiltonian and the PMP residual per iteration.
"""

from deepdyn.train.pmp._costates import costate_schemes, costates, fixed_schemes, layer_step
from deepdyn.train.pmp._msa import INNER_OPTIMIZERS, METHODS, PMPHistory, msa
from deepdyn.train.pmp._ode import ode_costates
from deepdyn.train.pmp._result import Costates

__all__ = [
    "INNER_OPTIMIZERS",
    "METHODS",
    "Costates",
    "PMPHistory",
    "costate_schemes",
    "costates",
    "fixed_schemes",
    "layer_step",
    "msa",
    "ode_costates",
]
