"""The run index: one SQLite table, one row per run (docs/design.md, "run store").

WAL mode, so readers never block the one writer; a finished run is recorded in one transaction.
Nothing here touches the run folders: that is ``_store.py``'s job.

Each call opens a connection and closes it, unless inside ``with index.session():`` (a sweep):
then one connection serves every call of that thread, which saves the open, the WAL set-up and
the checkpoint at close of every call (most of a small run's index cost); each call is still
its own transaction, committed before it returns.

Paths are never trusted from a row: a run's folder is always ``<store>/runs/<run_id>`` (the
``path`` column holds that relative path, for people reading the file), so a moved or copied store
reads and writes only inside itself, and a row whose id is not 16 hex digits is never followed.
``checksums`` holds the sha256 of each stored file, recorded when the run finishes; ``pid`` is the
process that claims a ``running`` row (with ``host``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

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
    "checksums",
    "pid",
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
    path       TEXT NOT NULL,
    checksums  TEXT,
    pid        INTEGER
)
"""
_ADDED = {"checksums": "TEXT", "pid": "INTEGER"}  # columns newer than the first stores
_RUN_ID = re.compile(r"^[0-9a-f]{16}$")


def valid_run_id(run_id: str) -> bool:
    """True when ``run_id`` looks like one deepdyn writes (16 lower-case hex digits)."""
    return isinstance(run_id, str) and bool(_RUN_ID.match(run_id))


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
    checksums: dict[str, str] = dataclasses.field(default_factory=dict)
    pid: int | None = None


_INSERT = (
    f"INSERT OR REPLACE INTO runs ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in _COLUMNS)})"
)


def _values(info: RunInfo) -> dict[str, Any]:
    """The row of ``info`` as SQL parameters (JSON text for the dict columns)."""
    values = dataclasses.asdict(info)
    values["config"] = json.dumps(info.config, sort_keys=True)
    values["metrics"] = json.dumps(info.metrics, sort_keys=True)
    values["path"] = f"runs/{info.run_id}"
    values["checksums"] = json.dumps(info.checksums, sort_keys=True)
    return values


def _info(row: sqlite3.Row, root: Path) -> RunInfo:
    # a read-only store of an older schema lacks the new columns (``in row`` tests values)
    extra = "pid" in row.keys()  # noqa: SIM118
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
        path=root / "runs" / row["run_id"],  # never the stored path: see the module docstring
        checksums=json.loads(row["checksums"]) if extra and row["checksums"] else {},
        pid=row["pid"] if extra else None,
    )


