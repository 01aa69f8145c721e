"""The report: ``index.html`` (figures beside captions, thesis references and key numbers) and
``numbers.json`` for a list of catalogue results."""

from __future__ import annotations

import dataclasses
import html
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deepdyn._files import write_text
from deepdyn.experiments._claims import claims_html
from deepdyn.experiments._names import readable, unit
from deepdyn.experiments._parallel import compute_entries, default_workers
from deepdyn.experiments._registry import catalogue, get
from deepdyn.experiments._thesis_index import index_html
from deepdyn.runs import (
    Experiment,
    ProgressFactory,
    Result,
    copy_entry,
    deepdyn_version,
    make_config,
    run_experiment,
    run_id,
)

if TYPE_CHECKING:
    from deepdyn.runs import Store

_TITLE = "deepdyn — Deep Learning as Dynamical Systems, reproduced"
_CSS = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-bottom: 0.2rem; }
.meta { color: #666; font-size: 0.9rem; }
td.name { color: #555; font-size: 0.85rem; }
section, .thesis-index { border-top: 1px solid #ddd; padding-top: 1rem; margin-top: 1.5rem; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
table { border-collapse: collapse; margin: 0.5rem 1.5rem 0.5rem 0; font-size: 0.9rem; }
td, th { border: 1px solid #ddd; padding: 0.2rem 0.6rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.tables { display: flex; flex-wrap: wrap; align-items: flex-start; }
table.claims { width: 100%; margin-right: 0; table-layout: fixed; }
table.claims td { overflow-wrap: anywhere; vertical-align: top; }
table.index th:nth-child(1) { width: 6.5rem; } table.index th:nth-child(2) { width: 30%; }
table.index th:nth-child(3) { width: 8.5rem; }
td.verdict { font-weight: 600; }
td.confirmed, td.reproduced, td.implemented { color: #1a7f37; } td.refuted { color: #b42318; }
td.corrected { color: #9a6700; } td.not { color: #666; }
nav ol { columns: 2; font-size: 0.9rem; }
""".strip()


def _e(value: Any) -> str:
    return html.escape(str(value))


def _format_number(value: float) -> str:
    if value != value:  # nan: an entry's "not reached / not defined", said in its caption
        return "none reached (nan)"
    return f"{value:.6g}"


def _format_value(value: Any) -> str:
    if isinstance(value, tuple | list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _rows(pairs: Sequence[tuple[str, str]], num: bool) -> str:
    cls = ' class="num"' if num else ""
    return "".join(f"<tr><th>{_e(k)}</th><td{cls}>{_e(v)}</td></tr>" for k, v in pairs)


def _mode(experiment: Experiment, config: Any) -> str:
    """``quick``, ``full`` or ``custom`` (a config that is neither, e.g. from ``--set``)."""
    if config == make_config(experiment):
        return "full"
    return "quick" if config == make_config(experiment, quick=True) else "custom"


def _section(result: Result, out_dir: Path) -> str:
    experiment = get(result.experiment_id)
    image = Path(os.path.relpath(result.figure_path, out_dir)).as_posix()
    numbers = "".join(
        f'<tr><th>{_e(k)}</th><td class="num">{_e(_format_number(v))}</td>'
        f'<td>{_e(unit(k))}</td><td class="name">{_e(readable(k))}</td></tr>'
        for k, v in result.numbers.items()
    )
    config = _rows(
        [(k, _format_value(v)) for k, v in dataclasses.asdict(result.config).items()], num=False
    )
    return f"""<section id="{_e(experiment.id)}">
<h2>{_e(experiment.title)}</h2>
<p class="meta">{_e(experiment.id)} · thesis {_e(experiment.reference)} ·
{_e(_mode(experiment, result.config))} config · run time {result.seconds:.1f} s</p>
<img src="{_e(image)}" alt="{_e(experiment.title)}">
<p>{_e(experiment.caption)}</p>
{claims_html(experiment.id, result.numbers)}
<div class="tables">
<table><caption>key numbers</caption>
<tr><th>key</th><th>value</th><th>unit</th><th>in words</th></tr>{numbers}</table>
<table><caption>config</caption>{config}</table>
</div>
</section>"""


def write_report(
    results: Sequence[Result], out_dir: Path | str, *, quick: bool | None = None
) -> Path:
    """Write ``out_dir/index.html`` (self-contained) and ``out_dir/numbers.json``; returns the page.

    ``numbers.json`` maps each experiment id to its key numbers plus ``"seconds"``. ``quick``
    labels the page; None reads the label from the configs (quick, full or mixed).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if quick is None:
        modes = {_mode(get(r.experiment_id), r.config) for r in results}
        quick = modes == {"quick"}
        mixed = len(modes) > 1 or modes == {"custom"}
    else:
        mixed = False
    mode = (
        "mixed configs: each entry says whether its config is quick, full or custom"
        if mixed
        else "quick mode: reduced configs, a smoke test of the pipeline, not the thesis' numbers"
        if quick
        else "full configs"
    )
    count = f"{len(results)} {'entry' if len(results) == 1 else 'entries'}"
    sections = "\n".join(_section(r, out) for r in results) or "<p>No entries were run.</p>"
    toc = "".join(
        f'<li><a href="#{_e(r.experiment_id)}">{_e(get(r.experiment_id).title)}</a> '
        f'<span class="meta">(thesis {_e(get(r.experiment_id).reference)})</span></li>'
        for r in results
    )
    nav = (
        f"<nav><h2>Contents</h2><ol>{toc}</ol>"
        '<p><a href="#thesis-index">The thesis, item by item</a>: every figure and numbered '
        "statement with its verdict</p></nav>"
        if results
        else ""
    )
    items = index_html({r.experiment_id: r.numbers for r in results}) if results else ""
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{_e(_TITLE)}</title>
<style>
{_CSS}
</style>
</head>
<body>
<h1>{_e(_TITLE)}</h1>
<p class="meta">deepdyn {_e(deepdyn_version())} · {count} · {_e(mode)}</p>
{nav}
{items}
{sections}
</body>
</html>
"""
    index = out / "index.html"
    write_text(index, page)
    summary = {r.experiment_id: {**r.numbers, "seconds": r.seconds} for r in results}
    write_text(out / "numbers.json", json.dumps(summary, indent=2) + "\n")
    return index


def reproduce(
    out_dir: Path | str,
    *,
    quick: bool = False,
    progress: ProgressFactory | None = None,
    only: Sequence[str] | None = None,
    store: Store | None = None,
    force: bool = False,
    workers: int | None = None,
) -> list[Result]:
    """Run the catalogue (or the entries ``only``) into ``out_dir`` and write the report.

    ``progress(experiment_id)`` is called before each entry runs and returns that entry's
    progress callback (or None); the CLI uses it to show one progress line per entry. With a
    ``store``, each entry runs through ``store.run`` (a finished run is reused unless ``force``)
    and its stored files are copied to ``out_dir/<id>/``. With a store, the entries the store
    lacks are first computed ``workers`` at a time in spawned processes (default: one per core;
    ``experiments/_parallel.py``); the report is the same whatever ``workers`` is.
    """
    experiments = catalogue() if only is None else [get(i) for i in only]
    configs = {e.id: make_config(e, quick=quick) for e in experiments}
    reports = {e.id: progress(e.id) if progress is not None else None for e in experiments}
    fresh: dict[str, float] = {}  # computed by the workers just now
    if store is not None:
        count = default_workers(len(experiments)) if workers is None else workers
        pairs = [(e, configs[e.id]) for e in experiments]
        fresh = compute_entries(store, pairs, workers=count, force=force, progress=reports)
    results = []
    for experiment in experiments:
        config = configs[experiment.id]
        entry_progress = reports[experiment.id]
        if store is None:
            results.append(run_experiment(experiment, config, out_dir, progress=entry_progress))
        else:
            again = force and experiment.id not in fresh
            stored = store.run(experiment, config, force=again, progress=entry_progress)
            results.append(copy_entry(stored, out_dir))
    done = {r.experiment_id for r in results}
    others = [r for r in _entries(out_dir) if r.experiment_id not in done]
    if others:  # folders of earlier runs stay, so the page lists them too
        order = [e.id for e in catalogue()]
        every = sorted([*results, *others], key=lambda r: order.index(r.experiment_id))
        write_report(every, out_dir)
    else:
        write_report(results, out_dir, quick=quick)
    return results


def _entry(out_dir: Path, experiment: Experiment, seconds: float) -> Result | None:
    """The Result of the entry folder ``out_dir/<id>/`` written by an earlier run, or None."""
    folder = out_dir / experiment.id
    try:
        record = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        numbers = json.loads((folder / "numbers.json").read_text(encoding="utf-8"))
        config = make_config(experiment, overrides=record["config"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return Result(
        experiment.id,
        config,
        {str(k): float(v) for k, v in numbers.items()},
        folder / "figure.png",
        folder / "arrays.nc",
        seconds,
    )


def _entries(out_dir: Path | str) -> list[Result]:
    """Every catalogue entry with a folder in ``out_dir``, in catalogue order."""
    out = Path(out_dir)
    try:
        summary = json.loads((out / "numbers.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        summary = {}
    found = []
    for experiment in catalogue():
        seconds = summary.get(experiment.id, {}).get("seconds", 0.0)
        entry = _entry(out, experiment, float(seconds))
        if entry is not None:
            found.append(entry)
    return found


def _folder_run_id(folder: Path) -> str | None:
    """The run id of the entry folder written by ``copy_entry`` (None: no readable config)."""
    try:
        record = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        return run_id(record["experiment"], record["config"], record["deepdyn_version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def check_out(out_dir: Path | str, experiment_id: str, new_id: str, *, replace: bool) -> bool:
    """Whether ``out_dir/<experiment_id>/`` must be cleared for the run ``new_id``.

    ValueError (one line, with the fix) when it holds another run and ``replace`` is False.
    """
    folder = Path(out_dir) / experiment_id
    if not folder.exists():
        return False
    old_id = _folder_run_id(folder)
    if old_id == new_id:
        return False
    if not replace:
        what = f"run {old_id}" if old_id else "files that are no deepdyn run"
        raise ValueError(
            f'"{folder}" holds another {experiment_id} result ({what}); not overwriting it: '
            "pass another --out for this one, or --replace to replace it"
        )
    return True


def place_entry(result: Result, out_dir: Path | str, *, replace: bool = False) -> Result:
    """Copy the stored run ``result`` to ``out_dir/<id>/`` for ``deepdyn run --out``.

    A folder there that holds another run (another config) is not overwritten: ValueError
    saying so (see :func:`check_out`), unless ``replace``. When ``out_dir`` holds a report, its
    ``index.html`` and ``numbers.json`` are rewritten from the entry folders, so the page
    always shows what the folders hold.
    """
    out = Path(out_dir)
    folder = out / result.experiment_id
    source = result.arrays_path.parent
    outside = folder.exists() and folder.resolve() != source.resolve()
    if outside and check_out(out, result.experiment_id, source.name, replace=replace):
        shutil.rmtree(folder)
    copied = copy_entry(result, out)
    if (out / "index.html").exists():
        entries = [copied if r.experiment_id == copied.experiment_id else r for r in _entries(out)]
        write_report(entries, out)
    return copied
