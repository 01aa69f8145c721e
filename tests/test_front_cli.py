"""The command's front door: ``deepdyn show ID``, ``run ID --help``, flags in --help, the
sweep summary's grammar, repeated --grid keys, the playground's first line, the licence."""

from __future__ import annotations

import importlib.metadata
import os
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

import _toy_sweep
from deepdyn.cli import app, main

ROOT = Path(__file__).resolve().parents[1]


def _main(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_show_lists_every_config_field(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = _main(capsys, "show", "train")
    assert code == 0
    assert "train — Train one network" in out and "thesis" in out
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") > 4}
    assert {"data", "width", "depth", "lr", "steps", "seed"} <= set(rows)
    depth = [c.strip() for c in rows["depth"].split("│")[1:-1]]
    assert depth == ["depth", "int", "15", "6", "≥ 1"]  # type, default, --quick, accepts
    activation = [c.strip() for c in rows["activation"].split("│")[1:-1]]
    assert activation[:4] == ["activation", "str", "tanh", ""]
    assert "relu" in activation[4] and "leaky_relu" in activation[4]
    _, out, _ = _main(capsys, "show", "resnet-ode")
    assert "tuple[int, ...]" in out  # a type with brackets is text, not markup


def test_run_help_names_the_entrys_fields(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = _main(capsys, "run", "train", "--help")
    assert code == 0
    assert "Usage: deepdyn run" in out  # the command's help, then the entry's fields
    assert "train: config fields (--set KEY=VALUE)" in out and "test_samples" in out
    code, out, _ = _main(capsys, "run", "--help")
    assert code == 0 and "config fields" not in out


def test_show_unknown_entry_is_one_line(capsys):
    code, _, err = _main(capsys, "show", "bogus")
    assert code == 2 and err.startswith('error: experiment "bogus" unknown: choose one of')


@pytest.mark.parametrize("args", [[], ["run"], ["sweep"], ["runs", "list"], ["runs", "export"]])
def test_flags_show_no_type_in_help(args):
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    assert "--help" in result.output


def test_grid_key_twice_is_an_error(capsys, tmp_path):
    code, _, err = _main(
        capsys, "sweep", "train", "--grid", "width=2", "--grid", "width=3",
        "--store", str(tmp_path / "s"),
    )  # fmt: skip
    assert code == 2
    assert err == (
        'error: --grid gives "width" twice: give all its values once, e.g. --grid width=2,3\n'
    )
    assert not (tmp_path / "s").exists()


def test_one_config_is_singular(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    _toy_sweep.toy()
    try:
        code, out, err = _main(
            capsys, "sweep", _toy_sweep.TOY, "--grid", "n=5", "--store", str(tmp_path / "s")
        )
    finally:
        from deepdyn import experiments

        experiments.unregister(_toy_sweep.TOY)
    assert code == 0, err
    assert "1 config: 1 finished" in out and "1 configs" not in out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_playground_says_where_it_serves():
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "deepdyn", "playground", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert first == f"deepdyn playground on http://127.0.0.1:{port}  (Ctrl-C stops it)\n"


def test_licence_is_an_spdx_string_with_a_file():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"  # a string: the table form stops working in 2027
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    meta = importlib.metadata.metadata("deepdyn")
    assert meta["License-Expression"] == "MIT"