class Index:
    """The SQLite file ``path``; refuses (without touching it) a file that is not a database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.root = path.parent
        self._session: sqlite3.Connection | None = None  # see ``session``
        self._owner: int | None = None  # the thread that opened it
        self._depth = 0
        if path.exists():
            with path.open("rb") as f:
                head = f.read(len(_HEADER))
            if head and head != _HEADER:
                raise ValueError(self._corrupt())
        # a store on a read-only medium (or without write permission) can still be read
        self.readonly = path.exists() and not (
            os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
        )
        try:
            with self._connect() as db:
                if not self.readonly:
                    db.execute(_SCHEMA)
                have = {r["name"] for r in db.execute("PRAGMA table_info(runs)")}
                for name, kind in _ADDED.items():
                    if name not in have and not self.readonly:
                        db.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")
        except sqlite3.DatabaseError as error:
            raise ValueError(f"{self._corrupt()} ({error})") from None

    def _corrupt(self) -> str:
        return (
            f'run index "{self.path}" is not a SQLite database: move it aside '
            f'(mv "{self.path}" "{self.path}.bad") and run again; '
            "the run folders are kept and deepdyn runs check lists them"
        )

    def _open(self, isolation_level: Literal["DEFERRED"] | None = "DEFERRED") -> sqlite3.Connection:
        if self.readonly:  # nothing writes it: no WAL files to create, no locks to take
            uri = f"{self.path.resolve().as_uri()}?immutable=1"
            db = sqlite3.connect(uri, timeout=30.0, uri=True)
        else:
            db = sqlite3.connect(self.path, timeout=30.0, isolation_level=isolation_level)
        db.row_factory = sqlite3.Row
        if not self.readonly:
            db.execute("PRAGMA journal_mode=WAL")
        return db

    def _shared(self) -> sqlite3.Connection | None:
        """The session's connection when this thread opened it, else None."""
        if self._session is not None and self._owner == threading.get_ident():
            return self._session
        return None

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Serve every call of this thread with one connection until the block ends (nested
        sessions share it). Transactions stay per call; other threads and processes are
        unaffected."""
        if self._session is not None and self._owner == threading.get_ident():
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        if self._session is not None:  # another thread's session: this one opens per call
            yield
            return
        self._session, self._owner, self._depth = self._open(), threading.get_ident(), 1
        try:
            yield
        finally:
            db, self._session, self._owner, self._depth = self._session, None, None, 0
            if db is not None:
                db.close()

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        shared = self._shared()
        db = shared if shared is not None else self._open()
        try:
            with db:  # one transaction: committed on success, rolled back on error
                yield db
        finally:
            if shared is None:
                db.close()

    def put(self, info: RunInfo) -> None:
        """Insert or replace the row ``info.run_id``."""
        self.put_many([info])

    def put_many(self, infos: list[RunInfo]) -> None:
        """Insert or replace the rows ``infos``, in one transaction (all or none)."""
        with self._connect() as db:
            db.executemany(_INSERT, [_values(info) for info in infos])

    def finish(
        self, run_id: str, metrics: dict[str, float], ended: str, checksums: dict[str, str]
    ) -> None:
        """Mark ``run_id`` finished with its numbers and file checksums, in one transaction."""
        with self._connect() as db:
            db.execute(
                "UPDATE runs SET status = 'finished', metrics = ?, ended = ?, error = NULL, "
                "checksums = ?, pid = NULL WHERE run_id = ?",
                (
                    json.dumps(metrics, sort_keys=True),
                    ended,
                    json.dumps(checksums, sort_keys=True),
                    run_id,
                ),
            )

    def claim(self, info: RunInfo, taken: Callable[[RunInfo], bool]) -> RunInfo | None:
        """Write the ``running`` row ``info`` unless ``taken(row)`` says the stored row is held.

        One immediate transaction: of processes claiming one id at once, exactly one wins; the
        others get the holder's row back (None means ``info`` was written). A stored finished
        row keeps its checksums, so a killed ``--force`` can still recover its old folder.
        """
        return self.claim_many([info], taken)[0]

    def claim_many(
        self, infos: list[RunInfo], taken: Callable[[RunInfo], bool]
    ) -> list[RunInfo | None]:
        """``claim`` for each of ``infos``, all in one immediate transaction (a sweep claims its
        configs at once: one commit instead of one per config); a holder's row or None each."""
        shared = self._shared()
        db = shared if shared is not None else self._open(isolation_level=None)
        level = db.isolation_level
        try:
            db.isolation_level = None  # BEGIN IMMEDIATE by hand: no implicit transaction
            db.execute("BEGIN IMMEDIATE")
            holders: list[RunInfo | None] = []
            for info in infos:
                row = db.execute("SELECT * FROM runs WHERE run_id = ?", (info.run_id,)).fetchone()
                held = None if row is None else _info(row, self.root)
                if held is not None and taken(held):
                    holders.append(held)
                    continue
                if held is not None and held.checksums and not info.checksums:
                    info = dataclasses.replace(info, checksums=held.checksums)
                db.execute(_INSERT, _values(info))
                holders.append(None)
            db.execute("COMMIT")
            return holders
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.isolation_level = level
            if shared is None:
                db.close()

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
        return None if row is None else _info(row, self.root)

    def get_many(self, run_ids: list[str]) -> dict[str, RunInfo]:
        """The rows of ``run_ids`` that exist, by id, read in one query per 500 ids."""
        found: dict[str, RunInfo] = {}
        with self._connect() as db:
            for start in range(0, len(run_ids), 500):
                chunk = run_ids[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                sql = f"SELECT * FROM runs WHERE run_id IN ({marks})"
                found.update({r["run_id"]: _info(r, self.root) for r in db.execute(sql, chunk)})
        return found

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
        return [_info(r, self.root) for r in rows if valid_run_id(r["run_id"])]

    def invalid_ids(self) -> list[str]:
        """Ids of rows no deepdyn wrote (not 16 hex digits): never followed, reported by check."""
        with self._connect() as db:
            rows = db.execute("SELECT run_id FROM runs").fetchall()
        return [r["run_id"] for r in rows if not valid_run_id(r["run_id"])]

    def delete(self, run_id: str) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
