"""File-system errors and bracketed text on the command line (issue 17, item 5).

Each bad path is one ``error: …`` line and exit 2 in a real ``deepdyn`` process; text from runs
(errors, configs) is printed literally, never read as rich markup.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from _toy_sweep import TOY, ToySweepConfig, toy
from deepdyn.cli import app
from deepdyn.experiments import unregister as _unregister
from deepdyn.runs import Store

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT / 'tests'}"}
COMMAND = [
    sys.executable,
    "-c",
    "import sys, _toy_sweep; _toy_sweep.toy(); from deepdyn.cli import main; main(sys.argv[1:])",
]


@pytest.fixture
def experiment():
    yield toy()
    _unregister(TOY)


def _deepdyn(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args], env=ENV, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def _one_error_line(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = [line for line in done.stderr.splitlines() if line.strip()]
    assert line.startswith("error: "), line
    for needle in needles:
        assert needle in line, line


def test_file_errors_are_one_line_and_exit_2(experiment, tmp_path):
    store = str(tmp_path / "store")
    Store(store).run(experiment, ToySweepConfig(), figure=False)
    (tmp_path / "a-file").write_text("x")
    _one_error_line(
        _deepdyn("runs", "export", "--csv", "/no/such/dir/x.csv", "--store", store, cwd=tmp_path),
        '"/no/such/dir" does not exist',
    )
    _one_error_line(
        _deepdyn("runs", "export", "--csv", str(tmp_path), "--store", store, cwd=tmp_path),
        "is a folder",
    )
    _one_error_line(
        _deepdyn("run", TOY, "--store", store, "--out", str(tmp_path / "a-file"), cwd=tmp_path),
        "is a file",
    )
    _one_error_line(
        _deepdyn(
            "run", TOY, "--store", store, "--out", str(tmp_path / "a-file" / "sub"), cwd=tmp_path
        ),
        "--out",
    )
    assert [i.status for i in Store(store).list()] == ["finished"]  # nothing stored was lost


def test_bracketed_text_is_printed_literally(experiment, tmp_path):
    def broken(config, progress):
        raise RuntimeError("bad value [/bold] in [red]x[/red] [/]")

    store = Store(tmp_path / "store")
    with pytest.raises(RuntimeError):
        store.run(dataclasses.replace(experiment, run=broken), ToySweepConfig())
    result = CliRunner().invoke(
        app, ["runs", "list", "--store", str(store.path)], env={"COLUMNS": "250"}
    )
    assert result.exit_code == 0, result.output
    assert "bad value [/bold] in [red]x[/red] [/]" in result.output
    (info,) = store.list()
    shown = CliRunner().invoke(
        app, ["runs", "show", info.run_id, "--store", str(store.path)], env={"COLUMNS": "250"}
    )
    assert shown.exit_code == 0 and "[red]x[/red]" in shown.output
