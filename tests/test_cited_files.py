"""Every file the project names to a reader exists in the repository.

README, the docs pages, the catalogue's titles, references and captions (what the report and
``deepdyn list`` print) and the entry modules' docstrings name files ("docs/thesis-notes.md",
"benchmarks/pmp.py", "experiments/trainability_init.py"). A name counts as present when a
tracked file's path is it or ends with "/" + it. Earlier versions cited NOTES.md and DESIGN.md,
which were never in the repository; this test fails on any such citation.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

import deepdyn.experiments as ex

ROOT = Path(__file__).resolve().parents[1]
# a file name with one of the extensions a reader could open; outputs (numbers.json,
# figure.png, index.html) are not source files and are not matched
_NAME = re.compile(r"(?<![\w./-])((?:[\w-]+/)*[\w-]+\.(?:md|py|toml|yml|yaml|txt|cfg))\b")
_MD_LINK = re.compile(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)")


def _tracked() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()


TRACKED = _tracked()


# names that are not citations: patterns of module names, and files a run writes
_NOT_FILES = {"_x.py", "_name.py", "log.txt"}


def _exists(name: str) -> bool:
    name = name.removeprefix("./")
    if name in _NOT_FILES:
        return True
    return any(p == name or p.endswith("/" + name) for p in TRACKED)


def _missing(text: str) -> list[str]:
    names = {m.group(1) for m in _NAME.finditer(text)}
    names |= {Path(m.group(1)).name for m in _MD_LINK.finditer(text) if "://" not in m.group(1)}
    return sorted(n for n in names if not _exists(n))


def _texts() -> list[tuple[str, str]]:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    texts = [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in pages]
    for e in ex.catalogue():
        texts.append((f"entry {e.id}", f"{e.title}\n{e.reference}\n{e.caption}"))
        module = __import__(e.run.__module__, fromlist=["_"])
        texts.append((f"module {e.run.__module__}", module.__doc__ or ""))
    return texts


def test_the_finder_sees_a_missing_file():
    assert _missing("see NOTES.md item 2 and docs/thesis-notes.md") == ["NOTES.md"]
    assert _missing("[design](design.md#x), [gone](nowhere.md)") == ["nowhere.md"]
    assert _missing("runs write numbers.json and figure.png") == []


@pytest.mark.parametrize(("where", "text"), _texts(), ids=lambda v: v if len(v) < 60 else "")
def test_every_named_file_exists(where, text):
    assert _missing(text) == [], f"{where} names files that are not in the repository"


def test_deepdyn_list_names_no_missing_file():
    from typer.testing import CliRunner

    from deepdyn.cli import app

    result = CliRunner().invoke(app, ["list"], env={"COLUMNS": "400"})
    assert result.exit_code == 0
    assert "init-norms" in result.output
    assert _missing(result.output) == []
