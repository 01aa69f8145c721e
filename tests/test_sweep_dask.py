"""Sweeps on a real Dask cluster (distributed.LocalCluster, 2 worker processes)."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

import pytest
from distributed import Client, LocalCluster

from _toy_sweep import BATCHED, batched, marks
from deepdyn import experiments
from deepdyn.cli import main
from deepdyn.runs import Store, sweep


@pytest.fixture
def batched_toy():
    yield batched()
    experiments.unregister(BATCHED)


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.CRITICAL,
    ) as local:
        yield local


def _pids(cluster) -> set[int]:
    with Client(cluster.scheduler_address) as client:
        return set(client.run(os.getpid).values())


def test_dask_sweep_stores_every_config_once(batched_toy, cluster, tmp_path):
    store = Store(tmp_path / "store")
    items = sweep(
        batched_toy, {"n": ["3", "5"]}, store=store, seeds=3, cluster=cluster.scheduler_address
    )
    assert [i.status for i in items] == ["finished"] * 6
    assert len(store.list(status="finished")) == 6
    again = sweep(
        batched_toy, {"n": ["3", "5"]}, store=store, seeds=3, cluster=cluster.scheduler_address
    )
    assert [i.status for i in again] == ["reused"] * 6
    assert store.check() == []


def test_killing_a_worker_mid_sweep_loses_no_result(batched_toy, cluster, tmp_path):
    folder = tmp_path / "marks"
    folder.mkdir()
    store = Store(tmp_path / "store")
    workers = _pids(cluster)
    assert len(workers) == 2
    killed: dict[str, object] = {}

    def kill_a_busy_worker() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            for seeds, pid in marks(folder):
                if pid in workers:  # a worker has started this batch and sleeps in it
                    os.kill(pid, signal.SIGKILL)
                    killed.update(pid=pid, seeds=seeds)
                    return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    grid = {"delay": ["2.0"], "marks": [str(folder)]}
    items = sweep(
        batched_toy,
        grid,
        store=store,
        seeds=6,
        group_size=2,
        cluster=cluster.scheduler_address,
    )
    killer.join()
    assert killed, "no worker was killed"
    # every config finished exactly once, the killed batch included
    assert [i.status for i in items] == ["finished"] * 6
    rows = store.list()
    assert len(rows) == 6 and all(r.status == "finished" for r in rows)
    attempts = marks(folder)
    retried = [pid for seeds, pid in attempts if seeds == killed["seeds"]]
    assert len(retried) == 2 and killed["pid"] in retried  # killed there, run again elsewhere
    assert store.check() == []


def test_an_unreachable_cluster_is_one_line_and_changes_nothing(batched_toy, tmp_path, capsys):
    store = Store(tmp_path / "store")
    sweep(batched_toy, {}, store=store, seeds=2)
    before = sorted(
        (p.relative_to(store.path), p.stat().st_mtime_ns) for p in store.path.rglob("*")
    )
    index = (store.path / "index.sqlite").read_bytes()
    args = ["sweep", BATCHED, "--seeds", "4", "--store", str(store.path)]
    for cluster, message in [
        ("tcp://127.0.0.1:1", "cluster tcp://127.0.0.1:1 unreachable"),
        ("127.0.0.1:8786", "give the scheduler as tcp://HOST:PORT"),
    ]:
        with pytest.raises(SystemExit) as exit_:
            main([*args, "--cluster", cluster])
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and err.count("\n") == 1
    after = sorted((p.relative_to(store.path), p.stat().st_mtime_ns) for p in store.path.rglob("*"))
    assert after == before
    assert (store.path / "index.sqlite").read_bytes() == index


def test_a_worker_killed_twice_never_reruns_delivered_work(batched_toy, cluster, tmp_path):
    # issue 17: Dask kept finished futures to the end, so a dead worker's delivered results
    # were recomputed and their folders rewritten after their rows were recorded
    folder = tmp_path / "marks"
    folder.mkdir()
    store = Store(tmp_path / "store")
    seen: dict[str, int] = {}  # run id -> arrays.nc mtime when first seen finished
    finished_at_kill: list[set[int]] = []
    killed: list[int] = []

    def finished_seeds() -> set[int]:
        rows = Store(store.path).list(status="finished")
        for info in rows:
            seen.setdefault(info.run_id, (info.path / "arrays.nc").stat().st_mtime_ns)
        return {info.config["seed"] for info in rows}

    def kill_twice() -> None:
        deadline = time.monotonic() + 180
        while len(killed) < 2 and time.monotonic() < deadline:
            done = finished_seeds()
            if len(done) >= 2 * (len(killed) + 1):
                busy = [
                    pid
                    for seeds, pid in marks(folder)
                    if not set(seeds) & done and pid not in killed
                ]
                if busy:
                    os.kill(busy[-1], signal.SIGKILL)
                    killed.append(busy[-1])
                    finished_at_kill.append(done)
            time.sleep(0.02)

    killer = threading.Thread(target=kill_twice)
    killer.start()
    items = sweep(
        batched_toy,
        {"delay": ["1.0"], "marks": [str(folder)]},
        store=store,
        seeds=10,
        group_size=1,
        cluster=cluster.scheduler_address,
    )
    killer.join()
    assert len(killed) == 2, "the workers were not killed twice"
    assert [i.status for i in items] == ["finished"] * 10
    attempts = [seeds[0] for seeds, _ in marks(folder)]
    for done in finished_at_kill:  # what was delivered before a kill ran exactly once
        assert all(attempts.count(seed) == 1 for seed in done), (done, attempts)
    finished_seeds()
    for info in store.list():  # and no folder was rewritten after its row was recorded
        assert (info.path / "arrays.nc").stat().st_mtime_ns == seen[info.run_id]
    assert store.check() == []


def test_a_silent_port_and_a_missing_port_are_one_line(batched_toy, tmp_path, capsys):
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections (the kernel does) and never answers
    port = listener.getsockname()[1]
    args = ["sweep", BATCHED, "--seeds", "2", "--store", str(tmp_path / "store")]
    try:
        for cluster, message in [
            (f"tcp://127.0.0.1:{port}", "did not answer within 10 s"),
            ("tcp://127.0.0.1", "has no host or port: give the scheduler as tcp://HOST:PORT"),
            ("tls://127.0.0.1:8786", "uses TLS: pass --tls-ca-file and --tls-cert"),
        ]:
            with pytest.raises(SystemExit) as exit_:
                main([*args, "--cluster", cluster])
            assert exit_.value.code == 2
            err = capsys.readouterr().err
            assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
    finally:
        listener.close()
    assert Store(tmp_path / "store").list() == []
