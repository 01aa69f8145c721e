"""Runs: what the store runs (Experiment), the run store, and sweeps (docs/design.md, "run store").

``Store(path)`` opens (or creates) a store; ``Store.run`` runs an experiment into it or reuses
the finished run with the same id; ``lookup``, ``get``, ``list``, ``load``, ``draw``, ``remove``,
``export_csv`` and ``check`` read and tend it; ``network`` rebuilds a run's trained network.
``sweep`` runs an experiment over a grid of config values (``expand_grid``) through the store:
grouped into ensembles, inline, in local worker processes or on a Dask cluster.
"""

from __future__ import annotations

from deepdyn.runs._cluster import connect, probe, security
from deepdyn.runs._experiment import (
    Experiment,
    Progress,
    ProgressCounter,
    ProgressFactory,
    Result,
    copy_entry,
    deepdyn_version,
    make_config,
    run_experiment,
    write_run,
)
from deepdyn.runs._index import RunInfo
from deepdyn.runs._networks import keep_networks
from deepdyn.runs._store import Store, run_id
from deepdyn.runs._sweep import GROUP_SIZE, SweepItem, expand_grid, plan, sweep

__all__ = [
    "GROUP_SIZE",
    "Experiment",
    "Progress",
    "ProgressCounter",
    "ProgressFactory",
    "Result",
    "RunInfo",
    "Store",
    "SweepItem",
    "connect",
    "copy_entry",
    "deepdyn_version",
    "expand_grid",
    "keep_networks",
    "make_config",
    "plan",
    "probe",
    "run_experiment",
    "run_id",
    "security",
    "sweep",
    "write_run",
]
