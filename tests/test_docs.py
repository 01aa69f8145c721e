"""The documentation site: every page of mkdocs.yml exists, every Python block on it runs.

Each page's ```python blocks run in order, in one namespace (as a reader pastes them into one
session), in a fresh working folder. The API reference pages cover every public package. The
site itself is built by ``make docs`` (mkdocs --strict) in CI.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
_NAV = re.compile(r"^\s*-\s*(?:[^:]+:\s*)?([\w./-]+\.md)\s*$")
_BLOCK = re.compile(r"^(<!-- excerpt: [^>]*-->\n)?```python\n(.*?)^```", re.S | re.M)
_CITED = re.compile(r"src/deepdyn/[\w/]+\.py")
# pages whose blocks take minutes: run with the slow tests (CI runs them)
_SLOW = {"runs.md"}  # a sweep of 16 train configs on 2 workers: ~2 min on 2 cores


def _nav() -> list[str]:
    pages = []
    for line in (ROOT / "mkdocs.yml").read_text(encoding="utf-8").splitlines():
        match = _NAV.match(line)
        if match:
            pages.append(match.group(1))
    return pages


def _all_blocks(page: str) -> list[tuple[str, str]]:
    """(excerpt mark or "", code) of every ```python block of ``page``."""
    return _BLOCK.findall((DOCS / page).read_text(encoding="utf-8"))


def _blocks(page: str) -> list[str]:
    """The blocks that run: all but those marked as excerpts of the library's code."""
    return [code for mark, code in _all_blocks(page) if not mark]


def test_excerpts_cite_files_that_exist():
    """A block marked ``<!-- excerpt: … -->`` shows library code; it must name its file."""
    excerpts = [(p, m) for p in _nav() for m, _ in _all_blocks(p) if m]
    assert len(excerpts) == 4  # optimal-control.md: the derivation, next to the code
    for page, mark in excerpts:
        (path,) = _CITED.findall(mark)
        assert (ROOT / path).is_file(), (page, path)


def test_every_nav_page_exists_and_every_page_is_in_the_nav():
    nav = _nav()
    assert "user-guide.md" in nav and "api/analysis.md" in nav
    for page in nav:
        assert (DOCS / page).is_file(), page
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert pages == set(nav), pages ^ set(nav)


def test_the_api_reference_covers_every_public_package():
    import pkgutil

    import deepdyn

    public = {
        f"deepdyn.{m.name}"
        for m in pkgutil.iter_modules(deepdyn.__path__)
        if not m.name.startswith("_") and m.name != "cli"  # the command: deepdyn --help
    }
    documented = set()
    for page in (DOCS / "api").glob("*.md"):
        documented |= set(re.findall(r"^::: ([\w.]+)", page.read_text(), re.M))
    assert public <= documented, public - documented
    assert "deepdyn" in documented


_PAGES = [p for p in _nav() if _blocks(p)]


@pytest.mark.parametrize(
    "page",
    [pytest.param(p, marks=pytest.mark.slow) if p in _SLOW else p for p in _PAGES],
)
def test_python_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs" / "gallery").mkdir(parents=True)  # flow.md saves its pictures there
    namespace: dict[str, object] = {"__name__": "__main__"}
    try:
        for i, code in enumerate(_blocks(page)):
            exec(compile(code, f"{page} block {i + 1}", "exec"), namespace)
    finally:
        plt.close("all")


def test_pages_with_code_are_the_expected_ones():
    """A new page with code is run by the test above; this keeps the slow list honest."""
    assert set(_PAGES) >= _SLOW


def test_docstring_examples_run():
    import deepdyn.sklearn

    failures, tried = doctest.testmod(deepdyn.sklearn, optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failures == 0
