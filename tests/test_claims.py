"""The claim tables: the report's "thesis statement | measured | verdict" rows and
docs/theory-claims.md come from the same registry, and a run's numbers decide what is shown."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest

import deepdyn.experiments as ex
from deepdyn.runs import make_config, run_experiment

ROOT = Path(__file__).resolve().parents[1]


def test_docs_page_is_the_generated_one():
    expected = ex.claims_markdown([e.id for e in ex.catalogue()]) + "\n"
    page = (ROOT / "docs" / "theory-claims.md").read_text(encoding="utf-8")
    assert page == expected, "regenerate docs/theory-claims.md with claims_markdown"


def test_claims_belong_to_registered_entries_and_have_verdicts():
    ids = {e.id for e in ex.catalogue()}
    for eid, cs in ex.all_claims().items():
        assert eid in ids
        assert cs and all(c.verdict in ex._claims.VERDICTS for c in cs)
    with pytest.raises(ValueError, match='verdict "maybe" unknown'):
        ex.Claim("s", "m", "maybe")


def test_status_follows_the_numbers():
    c = ex.Claim("a statement", "x small", "confirmed", ("x",), lambda n: n["x"] < 1)
    assert ex._claims.status(c, {"x": 0.5}) == "confirmed"
    assert ex._claims.status(c, {"x": 2.0}) == "not reproduced by this run"
    assert ex._claims.status(c, {}) == "not measured by this run"
    ex.register_claims("toy-claims", [c])
    try:
        page = ex.claims_html("toy-claims", {"x": 0.5})
        assert "a statement" in page and "x = 0.5" in page and "confirmed" in page
        assert ex.claims_html("no-such-entry", {}) == ""
    finally:
        ex._claims._CLAIMS.pop("toy-claims")


def test_report_has_contents_and_claim_tables(tmp_path):
    e = ex.get("thesis-figures")
    result = run_experiment(e, make_config(e, quick=True), tmp_path / "runs")
    page = ex.write_report([result], tmp_path / "report").read_text(encoding="utf-8")
    assert '<nav><h2>Contents</h2><ol><li><a href="#thesis-figures">' in page
    assert '<table class="claims">' in page
    assert "Fig 5.1: activation functions" in page and "reproduced" in page


@pytest.mark.slow
@pytest.mark.parametrize("eid", sorted(ex.all_claims()))
def test_full_runs_measure_and_reproduce_every_claim(eid):
    """On its full config every claim's numbers exist and its verdict holds."""
    e = ex.get(eid)
    ds = e.run(make_config(e), None)
    numbers = e.numbers(ds)
    for c in ex.claims(eid):
        assert ex._claims.status(c, numbers) == c.verdict, c.statement
