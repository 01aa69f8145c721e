"""The front door answers at once: ``deepdyn --help``, ``list`` and ``show`` import no torch.

The catalogue's metadata comes from ``src/deepdyn/catalogue.json``, generated from the real
registry (``deepdyn/_catalogue.py``); these tests keep the file and the registry equal, the light
paths light, and the lazy packages (``deepdyn``, ``deepdyn.runs``) complete.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from deepdyn import _catalogue, experiments
from deepdyn.cli import main

SRC = Path(__file__).resolve().parents[1] / "src"
# what the light paths must not load (typer itself brings pydantic; that is typer's, and cheap)
HEAVY = (
    "torch",
    "torchdiffeq",
    "sklearn",
    "scipy",
    "numpy",
    "pandas",
    "xarray",
    "netCDF4",
    "matplotlib",
    "distributed",
    "dask",
    "fastapi",
    "uvicorn",
)


def _python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "200"}
    env.pop("MPLBACKEND", None)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )


def test_the_catalogue_file_matches_the_registry():
    problem = _catalogue.stale()
    assert problem is None, problem


def test_a_stale_file_fails_with_the_command_that_fixes_it(tmp_path):
    current = _catalogue.read()
    fewer = tmp_path / "fewer.json"
    fewer.write_text(_catalogue.render(current[:-1]), encoding="utf-8")
    problem = _catalogue.stale(fewer)
    assert problem is not None and _catalogue.COMMAND in problem
    assert current[-1].id in problem and "\n" not in problem
    first = current[0]
    edited = dataclasses.replace(first, fields=(*first.fields[:-1],))
    changed = tmp_path / "changed.json"
    changed.write_text(_catalogue.render([edited, *current[1:]]), encoding="utf-8")
    problem = _catalogue.stale(changed)
    assert problem is not None and f"metadata of {first.id}" in problem
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    assert _catalogue.COMMAND in (_catalogue.stale(broken) or "")


def test_the_file_is_json_and_renders_back_to_itself():
    text = _catalogue.FILE.read_text(encoding="utf-8")
    assert json.loads(text)["entries"]  # plain JSON, for anything else that reads it
    assert _catalogue.render(_catalogue.read()) == text


_LIGHT_PATHS = [
    ["--help"],
    ["--version"],
    ["list"],
    ["show", "init-norms"],
    ["run", "--help"],
    ["run", "init-norms", "--help"],
    ["sweep", "train", "--help"],
    ["reproduce", "--help"],
    ["runs", "--help"],
    ["playground", "--help"],
    ["show", "no-such-entry"],
]


def test_help_list_and_show_import_nothing_heavy():
    code = f"""
import contextlib, io, json, sys
from deepdyn.cli import main
heavy = {HEAVY!r}
loaded = {{}}
for argv in {_LIGHT_PATHS!r}:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            main(argv)
        except SystemExit:
            pass
    found = sorted({{m.split(".")[0] for m in sys.modules}} & set(heavy))
    loaded[" ".join(argv)] = found
print(json.dumps(loaded))
"""
    done = _python(code)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.splitlines()[-1])
    assert list(loaded) == [" ".join(a) for a in _LIGHT_PATHS]
    assert all(found == [] for found in loaded.values()), loaded


def test_import_deepdyn_alone_is_light_and_names_load_on_use():
    done = _python(
        "import sys, deepdyn, deepdyn.runs, deepdyn.app\n"
        "print('torch' in sys.modules, 'xarray' in sys.modules)\n"
        "net = deepdyn.MLP(1, 2, 3)\n"
        "print('torch' in sys.modules, type(net).__name__)\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False", "True", "MLP"]


@pytest.mark.parametrize(
    "argv", [["list"], ["show", "init-norms"], ["show", "train"], ["run", "layers-geometry"]]
)
def test_the_file_prints_what_the_registry_prints(argv, capsys, monkeypatch):
    # a process reads the file; this one has the registry loaded (deepdyn.experiments imported)
    argv = [*argv, "--help"] if argv[0] == "run" else argv
    done = subprocess.run(
        [sys.executable, "-m", "deepdyn.cli", *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "200"},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    monkeypatch.setenv("COLUMNS", "200")
    assert "deepdyn.experiments" in sys.modules
    main(argv)
    assert capsys.readouterr().out == done.stdout


def test_show_an_unknown_entry_names_the_valid_ids():
    done = subprocess.run(
        [sys.executable, "-m", "deepdyn.cli", "show", "no-such-entry"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        timeout=300,
    )
    assert done.returncode == 2
    assert done.stderr.startswith('error: experiment "no-such-entry" unknown: choose one of ')
    assert "init-norms" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_registered_entry_is_listed_in_its_process(capsys, monkeypatch):
    toy = experiments.Experiment(
        id="toy-front-door",
        title="Toy front door",
        reference="§0",
        caption="Nothing.",
        config=_ToyConfig,
        run=lambda c, p: None,
        figure=lambda ds: None,
        numbers=lambda ds: {},
    )
    experiments.register(toy)
    try:
        monkeypatch.setenv("COLUMNS", "200")
        main(["list"])
        assert "toy-front-door" in capsys.readouterr().out
        assert "toy-front-door" not in [e.id for e in _catalogue.generate()]  # not built in
    finally:
        experiments.unregister("toy-front-door")


@dataclasses.dataclass(frozen=True)
class _ToyConfig:
    n: int = 1


@pytest.mark.parametrize("name", ["deepdyn", "deepdyn.runs"])
def test_lazy_packages_are_complete(name):
    package = importlib.import_module(name)
    lazy = package._LAZY
    assert set(package.__all__) == set(lazy) | {
        n for n in package.__all__ if n in vars(package) and n not in lazy
    }
    for attr in package.__all__:
        assert getattr(package, attr) is not None
        assert attr in dir(package)
    # the names mypy sees (the TYPE_CHECKING imports) are the names that load
    tree = ast.parse(inspect.getsource(package))
    typed = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom):
                    typed |= {a.asname or a.name for a in stmt.names}
    assert typed == set(lazy)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        package.nope  # noqa: B018


def test_subpackages_load_as_attributes_as_before():
    # ``import deepdyn`` used to import dynamics, train, trajectory and data eagerly; scripts that
    # write ``deepdyn.train.accuracy`` after a bare ``import deepdyn`` keep working
    done = _python("import deepdyn\nprint(deepdyn.train.accuracy.__name__, deepdyn.viz.__name__)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["accuracy", "deepdyn.viz"]
