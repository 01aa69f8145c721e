"""The run store: ids, reuse, failures, check, bad paths, and the ``deepdyn runs`` commands."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from deepdyn import experiments
from deepdyn.cli import app
from deepdyn.experiments import Experiment, make_config
from deepdyn.runs import Store

TOY = "toy-runs"
SRC = Path(__file__).resolve().parents[1] / "src"
CALLS: list[int] = []


@dataclasses.dataclass(frozen=True)
class ToyConfig:
    n: int = 20
    scale: float = 1.0
    seed: int = 0


def _run(config: ToyConfig, progress):
    CALLS.append(config.n)
    if progress is not None:
        progress(1, 1, "computing")
    rng = np.random.default_rng(config.seed)
    return xr.Dataset(
        {
            "y": ("sample", config.scale * np.linspace(0.0, 1.0, config.n)),
            "noise": (("sample", "component"), rng.standard_normal((config.n, 2))),
        },
        coords={"sample": np.arange(config.n)},
    )


def _figure(ds: xr.Dataset):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot(ds["y"].values)
    return fig


@pytest.fixture
def toy():
    CALLS.clear()
    experiment = experiments.register(
        Experiment(
            id=TOY,
            title="Toy store",
            reference="§0",
            caption="A line.",
            config=ToyConfig,
            run=_run,
            figure=_figure,
            numbers=lambda ds: {"mean": float(ds["y"].mean())},
            quick={"n": 5},
        )
    )
    yield experiment
    experiments.unregister(TOY)


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "store")


# ---------------------------------------------------------------- running and reusing


def test_run_twice_computes_once(toy, store):
    first = store.run(toy, ToyConfig())
    second = store.run(toy, ToyConfig())
    assert CALLS == [20]
    assert second.numbers == first.numbers == pytest.approx({"mean": 0.5})
    assert second.arrays_path == first.arrays_path
    folder = first.arrays_path.parent
    assert folder.parent == store.path / "runs"
    for name in ("config.json", "arrays.nc", "figure.png", "numbers.json", "log.txt"):
        assert (folder / name).is_file(), name
    info = store.get(folder.name)
    assert info.status == "finished" and info.metrics == pytest.approx({"mean": 0.5})
    assert info.ended is not None and info.error is None
    assert store.lookup(TOY, ToyConfig()) == info
    assert list((store.path / "tmp").iterdir()) == []
    with sqlite3.connect(store.path / "index.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_force_recomputes(toy, store):
    first = store.run(toy, ToyConfig())
    again = store.run(toy, ToyConfig(), force=True)
    assert CALLS == [20, 20]
    assert again.arrays_path == first.arrays_path
    assert len(store.list()) == 1


def test_run_ids_follow_the_config(toy, store):
    a = store.run(toy, ToyConfig()).arrays_path.parent.name
    b = store.run(toy, ToyConfig(n=20, scale=1.0, seed=0)).arrays_path.parent.name
    c = store.run(toy, ToyConfig(seed=1)).arrays_path.parent.name
    d = store.run(toy, make_config(toy, quick=True)).arrays_path.parent.name
    assert a == b and len({a, c, d}) == 3 and len(a) == 16
    assert CALLS == [20, 20, 5]
    assert store.lookup(TOY, ToyConfig(seed=2)) is None
    assert [i.run_id for i in store.list(status="finished")] == [a, c, d]
    assert store.list(experiment="other") == []


def test_arrays_round_trip(toy, store):
    result = store.run(toy, ToyConfig(seed=3))
    loaded = store.load(result.arrays_path.parent.name)
    xr.testing.assert_equal(loaded[["y", "noise"]], _run(ToyConfig(seed=3), None))


def test_failed_run_is_recorded_without_a_folder(toy, store):
    def broken(config, progress):
        raise RuntimeError("solver diverged\nat step 3")

    with pytest.raises(RuntimeError, match="solver diverged"):
        store.run(dataclasses.replace(toy, run=broken), ToyConfig())
    (info,) = store.list()
    assert info.status == "failed"
    assert info.error == "RuntimeError: solver diverged at step 3"
    assert not info.path.exists()
    assert list((store.path / "runs").iterdir()) == []
    assert list((store.path / "tmp").iterdir()) == []
    assert store.lookup(TOY, ToyConfig()) is None
    assert store.check() == []


def test_remove_and_unknown_ids(toy, store):
    rid = store.run(toy, ToyConfig()).arrays_path.parent.name
    store.remove(rid)
    assert store.list() == [] and not store.folder(rid).exists()
    with pytest.raises(ValueError, match='run "abc" not found: see deepdyn runs list'):
        store.get("abc")
    with pytest.raises(ValueError, match="not found"):
        store.remove(rid)


def test_export_csv(toy, store, tmp_path):
    store.run(toy, ToyConfig())
    store.run(toy, ToyConfig(scale=2.0))
    rows = list(csv.DictReader(store.export_csv(tmp_path / "runs.csv").open()))
    assert sorted(float(r["mean"]) for r in rows) == pytest.approx([0.5, 1.0])
    assert {r["status"] for r in rows} == {"finished"}


# ---------------------------------------------------------------- check


def test_check_is_clean_then_finds_each_problem(toy, store):
    a = store.run(toy, ToyConfig()).arrays_path.parent
    b = store.run(toy, ToyConfig(seed=1)).arrays_path.parent
    assert store.check() == []

    stray = store.path / "runs" / "0123456789abcdef"
    stray.mkdir()

    shutil.rmtree(a)
    (b / "arrays.nc").write_bytes(b"not netcdf")
    leftover = store.path / "tmp" / f"feedfeedfeedfeed.999999999.{socket.gethostname()}"
    leftover.mkdir()

    problems = store.check()
    assert len(problems) == 4, problems
    text = "\n".join(problems)
    assert 'folder "runs/0123456789abcdef" has no row and is not a valid run' in text
    assert f'run "{a.name}" is finished but its folder' in text
    assert f'run "{b.name}" is damaged: arrays.nc changed since the run finished' in text
    assert f"deepdyn runs rm {b.name}" in text
    assert f'temporary folder "{leftover}" is left over' in text


def test_check_finds_a_stale_running_row(toy, store):
    def interrupted(config, progress):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.run(dataclasses.replace(toy, run=interrupted), ToyConfig())
    (info,) = store.list()
    assert info.status == "failed"  # an interrupt is recorded too
    with sqlite3.connect(store.path / "index.sqlite") as db:  # a process killed mid-run
        db.execute("UPDATE runs SET status = 'running'")
    (problem,) = store.check()
    assert "marked running but no process is writing it" in problem


# ---------------------------------------------------------------- bad stores


def test_store_path_that_is_a_file(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(ValueError) as info:
        Store(path)
    assert str(info.value) == f'store path "{path}" is a file: pass a folder with --store'


def test_corrupt_index_is_refused_untouched(tmp_path):
    (tmp_path / "s").mkdir()
    index = tmp_path / "s" / "index.sqlite"
    garbage = b"this is not a database\n" * 50
    index.write_bytes(garbage)
    with pytest.raises(ValueError) as info:
        Store(tmp_path / "s")
    message = str(info.value)
    assert "\n" not in message
    assert "is not a SQLite database: move it aside" in message
    assert index.read_bytes() == garbage
    assert sorted(p.name for p in index.parent.iterdir() if p.is_file()) == ["index.sqlite"]


# ---------------------------------------------------------------- command line


def _invoke(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def test_cli_run_reuses_and_runs_commands(toy, tmp_path):
    s, out = str(tmp_path / "store"), str(tmp_path / "out")
    for _ in range(2):
        result = _invoke("run", TOY, "--quick", "--store", s, "--out", out)
        assert result.exit_code == 0, result.output
    assert CALLS == [5]
    assert json.loads((tmp_path / "out" / TOY / "numbers.json").read_text()) == {"mean": 0.5}
    assert _invoke("run", TOY, "--quick", "--store", s, "--out", out, "--force").exit_code == 0
    assert CALLS == [5, 5]

    report = _invoke("reproduce", "--quick", "--only", TOY, "--store", s, "--out", out)
    assert report.exit_code == 0, report.output
    assert CALLS == [5, 5]
    assert '<img src="toy-runs/figure.png"' in (tmp_path / "out" / "index.html").read_text()

    (info,) = Store(s).list()
    listing = _invoke("runs", "list", "--store", s)
    assert listing.exit_code == 0 and info.run_id in listing.output and "finished" in listing.output
    shown = _invoke("runs", "show", info.run_id, "--store", s)
    assert shown.exit_code == 0 and "config.n" in shown.output and "mean" in shown.output
    checked = _invoke("runs", "check", "--store", s)
    assert checked.exit_code == 0 and checked.output.strip() == "clean"
    exported = _invoke("runs", "export", "--csv", str(tmp_path / "r.csv"), "--store", s)
    assert exported.exit_code == 0 and (tmp_path / "r.csv").is_file()

    (Path(s) / "runs" / "strayfolder").mkdir()
    checked = _invoke("runs", "check", "--store", s)
    assert checked.exit_code == 1 and "strayfolder" in checked.output

    removed = _invoke("runs", "rm", info.run_id, "--store", s)
    assert removed.exit_code == 0, removed.output
    assert Store(s).list() == []


def test_cli_store_from_the_environment(toy, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPDYN_STORE", str(tmp_path / "envstore"))
    result = _invoke("run", TOY, "--quick", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert len(Store(tmp_path / "envstore").list()) == 1


def test_cli_unknown_run_exits_2_in_a_process(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "200"}
    Store(tmp_path / "s")  # an empty store (a missing one is its own error)
    args = [sys.executable, "-m", "deepdyn.cli", "runs", "show", "abc", "--store", "s"]
    process = subprocess.run(args, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert process.returncode == 2, process.stderr
    assert "Traceback" not in process.stderr
    assert process.stderr == 'error: run "abc" not found: see deepdyn runs list\n'
