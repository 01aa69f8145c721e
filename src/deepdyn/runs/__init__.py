"""Runs: what the store runs (Experiment), the run store, and sweeps (docs/design.md, "run store").

``Store(path)`` opens (or creates) a store; ``Store.run`` runs an experiment into it or reuses
the finished run with the same id; ``lookup``, ``get``, ``list``, ``load``, ``draw``, ``remove``,
``export_csv`` and ``check`` read and tend it; ``network`` rebuilds a run's trained network.
``open_store`` opens one that must exist (for reading), ``resolve`` finds a run by an id prefix,
``select`` filters runs by experiment, status and ``key=value``, ``compare`` puts runs side by
side; ``write_csv``, ``write_parquet`` and ``export_mlflow`` export them. ``sweep`` runs an
experiment over a grid of config values (``expand_grid``) through the store: grouped into
ensembles, inline, in local worker processes or on a Dask cluster.
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
    field_types,
    make_config,
    run_experiment,
    type_name,
    write_run,
)
from deepdyn.runs._export import write_csv, write_parquet
from deepdyn.runs._index import RunInfo
from deepdyn.runs._mlflow import export_mlflow, tracking_uri
from deepdyn.runs._networks import keep_networks
from deepdyn.runs._query import compare, format_value, open_store, resolve, select, varying
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
    "compare",
    "connect",
    "copy_entry",
    "deepdyn_version",
    "expand_grid",
    "export_mlflow",
    "field_types",
    "format_value",
    "keep_networks",
    "make_config",
    "open_store",
    "plan",
    "probe",
    "resolve",
    "run_experiment",
    "run_id",
    "security",
    "select",
    "sweep",
    "tracking_uri",
    "type_name",
    "varying",
    "write_csv",
    "write_parquet",
    "write_run",
]
