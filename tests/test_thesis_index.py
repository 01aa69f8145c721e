"""The thesis index: every figure and numbered statement of the thesis has one row, carried by
the claims of catalogue entries or by a fixed verdict with its reason; docs/theory-checks.md
and the report's table come from it."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest

import deepdyn.experiments as ex
from deepdyn import _catalogue
from deepdyn.experiments import _thesis_index as ti
from deepdyn.runs import make_config, run_experiment

ROOT = Path(__file__).resolve().parents[1]
THESIS = ROOT.parent / "shared" / "reference" / "thesis.md"


def test_labels_are_parsed_from_ranges_and_lists():
    assert ex.labels("Fig 8.3–8.5: norms") == ("Fig 8.3", "Fig 8.4", "Fig 8.5")
    assert ex.labels("Fig 1.1, 3.1, 7.4: schemes") == ("Fig 1.1", "Fig 3.1", "Fig 7.4")
    assert ex.labels("Prop. 6.2.1 and Thm 6.2.1 (Li, Lin & Shen)") == ("Prop 6.2.1", "Thm 6.2.1")
    assert ex.labels("Fig D.1–D.3, A.1") == ("Fig D.1", "Fig D.2", "Fig D.3", "Fig A.1")
    assert ex.labels("Lemmas 6.1.1 and 6.1.2") == ("Lemma 6.1.1", "Lemma 6.1.2")
    assert ex.labels("Definition 8.2.1, §8.2, eq. 9.17") == ("Def 8.2.1",)
    assert ex.labels("§8.1.1: tanh saturates; eq. A.17") == ()


def test_every_item_once_in_the_thesis_order():
    labels = [it.label for it in ex.ITEMS]
    assert len(labels) == len(set(labels)) == 73
    assert Counter(lab.split()[0] for lab in labels) == {
        "Fig": 29,
        "Thm": 13,
        "Def": 12,
        "Prop": 9,
        "Lemma": 7,
        "Cor": 3,
    }
    chapters = ["1", "2", "3", "5", "6", "7", "8", "9", "10", "A", "C", "D"]
    seen = [lab.split()[1].split(".")[0] for lab in labels]
    assert sorted(set(seen), key=chapters.index) == [c for c in chapters if c in seen]
    assert all(chapters.index(a) <= chapters.index(b) for a, b in itertools.pairwise(seen))


@pytest.mark.skipif(not THESIS.exists(), reason="the thesis text is not beside this checkout")
def test_the_index_lists_exactly_the_numbered_items_of_the_thesis():
    text = THESIS.read_text(encoding="utf-8")
    kinds = "Theorem|Proposition|Lemma|Corollary|Definition|Figure"
    pattern = rf"(?:^|\*\*)({kinds}) ([0-9A-Z]+(?:\.[0-9]+)+)"
    found = {ex.labels(f"{m[0]} {m[1]}")[0] for m in re.findall(pattern, text, re.M)}
    assert found == {it.label for it in ex.ITEMS}


def test_claims_and_index_agree():
    """Every item an entry carries is named by one of its claims, and every label a claim names
    is an item that lists that entry."""
    assert ti.unmatched() == []


def test_fixed_rows_name_real_tests_and_entries():
    ids = {e.id for e in ex.catalogue()}
    for it in ex.ITEMS:
        assert set(it.entries) <= ids, it.label
        assert it.says and it.section
        if it.verdict:
            assert it.where, it.label
        for path, name in re.findall(r"(tests/[\w/]+\.py)::(\w+)", it.where):
            source = (ROOT / path).read_text(encoding="utf-8")
            assert f"def {name}(" in source, f"{it.label}: {path}::{name} does not exist"


def test_items_refuse_unclear_coverage():
    with pytest.raises(ValueError, match="give entries or a verdict"):
        ex.Item("Fig 9.9", "§9", "x")
    with pytest.raises(ValueError, match='verdict "maybe" unknown'):
        ex.Item("Fig 9.9", "§9", "x", verdict="maybe", where="w")


def test_rows_follow_the_runs_numbers():
    it = ti.item("Fig 8.6")
    assert ti.row(it)[0] == "corrected"
    (claim,) = [c for _, c in ti.carrying_claims(it)]
    bad = {k: 0.0 for k in claim.numbers}  # a run in which the MLPs' share does not vary
    assert ti.row(it, {"init-norms": bad})[0] == "not reproduced by this run"
    assert ti.row(ti.item("Lemma 8.1.1"))[0] == "confirmed"


def test_docs_page_is_the_generated_one():
    page = (ROOT / "docs" / "theory-checks.md").read_text(encoding="utf-8")
    assert page == ex.index_markdown() + "\n", "regenerate docs/theory-checks.md: make claims"


def test_report_has_the_index_with_this_runs_verdicts(tmp_path):
    e = ex.get("thesis-figures")
    result = run_experiment(e, make_config(e, quick=True), tmp_path / "runs")
    page = ex.write_report([result], tmp_path / "report").read_text(encoding="utf-8")
    assert '<a href="#thesis-index">' in page and '<div id="thesis-index"' in page
    assert re.findall(r'<section id="([^"]+)">', page) == ["thesis-figures"]  # entries only
    section = page[page.index('<div id="thesis-index"') :]
    section = section[: section.index("</div>")]
    rows = re.findall(r"<tr><td>(.*?)</td><td>.*?</td><td [^>]*>(.*?)</td><td>(.*?)</td>", section)
    by_label = {lab: (verdict, where) for lab, verdict, where in rows}
    assert set(by_label) == {it.label for it in ex.ITEMS}
    assert by_label["Fig 5.1"][0] == "reproduced"
    assert '<a href="#thesis-figures">' in by_label["Fig 5.1"][1]
    assert by_label["Fig 8.1"][0].endswith("(not in this report)")
    assert by_label["Lemma 8.1.2"][0] == "confirmed"


def test_the_thesis_file_matches_the_registry(tmp_path):
    assert _catalogue.thesis_stale() is None, _catalogue.thesis_stale()
    rows = _catalogue.read_thesis()
    assert [r.label for r in rows] == [it.label for it in ex.ITEMS]
    text = _catalogue.THESIS_FILE.read_text(encoding="utf-8")
    assert _catalogue.render_thesis(rows) == text
    stale = tmp_path / "thesis.json"
    stale.write_text(_catalogue.render_thesis(rows[:-1]), encoding="utf-8")
    problem = _catalogue.thesis_stale(stale)
    assert problem is not None and _catalogue.COMMAND in problem and "\n" not in problem


@pytest.mark.parametrize(
    ("query", "labels"),
    [
        ("Thm 8.1.2", ["Thm 8.1.2"]),
        ("theorem 8.1.2", ["Thm 8.1.2"]),
        ("thm8.1.2", ["Thm 8.1.2"]),
        ("Prop. 6.2.1", ["Prop 6.2.1"]),
        ("8.1.1", ["Def 8.1.1", "Lemma 8.1.1", "Prop 8.1.1", "Thm 8.1.1", "Cor 8.1.1"]),
        ("fig d.2", ["Fig D.2"]),
        ("9", ["Thm 9.1.1", "Def 9.1.1", "Thm 9.1.2", "Thm 9.1.3", "Thm 9.2.1"]),
    ],
)
def test_items_are_found_by_any_usual_spelling(query, labels):
    assert [r.label for r in _catalogue.find_thesis(query)] == labels


def test_verdict_filters_and_unknown_items():
    rows = _catalogue.read_thesis()
    implemented = _catalogue.find_thesis("implemented", rows)
    assert implemented and all(r.verdict == "implemented" for r in implemented)
    with pytest.raises(ValueError, match=r'no thesis item matches "Thm 9\.9\.9"'):
        _catalogue.find_thesis("Thm 9.9.9", rows)
    with pytest.raises(ValueError, match="names no thesis item"):
        _catalogue.find_thesis("Theorem of everything", rows)


def test_deepdyn_thesis_prints_without_torch():
    code = """
import contextlib, io, json, sys
from deepdyn.cli import main
out = {}
for argv in (["thesis"], ["thesis", "Fig 8.6"], ["thesis", "Thm 9.9.9"]):
    buf, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
        try:
            main(argv)
            code = 0
        except SystemExit as e:
            code = e.code
    out[" ".join(argv)] = [code, buf.getvalue(), err.getvalue()]
out["torch"] = "torch" in sys.modules
print(json.dumps(out))
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.splitlines()[-1])
    assert out["torch"] is False
    code, text, _ = out["thesis"]
    assert code == 0 and "73 of 73" in text and "Thm 9.2.1" in text
    code, text, _ = out["thesis Fig 8.6"]
    assert code == 0 and "init-norms" in text and "verdict: corrected" in text
    code, text, err = out["thesis Thm 9.9.9"]
    assert code == 2 and text == "" and err.count("\n") == 1 and "Thm 9.9.9" in err
