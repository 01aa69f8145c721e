"""``--out``: a run never silently replaces another run's folder, and index.html always lists
exactly the entry folders there (issue: front door)."""

from __future__ import annotations

import dataclasses
import json
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr

from deepdyn import experiments
from deepdyn.cli import main
from deepdyn.experiments import Experiment

IDS = ("toy-out-a", "toy-out-b")


@dataclasses.dataclass(frozen=True)
class OutConfig:
    n: int = 20
    data: str = "xor"


def _run(config: OutConfig, progress):
    return xr.Dataset({"y": ("sample", np.linspace(0.0, 1.0, config.n) * config.n)})


def _figure(ds: xr.Dataset):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot(ds["y"].values)
    return fig


@pytest.fixture
def toys():
    made = [
        experiments.register(
            Experiment(
                id=i,
                title=f"Toy {i}",
                reference="§0",
                caption="A line.",
                config=OutConfig,
                run=_run,
                figure=_figure,
                numbers=lambda ds: {"top": float(ds["y"].max())},
                quick={"n": 5},
            )
        )
        for i in IDS
    ]
    yield made
    for i in IDS:
        experiments.unregister(i)


def _deepdyn(capsys, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    return code, capsys.readouterr().err


def _sections(page: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)">', page)


def test_run_refuses_to_overwrite_another_runs_folder_then_replaces_it(toys, tmp_path, capsys):
    out, store = str(tmp_path / "report"), str(tmp_path / "store")
    a = IDS[0]
    assert (
        _deepdyn(capsys, "reproduce", "--quick", "--only", a, "--out", out, "--store", store)[0]
        == 0
    )
    index = tmp_path / "report" / "index.html"
    config = tmp_path / "report" / a / "config.json"
    page, record = index.read_text(), config.read_text()
    assert json.loads(record)["config"]["n"] == 5

    code, err = _deepdyn(capsys, "run", a, "--set", "data=moons", "--out", out, "--store", store)
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert f"holds another {a} result (run " in err and "--replace" in err
    assert config.read_text() == record and index.read_text() == page  # untouched

    same = _deepdyn(capsys, "run", a, "--quick", "--out", out, "--store", store)
    assert same[0] == 0, same[1]  # the same run again: nothing to refuse

    code, err = _deepdyn(
        capsys, "run", a, "--set", "data=moons", "--out", out, "--store", store, "--replace"
    )
    assert code == 0, err
    assert json.loads(config.read_text())["config"] == {"n": 20, "data": "moons"}
    page = index.read_text()
    assert _sections(page) == [a]
    assert "moons" in page and "custom config" in page  # the page shows the folder's run
    assert "400" not in page and "20" in page  # top = n * 1 = 20
    summary = json.loads((tmp_path / "report" / "numbers.json").read_text())
    assert summary[a]["top"] == 20.0


def test_index_lists_every_entry_folder(toys, tmp_path, capsys):
    out, store = str(tmp_path / "report"), str(tmp_path / "store")
    a, b = IDS
    assert (
        _deepdyn(capsys, "reproduce", "--quick", "--only", a, "--out", out, "--store", store)[0]
        == 0
    )
    assert (
        _deepdyn(capsys, "reproduce", "--quick", "--only", b, "--out", out, "--store", store)[0]
        == 0
    )
    page = (tmp_path / "report" / "index.html").read_text()
    assert _sections(page) == [a, b]  # a's folder is still there, so it is still on the page
    assert "quick mode" in page
    summary = json.loads((tmp_path / "report" / "numbers.json").read_text())
    assert set(summary) == {a, b}
