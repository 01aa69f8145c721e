"""The run store: one folder per run and a SQLite index, so a finished run is never recomputed.

``Store(path)`` opens (or creates) a store; ``Store.run`` runs an experiment into it or reuses
the finished run with the same id; ``lookup``, ``get``, ``list``, ``load``, ``remove``,
``export_csv`` and ``check`` read and tend it. ``sweep`` runs an experiment over a grid of
config values (``expand_grid``) through the store, optionally in worker processes.
"""

from __future__ import annotations

from deepdyn.runs._index import RunInfo
from deepdyn.runs._store import Store, run_id
from deepdyn.runs._sweep import SweepItem, expand_grid, sweep

__all__ = ["RunInfo", "Store", "SweepItem", "expand_grid", "run_id", "sweep"]
