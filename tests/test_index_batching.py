"""The sweep's cheaper index paths keep the store's guarantees (benchmarks/sweep_overhead.py).

A sweep holds one SQLite connection (``Index.session``), claims its configs in one transaction
(``claim_many``), reads their rows in one query (``get_many``) and records a task's rows in one
transaction (``put_many``). Real SQLite files and real processes throughout.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading

import pytest

from _toy_sweep import TOY, ToySweepConfig, toy
from deepdyn import experiments
from deepdyn.runs import Store, run_id, sweep
from deepdyn.runs._index import RunInfo


@pytest.fixture
def experiment():
    yield toy()
    experiments.unregister(TOY)


def _live_pid() -> tuple[subprocess.Popen[bytes], int]:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    return process, process.pid


def test_claim_many_claims_the_free_and_returns_the_holders(experiment, tmp_path):
    store = Store(tmp_path / "store")
    configs = [ToySweepConfig(seed=s) for s in range(4)]
    process, pid = _live_pid()
    try:
        held = run_id(TOY, configs[2], _version())
        with sqlite3.connect(store.path / "index.sqlite") as db:  # another live process's claim
            db.execute(
                "INSERT INTO runs (run_id, experiment, status, config, started, host, path, pid) "
                "VALUES (?, ?, 'running', '{}', '2026-01-01T00:00:00+00:00', ?, ?, ?)",
                (held, TOY, socket.gethostname(), f"runs/{held}", pid),
            )
        holders = store.claim_many(experiment, configs)
        assert [h is None for h in holders] == [True, True, False, True]
        assert holders[2] is not None and holders[2].pid == pid
        rows = store.index.get_many([run_id(TOY, c, _version()) for c in configs])
        assert len(rows) == 4
        mine = [rows[run_id(TOY, c, _version())] for c in configs]
        assert [r.pid for r in mine] == [os.getpid(), os.getpid(), pid, os.getpid()]
        assert all(r.status == "running" for r in mine)
    finally:
        process.kill()
        process.wait()


def test_put_many_is_all_or_none(tmp_path):
    store = Store(tmp_path / "store")

    def row(rid: str, status: str) -> RunInfo:
        return RunInfo(
            rid, "x", status, {}, {}, None, "2026-01-01T00:00:00+00:00", None, "h",
            store.folder("0" * 16),
        )  # fmt: skip

    store.index.put_many([row("a" * 16, "failed"), row("b" * 16, "failed")])
    assert {i.run_id for i in store.list()} == {"a" * 16, "b" * 16}
    with pytest.raises(sqlite3.IntegrityError):  # the CHECK on status refuses the second row
        store.index.put_many([row("c" * 16, "failed"), row("d" * 16, "bogus")])
    assert {i.run_id for i in store.list()} == {"a" * 16, "b" * 16}


def test_a_session_shares_one_connection_and_commits_every_call(tmp_path):
    store = Store(tmp_path / "store")
    index = store.index
    seen = []
    with index.session():
        with index._connect() as first, index.session(), index._connect() as second:
            seen += [first, second]
        assert first is second  # nested sessions share it
        index.put_many([_failed(store, "e" * 16)])
        # committed at once: another connection (another process) sees the row
        with sqlite3.connect(store.path / "index.sqlite") as other:
            assert other.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
        # another thread does not use this thread's connection
        other_thread: list[object] = []

        def look() -> None:
            with index._connect() as db:
                other_thread.append(db)
            other_thread.append(index.get("e" * 16))

        worker = threading.Thread(target=look)
        worker.start()
        worker.join()
        assert other_thread[0] is not first and other_thread[1] is not None
    assert index._session is None
    with index._connect() as after:
        assert after is not first


def test_a_sweep_in_a_session_reuses_and_records_as_before(experiment, tmp_path):
    store = Store(tmp_path / "store")
    grid = {"scale": ["1.0", "2.0"]}
    first = sweep(experiment, grid, store=store, seeds=3, group_size=1)
    assert [i.status for i in first] == ["finished"] * 6
    again = sweep(experiment, grid, store=store, seeds=3, group_size=1)
    assert [i.status for i in again] == ["reused"] * 6
    assert [i.numbers for i in again] == [i.numbers for i in first]
    infos = store.list()
    assert len(infos) == 6 and all(i.checksums and i.pid is None for i in infos)
    assert all(store.damage(i) is None for i in infos)
    assert store.check() == []


def _failed(store: Store, rid: str) -> RunInfo:
    return RunInfo(
        rid, "x", "failed", {}, {}, "boom", "2026-01-01T00:00:00+00:00", None, "h",
        store.folder(rid),
    )  # fmt: skip


def _version() -> str:
    from deepdyn.runs import deepdyn_version

    return deepdyn_version()
