"""Claims: per catalogue entry, the thesis statements it checks, the key number that measures
each, and the verdict — the one source of the report's "thesis statement | what deepdyn
measured | verdict" tables and of docs/theory-claims.md (``claims_markdown``).

An entry module calls ``register_claims(id, [Claim(...), ...])``. ``holds`` is a check of the
verdict on a run's key numbers: the report shows the verdict when it holds and "not reproduced
by this run" when it does not (quick configs are smoke tests and may not reproduce a full
config's verdict); ``numbers`` names the key numbers shown as the measurement.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

VERDICTS = ("confirmed", "refuted", "corrected", "reproduced", "not checkable")


@dataclass(frozen=True)
class Claim:
    statement: str  # the thesis' statement, with its number (Thm 9.1.1, eq. 9.17, Fig 5.1)
    measured: str  # what deepdyn measures, in words
    verdict: str  # one of VERDICTS
    numbers: tuple[str, ...] = ()  # key numbers of the entry that carry the measurement
    holds: Callable[[Mapping[str, float]], bool] | None = None

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f'verdict "{self.verdict}" unknown: choose one of {VERDICTS}')


_CLAIMS: dict[str, tuple[Claim, ...]] = {}


def register_claims(experiment_id: str, claims: Sequence[Claim]) -> None:
    _CLAIMS[experiment_id] = tuple(claims)


def claims(experiment_id: str) -> tuple[Claim, ...]:
    return _CLAIMS.get(experiment_id, ())


def all_claims() -> dict[str, tuple[Claim, ...]]:
    return dict(_CLAIMS)


def _value(v: float) -> str:
    return "nan" if v != v else f"{v:.4g}"


def status(claim: Claim, numbers: Mapping[str, float]) -> str:
    """The verdict, or "not reproduced by this run" when ``holds`` fails on ``numbers``, or
    "not measured by this run" when one of its numbers is missing."""
    if any(k not in numbers for k in claim.numbers):
        return "not measured by this run"
    if claim.holds is not None and not claim.holds(numbers):
        return "not reproduced by this run"
    return claim.verdict


def claims_html(experiment_id: str, numbers: Mapping[str, float]) -> str:
    """The entry's table for the report ("" for an entry without claims)."""
    rows = []
    for c in claims(experiment_id):
        shown = "; ".join(f"{k} = {_value(numbers[k])}" for k in c.numbers if k in numbers)
        measured = c.measured + (f" — {shown}" if shown else "")
        verdict = status(c, numbers)
        cls = html.escape(verdict.split()[0])
        rows.append(
            f"<tr><td>{html.escape(c.statement)}</td><td>{html.escape(measured)}</td>"
            f'<td class="verdict {cls}">{html.escape(verdict)}</td></tr>'
        )
    if not rows:
        return ""
    head = "<tr><th>thesis statement</th><th>what deepdyn measured</th><th>verdict</th></tr>"
    return f'<table class="claims"><caption>claims</caption>{head}{"".join(rows)}</table>'


def claims_markdown(order: Sequence[str]) -> str:
    """docs/theory-claims.md: every registered claim, entries in ``order`` (catalogue order)."""
    lines = [
        "# Thesis claims, measured",
        "",
        "Generated from the catalogue's claim tables (`deepdyn/experiments/_claims.py`, each",
        "entry's `register_claims`) by `deepdyn.experiments.claims_markdown`; the report shows",
        "the same rows with the numbers of its run. A test keeps this page equal to the",
        "generated text. Verdicts: confirmed (the statement holds as written), refuted (it does",
        "not), corrected (it holds in a form stated here), reproduced (a figure regenerated).",
        "",
    ]
    for eid in order:
        cs = claims(eid)
        if not cs:
            continue
        lines += [
            f"## `{eid}`",
            "",
            "| thesis statement | what deepdyn measures | key numbers | verdict |",
            "| --- | --- | --- | --- |",
        ]
        for c in cs:
            keys = ", ".join(f"`{k}`" for k in c.numbers) or "—"
            cells = [c.statement, c.measured, keys, f"**{c.verdict}**"]
            lines.append("| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |")
        lines.append("")
    return "\n".join(lines)
