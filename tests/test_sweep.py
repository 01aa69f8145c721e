"""Sweeps: grid expansion, seeds, validation before running, reuse, failures, workers, the CLI."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
from typer.testing import CliRunner

from _toy_sweep import BATCHED, THREADS, TOY, batched, marks, threads, toy
from deepdyn import experiments
from deepdyn.cli import app
from deepdyn.runs import Store, expand_grid, plan, sweep


@pytest.fixture
def experiment():
    yield toy()
    experiments.unregister(TOY)


def test_expand_grid_product_and_values(experiment):
    configs = expand_grid(experiment, {"n": ["3", "4"], "scale": ["0.5", "1", "2"]})
    assert len(configs) == 6
    assert [(c.n, c.scale) for c in configs] == [
        (3, 0.5),
        (3, 1.0),
        (3, 2.0),
        (4, 0.5),
        (4, 1.0),
        (4, 2.0),
    ]
    assert all(isinstance(c.scale, float) for c in configs)
    quick = expand_grid(experiment, {"scale": ["2"]}, quick=True)
    assert [(c.n, c.scale) for c in quick] == [(5, 2.0)]


def test_expand_grid_seeds(experiment):
    configs = expand_grid(experiment, {"n": ["3", "4"]}, seeds=3)
    assert [(c.n, c.seed) for c in configs] == [(n, s) for n in (3, 4) for s in range(3)]


def test_seeds_need_a_seed_field(experiment):
    @dataclasses.dataclass(frozen=True)
    class NoSeed:
        n: int = 3

    entry = dataclasses.replace(experiment, id="toy-no-seed", config=NoSeed)
    with pytest.raises(ValueError, match='no config field "seed"'):
        expand_grid(entry, {}, seeds=2)
    with pytest.raises(ValueError, match="not both"):
        expand_grid(experiment, {"seed": ["1"]}, seeds=2)


@pytest.mark.parametrize(
    ("grid", "match"),
    [
        ({"nope": ["1"]}, 'config key "nope" unknown'),
        ({"n": ["3", "x"]}, 'config key "n" expects int'),
        ({"n": ["3", "0"]}, "n must be at least 1"),
    ],
)
def test_bad_grid_raises_before_running(experiment, tmp_path, grid, match):
    store = Store(tmp_path / "store")
    with pytest.raises(ValueError, match=match):
        sweep(experiment, grid, store=store)
    assert store.list() == []


def test_rerun_reuses_and_failure_does_not_stop_others(experiment, tmp_path):
    store = Store(tmp_path / "store")
    seen: list[tuple[int, int]] = []
    grid = {"fail": ["false", "true"], "scale": ["1", "2"]}
    items = sweep(
        experiment, grid, store=store, quick=True, progress=lambda d, t, m: seen.append((d, t))
    )
    assert [i.status for i in items] == ["finished", "finished", "failed", "failed"]
    assert items[2].error == "RuntimeError: toy failure"
    assert items[0].numbers["mean"] != items[1].numbers["mean"]
    assert seen[-1] == (4, 4)
    statuses = {info.run_id: info.status for info in store.list()}
    assert statuses == {i.run_id: i.status for i in items}

    again = sweep(experiment, grid, store=store, quick=True)
    assert [i.status for i in again] == ["reused", "reused", "failed", "failed"]
    assert [i.numbers for i in again] == [i.numbers for i in items]
    forced = sweep(experiment, {"scale": ["1"]}, store=store, quick=True, force=True)
    assert [i.status for i in forced] == ["finished"]


def test_workers_give_the_same_numbers(experiment, tmp_path):
    grid = {"scale": ["1", "3"], "fail": ["false", "true"]}
    inline = sweep(experiment, grid, store=Store(tmp_path / "a"), quick=True)
    pooled = sweep(experiment, grid, store=Store(tmp_path / "b"), quick=True, workers=2)
    assert [i.status for i in pooled] == [i.status for i in inline]
    assert [i.numbers for i in pooled] == [i.numbers for i in inline]
    assert [i.run_id for i in pooled] == [i.run_id for i in inline]
    assert [
        i.status
        for i in sweep(experiment, grid, store=Store(tmp_path / "b"), quick=True, workers=2)
    ] == [
        "reused",
        "failed",
        "reused",
        "failed",
    ]


def test_cli_sweep(experiment, tmp_path):
    store = tmp_path / "store"
    args = ["sweep", TOY, "--quick", "--grid", "scale=1,2", "--grid", "fail=false,true"]
    result = CliRunner().invoke(
        app, [*args, "--seeds", "2", "--store", str(store)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "8 configs: 4 finished, 4 failed" in result.output
    assert "scale" in result.output and "toy failure" in result.output
    assert len(Store(store).list()) == 8


def test_cli_sweep_errors(experiment, tmp_path, capsys):
    from deepdyn.cli import main

    store = tmp_path / "store"
    for args, message in [
        (["--grid", "scale"], '--grid expects key=v1,v2,…, got "scale"'),
        (["--grid", "nope=1"], 'config key "nope" unknown'),
    ]:
        with pytest.raises(SystemExit) as exit_:
            main(["sweep", TOY, *args, "--store", str(store)])
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err
    assert not store.exists()


# ---------------------------------------------------------------- grouping into ensembles


@pytest.fixture
def batched_toy():
    yield batched()
    experiments.unregister(BATCHED)


def test_plan_groups_by_everything_but_the_batch_fields(batched_toy):
    configs = expand_grid(batched_toy, {"n": ["3", "4"]}, seeds=6)
    pairs = list(enumerate(configs))
    tasks = plan(batched_toy, pairs, group_size=64, workers=1)
    assert [[configs[i].seed for i, _ in t] for t in tasks] == [list(range(6))] * 2
    assert {configs[i].n for t in tasks for i, _ in t} == {3, 4}
    assert all(len({configs[i].n for i, _ in t}) == 1 for t in tasks)
    # at most group_size per task, in equal parts
    assert [len(t) for t in plan(batched_toy, pairs, group_size=4, workers=1)] == [3, 3, 3, 3]
    # enough tasks for the workers when there is work enough
    assert len(plan(batched_toy, pairs, group_size=64, workers=4)) == 4
    assert len(plan(batched_toy, pairs, group_size=1, workers=1)) == 12
    # an entry without a batch function: one config per task
    plain = toy()
    try:
        configs = expand_grid(plain, {"n": ["3"]}, seeds=5)
        assert len(plan(plain, list(enumerate(configs)), group_size=64, workers=1)) == 5
    finally:
        experiments.unregister(TOY)


def test_sweep_runs_each_group_as_one_batch_and_a_bad_seed_alone(batched_toy, tmp_path):
    folder = tmp_path / "marks"
    folder.mkdir()
    store = Store(tmp_path / "store")
    grid = {"n": ["3", "4"], "marks": [str(folder)], "fail_seed": ["2"]}
    items = sweep(batched_toy, grid, store=store, seeds=4)
    attempts = [seeds for seeds, _ in marks(folder)]
    # one batch per n; it fails (seed 2), so each of its seeds is tried alone
    assert sorted(map(tuple, attempts)) == sorted([(0, 1, 2, 3)] * 2 + [(s,) for s in range(4)] * 2)
    assert [i.status for i in items] == ["finished", "finished", "failed", "finished"] * 2
    assert all("toy failure at seed 2" in i.error for i in items if i.status == "failed")
    assert [i.status for i in store.list()].count("finished") == 6
    assert store.check() == []


def test_a_stored_folder_without_its_row_is_recovered_not_recomputed(batched_toy, tmp_path):
    folder = tmp_path / "marks"
    folder.mkdir()
    store = Store(tmp_path / "store")
    grid = {"marks": [str(folder)]}
    first = sweep(batched_toy, grid, store=store, seeds=3)
    store.index.delete(first[1].run_id)  # as if killed between the rename and the transaction
    assert len(store.check()) == 1  # the folder has no row
    again = sweep(batched_toy, grid, store=store, seeds=3)
    assert [i.status for i in again] == ["reused", "recovered", "reused"]
    assert again[1].numbers == first[1].numbers
    assert len(marks(folder)) == 1  # computed once, in one batch
    assert store.check() == []


def test_grouped_training_is_bit_identical_to_single_runs(tmp_path):
    from deepdyn import experiments

    train = experiments.get("train")
    grid = {"steps": ["8"], "depth": ["4"], "samples": ["30"], "test_samples": ["20"]}
    grid["scale"] = ["0.5", "1.5"]
    grouped = Store(tmp_path / "grouped")
    items = sweep(train, grid, store=grouped, seeds=3, group_size=64)
    assert [i.status for i in items] == ["finished"] * 6
    alone = Store(tmp_path / "alone")
    arrays = []
    for item in items:
        a = grouped.load(item.run_id)
        b = alone.load(alone.run(train, item.config, figure=False).arrays_path.parent.name)
        assert set(a.data_vars) == set(b.data_vars)
        for name in a.data_vars:
            assert np.array_equal(a[name].values, b[name].values), name
        arrays.append(a["loss"].values)
    # different seeds (and scales) give different arrays
    assert len({v.tobytes() for v in arrays}) == len(arrays)


def _snapshot(root):
    return sorted(
        (str(p.relative_to(root)), p.read_bytes()) for p in root.rglob("*") if p.is_file()
    )


def test_cli_sweep_bad_stores_and_values_change_nothing(batched_toy, tmp_path, capsys):
    from deepdyn.cli import main

    good = tmp_path / "good"
    sweep(batched_toy, {}, store=Store(good), seeds=2)
    before = _snapshot(good)
    file_store = tmp_path / "file"
    file_store.write_text("x")
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "index.sqlite").write_bytes(b"not a database\n" * 20)
    cases = [
        (["--store", str(good), "--grid", "n=three"], 'config key "n" expects int, got "three"'),
        (["--store", str(good), "--grid", "nope=1"], 'config key "nope" unknown'),
        (["--store", str(good), "--seeds", "0"], "seeds must be at least 1"),
        (["--store", str(file_store)], "is a file: pass a folder with --store"),
        (["--store", "/proc/deepdyn-store"], "cannot be created"),
        (["--store", str(corrupt)], "is not a SQLite database: move it aside"),
    ]
    for args, message in cases:
        with pytest.raises(SystemExit) as exit_:
            main(["sweep", BATCHED, *args])
        assert exit_.value.code == 2, args
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
    assert _snapshot(good) == before
    assert file_store.read_text() == "x"
    assert (corrupt / "index.sqlite").read_bytes() == b"not a database\n" * 20


def test_a_sweep_run_without_figure_gets_one_when_run_again(batched_toy, tmp_path):
    store = Store(tmp_path / "store")
    (item,) = sweep(batched_toy, {}, store=store, seeds=1)
    figure = store.folder(item.run_id) / "figure.png"
    assert not figure.exists() and store.check() == []
    arrays = (store.folder(item.run_id) / "arrays.nc").read_bytes()
    result = store.run(batched_toy, item.config)  # reused, not recomputed
    assert result.figure_path == figure and figure.stat().st_size > 0
    assert (store.folder(item.run_id) / "arrays.nc").read_bytes() == arrays


def test_local_workers_get_their_share_of_the_cores(tmp_path):
    # cb64a17 promised cpu_count // workers torch threads per worker; the pool never passed them
    experiment = threads()
    try:
        items = sweep(
            experiment, {}, seeds=2, store=Store(tmp_path / "store"), workers=2, group_size=1
        )
    finally:
        experiments.unregister(THREADS)
    expected = max(1, (os.cpu_count() or 1) // 2)
    assert [item.numbers["threads"] for item in items] == [expected, expected]
