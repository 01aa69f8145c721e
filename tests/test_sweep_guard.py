"""A sweep started from a script without the main guard stops before any worker starts.

Spawned workers re-import the main script; unguarded, every config used to be stored as
``failed: worker lost: BrokenProcessPool`` with nothing saying why (issue: front door).
These tests run real scripts in a real subprocess, with a real store.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from deepdyn.runs import Store
from deepdyn.runs._guard import _guarded

_SWEEP = """\
from deepdyn import experiments
from deepdyn.runs import Store, sweep

store = Store(sys.argv[1])
items = sweep(experiments.get("train"), {"scale": ["0.5", "1"]}, store=store, seeds=2,
              workers=2, quick=True)
print(sorted(item.status for item in items))
"""


def _script(tmp_path: Path, guarded: bool) -> Path:
    body = _SWEEP
    if guarded:
        body = 'if __name__ == "__main__":\n' + textwrap.indent(body, "    ")
    path = tmp_path / ("guarded.py" if guarded else "unguarded.py")
    path.write_text("import sys\n\n" + body, encoding="utf-8")
    return path


def _run(script: Path, store: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), str(store)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=script.parent,
    )


def test_unguarded_script_stops_before_dispatch_and_stores_nothing(tmp_path: Path) -> None:
    store = tmp_path / "store"
    proc = _run(_script(tmp_path, guarded=False), store)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ValueError: unguarded.py, line 7:"), last
    assert 'if __name__ == "__main__":' in last
    assert "nothing was run" in last
    assert Store(store).list() == []  # no config stored as failed
    assert "BrokenProcessPool" not in proc.stderr


@pytest.mark.slow
def test_guarded_script_runs_on_two_workers(tmp_path: Path) -> None:
    store = tmp_path / "store"
    proc = _run(_script(tmp_path, guarded=True), store)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['finished', 'finished', 'finished', 'finished']"
    assert [info.status for info in Store(store).list()] == ["finished"] * 4


def test_guard_lines() -> None:
    import ast

    tree = ast.parse(
        "import x\n"
        "x.go()\n"
        'if __name__ == "__main__":\n'
        "    x.go()\n"
        "    x.go(\n"
        "        1)\n"
        "if '__main__' == __name__:\n"
        "    x.go()\n"
        "if __name__ != '__main__':\n"
        "    x.go()\n"
    )
    assert [line for line in range(1, 11) if _guarded(tree, line)] == [3, 4, 5, 6, 7, 8]


def test_package_main_and_inline_sweeps_are_not_refused() -> None:
    """``python -m deepdyn sweep … --workers 2`` (a package's __main__) is not re-run by spawn."""
    proc = subprocess.run(
        [sys.executable, "-c", "import deepdyn.runs._guard as g; print(g.unguarded_line())"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.stdout.strip() == "None", proc.stderr
