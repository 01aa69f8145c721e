"""The run store: one folder per run and a SQLite index, so a finished run is never recomputed.

``Store(path)`` opens (or creates) a store; ``Store.run`` runs an experiment into it or reuses
the finished run with the same id; ``lookup``, ``get``, ``list``, ``load``, ``remove``,
``export_csv`` and ``check`` read and tend it.
"""

from __future__ import annotations

from deepdyn.runs._index import RunInfo
from deepdyn.runs._store import Store, run_id

__all__ = ["RunInfo", "Store", "run_id"]
