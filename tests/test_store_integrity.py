"""The store checks what it reads: moved and copied stores, damaged and edited files, a lost
index, a SIGKILLed ``--force``, concurrent runs of one config, read-only stores (issue 17,
items 1 and 2).

Everything is real: SQLite files, folders moved with ``shutil.move``, processes killed with
SIGKILL, ``deepdyn`` commands in their own processes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import xarray as xr
from typer.testing import CliRunner

from _toy_sweep import BATCHED, TOY, BatchedConfig, ToySweepConfig, batched, marks, toy
from deepdyn import experiments
from deepdyn.cli import app
from deepdyn.runs import Store

ROOT = Path(__file__).resolve().parents[1]
ENV = {
    **os.environ,
    "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT / 'tests'}",
    "COLUMNS": "200",
}
# a `deepdyn` command that knows the toy entries (the catalogue does not)
COMMAND = [
    sys.executable,
    "-c",
    "import sys, _toy_sweep; _toy_sweep.toy(); _toy_sweep.batched(); "
    "from deepdyn.cli import main; main(sys.argv[1:])",
]


@pytest.fixture
def experiment():
    yield toy()
    experiments.unregister(TOY)


@pytest.fixture
def slow_toy():
    yield batched()
    experiments.unregister(BATCHED)


def _computed(store: Store, experiment, config) -> str:
    return store.run(experiment, config, figure=False).arrays_path.parent.name


def _calls(folder: Path) -> int:
    return len(marks(folder)) if folder.is_dir() else 0


# ---------------------------------------------------------------- moved, copied, tampered


def test_a_moved_store_reuses_its_runs_and_stays_clean(slow_toy, tmp_path):
    config = BatchedConfig(marks=str(tmp_path / "marks"))
    (tmp_path / "marks").mkdir()
    store = Store(tmp_path / "store")
    rid = _computed(store, slow_toy, config)
    shutil.move(tmp_path / "store", tmp_path / "moved")
    moved = Store(tmp_path / "moved")
    result = moved.run(slow_toy, config)  # draws the figure: into the moved store
    assert _calls(tmp_path / "marks") == 1
    assert result.figure_path == tmp_path / "moved" / "runs" / rid / "figure.png"
    assert result.figure_path.is_file()
    assert moved.load(rid)["y"].size == 4
    assert moved.check() == []
    assert not (tmp_path / "store").exists()


def test_a_copied_store_writes_only_inside_itself(experiment, tmp_path):
    store = Store(tmp_path / "store")
    rid = _computed(store, experiment, ToySweepConfig())
    shutil.copytree(tmp_path / "store", tmp_path / "copy", symlinks=True)
    before = sorted(p.relative_to(tmp_path / "store") for p in (tmp_path / "store").rglob("*"))
    result = CliRunner().invoke(
        app, ["runs", "show", rid, "--store", str(tmp_path / "copy"), "--figure"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "copy" / "runs" / rid / "figure.png").is_file()
    after = sorted(p.relative_to(tmp_path / "store") for p in (tmp_path / "store").rglob("*"))
    assert after == before  # nothing written into the original


def test_a_tampered_row_path_is_never_followed(experiment, tmp_path):
    store = Store(tmp_path / "store")
    a = _computed(store, experiment, ToySweepConfig(scale=1.0))
    b = _computed(store, experiment, ToySweepConfig(scale=5.0))
    outside = tmp_path / "outside"
    shutil.copytree(store.folder(b), outside)
    with sqlite3.connect(store.path / "index.sqlite") as db:
        db.execute("UPDATE runs SET path = ? WHERE run_id = ?", (str(outside), a))
        db.execute(
            "INSERT INTO runs SELECT '../../outside', experiment, status, config, metrics, error,"
            " started, ended, host, path, checksums, pid FROM runs WHERE run_id = ?",
            (b,),
        )
    assert float(store.load(a)["y"].mean()) == pytest.approx(0.5, abs=0.05)  # a's own arrays
    assert store.get(a).path == store.path / "runs" / a
    assert [i.run_id for i in store.list()] == sorted([a, b], key=[a, b].index)
    with pytest.raises(ValueError, match="not found"):
        store.get("../../outside")
    (problem,) = store.check()
    assert "'../../outside' has an id deepdyn never writes" in problem
    assert any("dropped" in line for line in store.repair())
    assert store.check() == []


# ---------------------------------------------------------------- damaged and edited files


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_damaged_arrays_are_recomputed_not_reused(slow_toy, tmp_path, damage):
    (tmp_path / "marks").mkdir()
    config = BatchedConfig(marks=str(tmp_path / "marks"))
    store = Store(tmp_path / "store")
    rid = _computed(store, slow_toy, config)
    arrays = store.folder(rid) / "arrays.nc"
    data = arrays.read_bytes()
    arrays.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"\x89HDF" * 500)

    (problem,) = store.check()
    assert f'run "{rid}" is damaged: arrays.nc changed since the run finished' in problem
    assert store.lookup(BATCHED, config) is None
    with pytest.raises(ValueError, match=f'run "{rid}" is damaged') as info:
        store.load(rid)
    assert "\n" not in str(info.value)
    for _ in range(2):  # without a figure, then with one drawn before the damage
        shown = CliRunner().invoke(
            app, ["runs", "show", rid, "--store", str(store.path), "--figure"]
        )
        assert shown.exit_code != 0 and isinstance(shown.exception, ValueError)
        (store.folder(rid) / "figure.png").write_bytes(b"png drawn before the damage")

    again = store.run(slow_toy, config, figure=False)  # recomputed, not reused
    assert _calls(tmp_path / "marks") == 2
    xr.load_dataset(again.arrays_path, engine="netcdf4")
    assert store.check() == []


def test_an_edited_config_is_caught_with_and_without_checksums(experiment, tmp_path):
    store = Store(tmp_path / "store")
    rid = _computed(store, experiment, ToySweepConfig(n=3))
    path = store.folder(rid) / "config.json"
    record = json.loads(path.read_text())
    record["config"]["n"] = 5
    path.write_text(json.dumps(record, indent=2) + "\n")
    (problem,) = store.check()
    assert "config.json changed since the run finished" in problem
    with sqlite3.connect(store.path / "index.sqlite") as db:  # a row from before checksums
        db.execute("UPDATE runs SET checksums = NULL")
    (problem,) = store.check()
    assert f"config.json does not belong to run {rid}" in problem
    assert store.lookup(TOY, ToySweepConfig(n=3)) is None


@pytest.mark.parametrize("name", ["config.json", "numbers.json"])
def test_unparsable_json_is_reported(experiment, tmp_path, name):
    store = Store(tmp_path / "store")
    rid = _computed(store, experiment, ToySweepConfig())
    with sqlite3.connect(store.path / "index.sqlite") as db:
        db.execute("UPDATE runs SET checksums = NULL")
    (store.folder(rid) / name).write_text("{not json")
    (problem,) = store.check()
    assert f"{name} is unreadable" in problem


# ---------------------------------------------------------------- lost index, repair


def test_a_lost_index_is_rebuilt_from_the_folders(slow_toy, tmp_path):
    (tmp_path / "marks").mkdir()
    store = Store(tmp_path / "store")
    configs = [BatchedConfig(seed=s, marks=str(tmp_path / "marks")) for s in range(3)]
    rows = {_computed(store, slow_toy, c): c for c in configs}
    numbers = {rid: store.get(rid).metrics for rid in rows}
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store.path / 'index.sqlite'}{suffix}").unlink(missing_ok=True)

    fresh = Store(store.path)
    problems = fresh.check()
    assert len(problems) == 3
    assert all("complete run without a row" in p and "rm -r" not in p for p in problems)
    result = CliRunner().invoke(app, ["runs", "check", "--repair", "--store", str(store.path)])
    assert result.exit_code == 0, result.output
    assert result.output.count("repaired: recorded run") == 3
    assert result.output.strip().endswith("clean")
    assert {i.run_id: i.metrics for i in fresh.list(status="finished")} == numbers
    for config in configs:
        fresh.run(slow_toy, config, figure=False)
    assert _calls(tmp_path / "marks") == 3  # reused, not recomputed


def test_a_killed_run_with_complete_files_is_recovered_not_recomputed(experiment, tmp_path):
    store = Store(tmp_path / "store")
    rid = _computed(store, experiment, ToySweepConfig())
    with sqlite3.connect(store.path / "index.sqlite") as db:  # killed after the rename
        db.execute("UPDATE runs SET status = 'running', pid = 999999999")
    (problem,) = store.check()
    assert "was stopped after its files were complete: deepdyn runs check --repair" in problem
    assert "rm" not in problem
    assert store.lookup(TOY, ToySweepConfig()) is None
    assert store.run(experiment, ToySweepConfig(), figure=False).arrays_path.parent.name == rid
    assert store.get(rid).status == "finished" and store.check() == []


def _wait_for(predicate, what: str, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit  # a safety net against hanging, not a timed assertion
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def test_sigkill_during_force_recovers_the_old_run(slow_toy, tmp_path):
    (tmp_path / "marks").mkdir()
    config = BatchedConfig(delay=3.0, marks=str(tmp_path / "marks"))
    store = Store(tmp_path / "store")
    rid = _computed(store, slow_toy, config)
    args = ["run", BATCHED, "--set", "delay=3", "--set", f"marks={tmp_path / 'marks'}"]
    args += ["--store", str(store.path), "--out", str(tmp_path / "out"), "--force"]
    process = subprocess.Popen([*COMMAND, *args], env=ENV, start_new_session=True)
    _wait_for(lambda: _calls(tmp_path / "marks") == 2, "the forced run to start computing")
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert store.get(rid).status == "running"
    (problem,) = store.check()
    assert "was stopped after its files were complete" in problem
    store.run(slow_toy, config, figure=False)  # recovers the old, complete folder
    assert _calls(tmp_path / "marks") == 2
    assert store.get(rid).status == "finished" and store.check() == []


def test_three_concurrent_runs_of_one_config_compute_it_once(slow_toy, tmp_path):
    (tmp_path / "marks").mkdir()
    store_path = tmp_path / "store"
    Store(store_path)
    args = ["run", BATCHED, "--set", "delay=4", "--set", f"marks={tmp_path / 'marks'}"]
    args += ["--store", str(store_path), "--out", str(tmp_path / "out")]
    processes = [
        subprocess.Popen(
            [*COMMAND, *args], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], [e[-800:] for _, e in outputs]
    assert _calls(tmp_path / "marks") == 1
    (info,) = Store(store_path).list()
    assert info.status == "finished"
    assert all(info.run_id in out for out, _ in outputs)


def test_a_dead_claimant_is_taken_over(experiment, tmp_path):
    store = Store(tmp_path / "store")
    store.run(experiment, ToySweepConfig(), figure=False)
    rid = store.list()[0].run_id
    shutil.rmtree(store.folder(rid))
    with sqlite3.connect(store.path / "index.sqlite") as db:  # a claimant that died
        db.execute("UPDATE runs SET status = 'running', pid = 999999999")
    store.run(experiment, ToySweepConfig(), figure=False)
    assert store.get(rid).status == "finished"


# ---------------------------------------------------------------- read-only stores


@contextlib.contextmanager
def _read_only(folder: Path):
    """``folder`` seen through a read-only bind mount (root), or with its write bits cleared."""
    if os.geteuid() != 0:
        paths = [folder, *folder.rglob("*")]
        for path in paths:
            path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield folder
        finally:
            for path in paths:
                path.chmod(0o755 if path.is_dir() else 0o644)
        return
    view = folder.with_name(folder.name + "-ro")
    view.mkdir()
    mount = subprocess.run(["mount", "--bind", "-o", "ro", str(folder), str(view)], check=False)
    if mount.returncode != 0:
        pytest.skip("root without mount: cannot make a read-only store here")
    try:
        yield view
    finally:
        subprocess.run(["umount", str(view)], check=True)


def test_a_read_only_store_can_be_listed_shown_and_checked(experiment, tmp_path):
    store = Store(tmp_path / "store")
    rid = _computed(store, experiment, ToySweepConfig())
    with _read_only(tmp_path / "store") as view:
        assert not os.access(view, os.W_OK)
        for args in (["runs", "list"], ["runs", "show", rid], ["runs", "check"]):
            done = subprocess.run(
                [*COMMAND, *args, "--store", str(view)],
                env=ENV, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
            assert rid in done.stdout or done.stdout.strip() == "clean"
        done = subprocess.run(
            [*COMMAND, "run", TOY, "--store", str(view), "--out", str(tmp_path / "out")],
            env=ENV, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert (
            done.stderr.splitlines()[-1].startswith("error: store") and "read-only" in done.stderr
        )


def test_two_identical_sweeps_at_once_compute_each_config_once(slow_toy, tmp_path):
    (tmp_path / "marks").mkdir()
    store_path = tmp_path / "store"
    Store(store_path)
    args = ["sweep", BATCHED, "--grid", "delay=4", "--grid", f"marks={tmp_path / 'marks'}"]
    args += ["--seeds", "3", "--store", str(store_path)]
    processes = [
        subprocess.Popen(
            [*COMMAND, *args], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], [e[-800:] for _, e in outputs]
    assert sorted(s for seeds, _ in marks(tmp_path / "marks") for s in seeds) == [0, 1, 2]
    rows = Store(store_path).list()
    assert len(rows) == 3 and {r.status for r in rows} == {"finished"}
    assert Store(store_path).check() == []


def test_a_finish_written_after_the_look_is_reused_not_recomputed(slow_toy, tmp_path):
    """The race behind "three concurrent runs compute it once": a run looks (another process's
    row is running), that process finishes, then this one claims. The finish written since the
    look counts as taken, so the loop goes back and reuses it; a finish that was already there
    when it looked (a damaged run being redone) and a forced run do not stop the claim."""
    (tmp_path / "marks").mkdir()
    config = BatchedConfig(marks=str(tmp_path / "marks"))
    store = Store(tmp_path / "store")
    rid = _computed(store, slow_toy, config)
    done = store.index.get(rid)
    assert done is not None and done.status == "finished"
    running = dataclasses.replace(done, status="running", ended=None)
    assert store._taken(None, False, done)  # nothing seen, a finish now: reuse it
    assert store._taken(running, False, done)  # seen running, finished since: reuse it
    assert not store._taken(done, False, done)  # the same finish seen before: compute again
    assert not store._taken(None, True, done)  # --force computes again
    assert _calls(tmp_path / "marks") == 1
