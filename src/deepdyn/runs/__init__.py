"""Runs: what the store runs (Experiment), the run store, and sweeps (docs/design.md, "run store").

``Store(path)`` opens (or creates) a store; ``Store.run`` runs an experiment into it or reuses
the finished run with the same id; ``lookup``, ``get``, ``list``, ``load``, ``draw``, ``remove``,
``export_csv`` and ``check`` read and tend it; ``network`` rebuilds a run's trained network.
``open_store`` opens one that must exist (for reading), ``resolve`` finds a run by an id prefix,
``select`` filters runs by experiment, status and ``key=value``, ``compare`` puts runs side by
side; ``write_csv``, ``write_parquet`` and ``export_mlflow`` export them. ``sweep`` runs an
experiment over a grid of config values (``expand_grid``) through the store: grouped into
ensembles, inline, in local worker processes or on a Dask cluster.

Names load on first use (PEP 562), so that the light parts (the ``deepdyn`` command's help, the
store's defaults) import no xarray or torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# name -> the submodule that defines it
_LAZY = {
    "connect": "_cluster",
    "probe": "_cluster",
    "security": "_cluster",
    "Experiment": "_experiment",
    "Progress": "_experiment",
    "ProgressCounter": "_experiment",
    "ProgressFactory": "_experiment",
    "Result": "_experiment",
    "copy_entry": "_experiment",
    "deepdyn_version": "_experiment",
    "field_types": "_experiment",
    "make_config": "_experiment",
    "run_experiment": "_experiment",
    "type_name": "_experiment",
    "write_run": "_experiment",
    "write_csv": "_export",
    "write_parquet": "_export",
    "RunInfo": "_index",
    "export_mlflow": "_mlflow",
    "tracking_uri": "_mlflow",
    "keep_networks": "_networks",
    "compare": "_query",
    "format_value": "_query",
    "open_store": "_query",
    "resolve": "_query",
    "select": "_query",
    "varying": "_query",
    "Store": "_store",
    "run_id": "_store",
    "GROUP_SIZE": "_sweep",
    "SweepItem": "_sweep",
    "expand_grid": "_sweep",
    "plan": "_sweep",
    "sweep": "_sweep",
}

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


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
