"""The ``deepdyn`` command: success paths in-process, error paths as real processes."""

from __future__ import annotations

import dataclasses
import json
import os
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
from deepdyn.cli import app, main

TOY = "toy-cli"
SRC = Path(__file__).resolve().parents[1] / "src"


@dataclasses.dataclass(frozen=True)
class ToyConfig:
    n: int = 50
    scale: float = 1.0
    widths: tuple[int, ...] = (2, 3)


def _run(config: ToyConfig, progress):
    if progress is not None:
        progress(1, 1, "computing")
    return xr.Dataset({"y": ("sample", config.scale * np.linspace(0.0, 1.0, config.n))})


def _figure(ds: xr.Dataset):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot(ds["y"].values)
    return fig


@pytest.fixture
def toy():
    experiment = experiments.register(
        experiments.Experiment(
            id=TOY,
            title="Toy line",
            reference="§0",
            caption="A straight line.",
            config=ToyConfig,
            run=_run,
            figure=_figure,
            numbers=lambda ds: {"mean": float(ds["y"].mean())},
            quick={"n": 5},
        )
    )
    yield experiment
    experiments.unregister(TOY)


def _deepdyn(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "deepdyn.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


# ---------------------------------------------------------------- in-process: success paths


def test_list_shows_the_entry(toy):
    result = CliRunner().invoke(app, ["list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert TOY in result.output
    assert "Toy line" in result.output


def test_run_writes_the_entry(toy, tmp_path):
    out = tmp_path / "report"
    args = ["run", TOY, "--quick", "--out", str(out), "--set", "scale=2", "--set", "widths=4,5"]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "mean" in result.output
    assert str(out / TOY / "figure.png") in result.output
    record = json.loads((out / TOY / "config.json").read_text())
    assert record["config"] == {"n": 5, "scale": 2.0, "widths": [4, 5]}
    assert json.loads((out / TOY / "numbers.json").read_text()) == pytest.approx({"mean": 1.0})


def test_reproduce_only_writes_the_report(toy, tmp_path):
    out = tmp_path / "report"
    args = ["reproduce", "--quick", "--out", str(out), "--only", TOY]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert str(out / "index.html") in result.output
    assert '<img src="toy-cli/figure.png"' in (out / "index.html").read_text(encoding="utf-8")
    assert set(json.loads((out / "numbers.json").read_text())) == {TOY}


def test_main_maps_value_errors_to_one_line_and_exit_2(toy, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", TOY, "--set", "n=abc"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err == 'error: config key "n" expects int, got "abc"\n'


def test_main_rejects_a_set_without_equals(toy, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", TOY, "--set", "n"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.startswith('error: --set "n" must look like key=value')


def test_main_help_and_version_exit_0(capsys):
    main(["--help"])  # returns normally: exit status 0
    assert "reproduce" in capsys.readouterr().out
    main(["--version"])
    assert capsys.readouterr().out.startswith("deepdyn ")


# ---------------------------------------------------------------- subprocess: exit codes


def _one_error_line(process: subprocess.CompletedProcess[str]) -> str:
    assert process.returncode == 2, process.stderr
    assert "Traceback" not in process.stderr
    lines = process.stderr.strip().splitlines()
    assert len(lines) == 1, process.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_unknown_experiment_exits_2(tmp_path):
    line = _one_error_line(_deepdyn("run", "nonexistent", cwd=tmp_path))
    assert 'experiment "nonexistent" unknown' in line


def test_unknown_config_key_exits_2(tmp_path):
    catalogue = [e.id for e in experiments.catalogue() if not e.id.startswith("toy-")]
    if catalogue:  # a real entry: the key is what is wrong
        line = _one_error_line(_deepdyn("run", catalogue[0], "--set", "nokey=1", cwd=tmp_path))
        assert 'config key "nokey" unknown' in line
    else:  # empty catalogue: the id is checked first, still one line and exit 2
        line = _one_error_line(_deepdyn("run", "nonexistent", "--set", "nokey=1", cwd=tmp_path))
        assert "unknown" in line
    assert not (tmp_path / "deepdyn-report").exists()


def test_usage_errors_exit_2(tmp_path):
    line = _one_error_line(_deepdyn("run", cwd=tmp_path))
    assert "Missing argument" in line
    _one_error_line(_deepdyn("list", "--bogus", cwd=tmp_path))


def test_list_help_and_version_in_a_process(tmp_path):
    listing = _deepdyn("list", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    assert "deepdyn experiments" in listing.stdout
    helping = _deepdyn("--help", cwd=tmp_path)
    assert helping.returncode == 0, helping.stderr
    assert "reproduce" in helping.stdout
    version = _deepdyn("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("deepdyn ")
