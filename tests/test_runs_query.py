"""Finding, comparing and exporting runs: ``deepdyn runs list / show / compare / export``.

A real SQLite store with real runs of a toy entry; the MLflow export is read back with MLflow's
own client, the Parquet file with pyarrow.
"""

from __future__ import annotations

import csv
import dataclasses

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from deepdyn import experiments
from deepdyn.cli import app, main
from deepdyn.experiments import Experiment
from deepdyn.runs import Store, resolve

TOY = "toy-query"


@dataclasses.dataclass(frozen=True)
class QueryConfig:
    width: int = 3
    data: str = "xor"
    lr: float = 0.01
    widths: tuple[int, ...] = (4, 2)
    fail: bool = False
    seed: int = 0


def _run(config: QueryConfig, progress):
    if config.fail:
        raise RuntimeError("toy failure")
    steps = np.arange(5)
    loss = config.lr * np.exp(-steps / (1 + config.width)) + config.seed
    return xr.Dataset(
        {"loss": ("step", loss), "y": ("sample", np.linspace(0, config.width, 4))},
        coords={"step": steps * 10},
    )


def _figure(ds: xr.Dataset):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot(ds["loss"].values)
    return fig


@pytest.fixture
def toy():
    experiment = experiments.register(
        Experiment(
            id=TOY,
            title="Toy query",
            reference="§0",
            caption="A curve.",
            config=QueryConfig,
            run=_run,
            figure=_figure,
            numbers=lambda ds: {
                "final_loss": float(ds["loss"][-1]),
                "test_accuracy_of_a_long_name": 0.987654,
            },
        )
    )
    yield experiment
    experiments.unregister(TOY)


@pytest.fixture
def runs(toy, tmp_path):
    """A store with four finished runs and one failed one; their ids in that order."""
    store = Store(tmp_path / "store")
    configs = [
        QueryConfig(),
        QueryConfig(width=5),
        QueryConfig(data="moons"),
        QueryConfig(data="moons", width=5, lr=0.1),
    ]
    ids = [store.run(toy, c).arrays_path.parent.name for c in configs]
    with pytest.raises(RuntimeError):
        store.run(toy, QueryConfig(fail=True))
    failed = next(i for i in store.list() if i.status == "failed")
    return store, [*ids, failed.run_id]


def _invoke(*args: str, columns: int = 200):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns)})


