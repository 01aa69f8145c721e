"""The experiment catalogue: one entry per thesis figure or study, each = config + run + figure.

Use ``catalogue()`` to list the entries, ``get(id)`` for one, ``make_config`` to build its config,
``run_experiment`` to compute and store it, ``reproduce`` to run everything and write the report.
"""

from __future__ import annotations

import importlib

from deepdyn.experiments._claims import (
    Claim,
    all_claims,
    claims,
    claims_html,
    claims_markdown,
    register_claims,
)
from deepdyn.experiments._describe import FieldInfo, describe
from deepdyn.experiments._registry import catalogue, get, register, unregister
from deepdyn.experiments._report import check_out, place_entry, reproduce, write_report
from deepdyn.experiments._thesis_index import ITEMS, Item, index_html, index_markdown, labels
from deepdyn.runs import (
    Experiment,
    Progress,
    ProgressCounter,
    ProgressFactory,
    Result,
    copy_entry,
    make_config,
    run_experiment,
)

__all__ = [
    "ITEMS",
    "Claim",
    "Experiment",
    "FieldInfo",
    "Item",
    "Progress",
    "ProgressCounter",
    "ProgressFactory",
    "Result",
    "all_claims",
    "catalogue",
    "check_out",
    "claims",
    "claims_html",
    "claims_markdown",
    "copy_entry",
    "describe",
    "get",
    "index_html",
    "index_markdown",
    "labels",
    "make_config",
    "place_entry",
    "register",
    "register_claims",
    "reproduce",
    "run_experiment",
    "unregister",
    "write_report",
]

# ---- the catalogue's entries -------------------------------------------------------------------
# Each module registers its entry (``register(Experiment(...))``) when imported. Registration
# order is report order. To add an entry, write ``deepdyn/experiments/<name>.py``, add
# ``"<name>"`` here, e.g. ``_ENTRY_MODULES = ("resnet_ode",)``, and run ``make catalogue``
# (``deepdyn list``/``show`` read its metadata from deepdyn/catalogue.json, without torch).
_ENTRY_MODULES: tuple[str, ...] = (  # thesis order
    "thesis_figures",  # Fig 1.1, 3.1, 5.1, 7.1, 7.3, 7.4, 8.7, 8.8, 10.1 (no training)
    "resnet_ode",  # §3, §5, §7.3
    "control_msa",  # §4
    "control_adjoint",  # §3-4, neural ODEs
    "capacity_approximation",  # §6.1
    "flow_increasing",  # §6.2
    "capacity_flows",  # §6.1-6.2, Prop. 6.2.1, Thm 6.2.1, 6.1.3
    "capacity_geometry",  # §7
    "trainability_dissipation",  # §8.1.2
    "trainability_init",  # §8.1.3
    "trainability_born_dead",  # §8.1
    "trainability_skip",  # §8.2
    "control_risk",  # §9.1
    "control_mean_field",  # §9.1-9.2
    "flow_classification",  # §10, App. A.2, D
    "optimization_basics",  # App. A.1-A.2
    "flow_ring_dimension",  # §10.1
    "trainability_regions",  # App. C
    "capacity_reachability",  # App. C
    "train_network",  # the unit of sweeps
    "beyond_ftle",  # beyond the thesis: FTLE fields (Storm et al. 2024)
    "beyond_spectra",  # beyond the thesis: Jacobian spectra at initialization
    "beyond_complexity",  # beyond the thesis: local complexity during training
)

for _name in _ENTRY_MODULES:
    importlib.import_module(f"{__name__}.{_name}")
