"""The run index: one SQLite table, one row per run (DESIGN.md, "run store").

WAL mode, so readers never block the one writer; a finished run is recorded in one transaction.
Nothing here touches the run folders: that is ``_store.py``'s job.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_HEADER = b"SQLite format 3\x00"
_COLUMNS = (
    "run_id",
    "experiment",
    "status",
    "config",
    "metrics",
    "error",
    "started",
    "ended",
    "host",
    "path",
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id     TEXT PRIMARY KEY,
    experiment TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed')),
    config     TEXT NOT NULL,
    metrics    TEXT,
    error      TEXT,
    started    TEXT NOT NULL,
    ended      TEXT,
    host       TEXT NOT NULL,
    path       TEXT NOT NULL
)
"""
STATUSES = ("running", "finished", "failed")


@dataclasses.dataclass(frozen=True)
class RunInfo:
    """One row of the index: what was run, how it ended, where its folder is."""

    run_id: str
    experiment: str
    status: str
    config: dict[str, Any]
    metrics: dict[str, float]
    error: str | None
    started: str
    ended: str | None
    host: str
    path: Path


def _info(row: sqlite3.Row) -> RunInfo:
    return RunInfo(
        run_id=row["run_id"],
        experiment=row["experiment"],
        status=row["status"],
        config=json.loads(row["config"]),
        metrics=json.loads(row["metrics"]) if row["metrics"] else {},
        error=row["error"],
        started=row["started"],
        ended=row["ended"],
        host=row["host"],
        path=Path(row["path"]),
    )


class Index:
    """The SQLite file ``path``; refuses (without touching it) a file that is not a database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.exists():
            with path.open("rb") as f:
                head = f.read(len(_HEADER))
            if head and head != _HEADER:
                raise ValueError(self._corrupt())
        try:
            with self._connect() as db:
                db.execute(_SCHEMA)
        except sqlite3.DatabaseError as error:
            raise ValueError(f"{self._corrupt()} ({error})") from None

    def _corrupt(self) -> str:
        return (
            f'run index "{self.path}" is not a SQLite database: move it aside '
            f'(mv "{self.path}" "{self.path}.bad") and run again; '
            "the run folders are kept and deepdyn runs check lists them"
        )

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30.0)
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            with db:  # one transaction: committed on success, rolled back on error
                yield db
        finally:
            db.close()

    def put(self, info: RunInfo) -> None:
        """Insert or replace the row ``info.run_id``."""
        values = dataclasses.asdict(info)
        values["config"] = json.dumps(info.config, sort_keys=True)
        values["metrics"] = json.dumps(info.metrics, sort_keys=True)
        values["path"] = str(info.path)
        with self._connect() as db:
            db.execute(
                f"INSERT OR REPLACE INTO runs ({', '.join(_COLUMNS)}) "
                f"VALUES ({', '.join(':' + c for c in _COLUMNS)})",
                values,
            )

    def finish(self, run_id: str, metrics: dict[str, float], ended: str) -> None:
        """Mark ``run_id`` finished with its numbers, in one transaction."""
        with self._connect() as db:
            db.execute(
                "UPDATE runs SET status = 'finished', metrics = ?, ended = ?, error = NULL "
                "WHERE run_id = ?",
                (json.dumps(metrics, sort_keys=True), ended, run_id),
            )

    def fail(self, run_id: str, error: str, ended: str) -> None:
        """Mark ``run_id`` failed with the one-line ``error``."""
        with self._connect() as db:
            db.execute(
                "UPDATE runs SET status = 'failed', error = ?, ended = ? WHERE run_id = ?",
                (error, ended, run_id),
            )

    def get(self, run_id: str) -> RunInfo | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return None if row is None else _info(row)

    def select(self, experiment: str | None = None, status: str | None = None) -> list[RunInfo]:
        """Rows, oldest first, filtered by experiment id and/or status."""
        where, args = [], []
        if experiment is not None:
            where.append("experiment = ?")
            args.append(experiment)
        if status is not None:
            where.append("status = ?")
            args.append(status)
        sql = "SELECT * FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._connect() as db:
            rows = db.execute(sql + " ORDER BY started, run_id", args).fetchall()
        return [_info(r) for r in rows]

    def delete(self, run_id: str) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