def _error(capsys, *args: str) -> str:
    """Run ``deepdyn ARGS`` as the command does; its one ``error:`` line (exit 2, no traceback)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


# ---------------------------------------------------------------- reading never creates a store


@pytest.mark.parametrize(
    "args",
    [
        ["runs", "list"],
        ["runs", "show", "abc"],
        ["runs", "compare", "a", "b"],
        ["runs", "export", "--csv", "x.csv"],
        ["runs", "check"],
        ["runs", "rm", "abc"],
    ],
)
def test_read_commands_refuse_a_missing_store(tmp_path, args, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    text = _error(capsys, *args, "--store", "nostore")
    assert 'no run store at "nostore" (the folder does not exist)' in text
    assert not (tmp_path / "nostore").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_folder_without_an_index_is_no_store(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    text = _error(capsys, "runs", "list", "--store", str(tmp_path / "empty"))
    assert "holds no index.sqlite nor runs/" in text
    assert list((tmp_path / "empty").iterdir()) == []


# ---------------------------------------------------------------- list


def test_list_shows_the_varying_fields_and_whole_numbers_at_80_columns(runs):
    store, _ids = runs
    result = _invoke("runs", "list", "--store", str(store.path), columns=80)
    assert result.exit_code == 0, result.output
    assert "…" not in result.output  # nothing truncated
    header = result.output.split("┡")[0]  # the header rows
    for column in ("width", "data", "lr"):  # the config fields that vary
        assert column in header
    assert "widths" not in header and "seed" not in header  # the same in every run
    body = result.output.split("┡")[1].splitlines()[1:-1]
    numbers = "".join(line.split("│")[-2].strip() for line in body)  # the last column, unfolded
    assert numbers.count("test_accuracy_of_a_long_name=0.9877") == 4
    assert "final_loss=0.003679" in numbers and "RuntimeError: toy failure" not in numbers


def test_list_filters_by_key_value_experiment_and_status(runs):
    store, ids = runs
    s = str(store.path)
    moons = _invoke("runs", "list", "data=moons", "--store", s)
    assert moons.exit_code == 0, moons.output
    assert ids[2] in moons.output and ids[3] in moons.output
    assert ids[0] not in moons.output and ids[1] not in moons.output
    both = _invoke("runs", "list", "data=moons", "width=5", "lr=0.1", "--store", s)
    assert [i for i in ids if i in both.output] == [ids[3]]
    tuples = _invoke("runs", "list", "widths=4,2", "--status", "finished", "--store", s)
    assert [i for i in ids if i in tuples.output] == ids[:4]
    failed = _invoke("runs", "list", "--status", "failed", "--experiment", TOY, "--store", s)
    assert [i for i in ids if i in failed.output] == [ids[4]]
    assert "toy failure" in failed.output


def test_list_errors(runs, capsys):
    store, _ = runs
    s = str(store.path)
    text = _error(capsys, "runs", "list", "--experiment", "bogus", "--store", s)
    assert 'experiment "bogus" unknown: choose one of' in text and TOY in text and "train" in text
    text = _error(capsys, "runs", "list", "widht=3", "--store", s)
    assert 'filter key "widht" is no config field of these runs' in text and "width" in text
    text = _error(capsys, "runs", "list", "width", "--store", s)
    assert 'filter "width" must look like key=value' in text
    text = _error(capsys, "runs", "list", "width=3", "width=5", "--store", s)
    assert 'filter key "width" given twice' in text


# ---------------------------------------------------------------- prefixes, show, compare


def test_id_prefixes(runs):
    store, ids = runs
    for rid in ids:
        assert resolve(store, rid[:10]).run_id == rid
    shown = _invoke("runs", "show", ids[1][:6], "--store", str(store.path))
    assert shown.exit_code == 0, shown.output
    assert f"run {ids[1]}" in shown.output and "config.widths" in shown.output
    assert "4,2" in shown.output
    with pytest.raises(ValueError, match='run "zzzz" not found'):
        resolve(store, "zzzz")
    fake = [dataclasses.replace(store.get(ids[0]), run_id=p) for p in ("ab12", "ab34", "ab56")]
    with pytest.raises(ValueError) as info:
        resolve(store, "ab", fake)
    assert str(info.value) == (
        'run id "ab" is ambiguous: it starts 3 runs (ab12, ab34, ab56); type more of it'
    )


def test_compare_side_by_side(runs, capsys):
    store, ids = runs
    result = _invoke("runs", "compare", ids[0][:8], ids[3][:8], "--store", str(store.path))
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    assert set(lines) >= {"config.width", "config.data", "config.lr", "final_loss"}
    assert "config.seed" not in lines  # equal in both: only differences are shown
    cells = [c.strip() for c in lines["config.data"].split("│")[2:4]]
    assert cells == ["xor", "moons"]
    every = _invoke("runs", "compare", ids[0], ids[1], "--all", "--store", str(store.path))
    assert "config.seed" in every.output
    text = _error(capsys, "runs", "compare", ids[0], "--store", str(store.path))
    assert "compare needs at least two runs, got 1" in text


# ---------------------------------------------------------------- CSV and Parquet


def test_export_csv_one_column_per_field_with_filters(runs, tmp_path):
    store, ids = runs
    out = tmp_path / "moons.csv"
    result = _invoke("runs", "export", "data=moons", "--csv", str(out), "--store", str(store.path))
    assert result.exit_code == 0, result.output
    assert "(2 runs)" in result.output
    rows = list(csv.DictReader(out.open()))
    assert [r["run_id"] for r in rows] == ids[2:4]
    assert [r["config.width"] for r in rows] == ["3", "5"]
    assert [r["config.widths"] for r in rows] == ["4,2", "4,2"]
    assert {r["config.data"] for r in rows} == {"moons"}
    assert float(rows[1]["final_loss"]) == store.get(ids[3]).metrics["final_loss"]
    assert "config" not in rows[0]  # no JSON column


def test_export_parquet_is_typed(runs, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    store, ids = runs
    out = tmp_path / "runs.parquet"
    result = _invoke("runs", "export", "--parquet", str(out), "--store", str(store.path))
    assert result.exit_code == 0, result.output
    table = pq.read_table(out).to_pydict()
    assert table["run_id"] == ids
    assert table["config.width"] == [3, 5, 3, 5, 3]
    assert table["config.lr"] == [0.01, 0.01, 0.01, 0.1, 0.01]
    assert table["config.fail"] == [False, False, False, False, True]
    assert table["status"] == ["finished"] * 4 + ["failed"]
    assert table["final_loss"][4] is None
    assert table["final_loss"][:4] == [store.get(i).metrics["final_loss"] for i in ids[:4]]


def test_export_needs_a_target(runs, capsys):
    store, _ = runs
    text = _error(capsys, "runs", "export", "--store", str(store.path))
    assert "give at least one of --csv FILE, --parquet FILE, --mlflow DIR|URI" in text


# ---------------------------------------------------------------- MLflow


def test_mlflow_export_read_back_with_mlflows_client(runs, tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    store, ids = runs
    target = tmp_path / "mlruns"
    s = str(store.path)
    first = _invoke("runs", "export", "data=xor", "--mlflow", str(target), "--store", s)
    assert first.exit_code == 0, first.output
    assert "3 runs exported, 0 already there" in first.output  # two finished, one failed
    again = _invoke("runs", "export", "--mlflow", str(target), "--store", s)
    assert again.exit_code == 0, again.output
    assert "2 runs exported, 3 already there" in again.output  # idempotent: only new runs
    third = _invoke("runs", "export", "--mlflow", str(target), "--store", s)
    assert "0 runs exported, 5 already there" in third.output

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    client = MlflowClient(tracking_uri=target.resolve().as_uri())
    experiment = client.get_experiment_by_name(TOY)
    found = client.search_runs([experiment.experiment_id], max_results=100)
    assert len(found) == 5
    by_id = {r.data.tags["deepdyn.run_id"]: r for r in found}
    assert set(by_id) == set(ids)

    run = by_id[ids[3]]
    info = store.get(ids[3])
    assert run.info.status == "FINISHED"
    assert run.data.params == {
        "width": "5", "data": "moons", "lr": "0.1", "widths": "4,2", "fail": "false", "seed": "0",
    }  # fmt: skip
    assert run.data.metrics["final_loss"] == pytest.approx(info.metrics["final_loss"])
    assert run.data.metrics["test_accuracy_of_a_long_name"] == pytest.approx(0.987654)
    curve = client.get_metric_history(run.info.run_id, "loss")
    stored = xr.load_dataset(info.path / "arrays.nc")
    assert [m.step for m in curve] == [0, 10, 20, 30, 40]
    assert [m.value for m in curve] == pytest.approx(stored["loss"].values.tolist())
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"figure.png", "arrays.nc", "config.json", "numbers.json"} <= artifacts

    failed = by_id[ids[4]]
    assert failed.info.status == "FAILED"
    assert "toy failure" in failed.data.tags["deepdyn.error"]
