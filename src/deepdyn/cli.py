"""The ``deepdyn`` command: list, run and reproduce the experiment catalogue.

Thin by design: parse the arguments, wire progress bars, print results. The logic lives in
``deepdyn.experiments``. A ValueError (a bad id, a bad ``--set``) becomes one ``error: …`` line on
stderr and exit code 2; anything else unexpected keeps its traceback, since it is a bug.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import typer.core
from rich.console import Console
from rich.table import Table

from deepdyn import _catalogue
from deepdyn._checks import one_line
from deepdyn._version import deepdyn_version
from deepdyn.app import playground_command
from deepdyn.runs._defaults import GROUP_SIZE

if TYPE_CHECKING:  # the commands import what they use: --help, list and show import no torch
    from rich.progress import Progress as ProgressBar

    from deepdyn.dynamics import NetworkSpec
    from deepdyn.runs import Progress, Result, RunInfo, SweepItem


def _no_flag_type(display: Any) -> Any:
    """Typer ≥ 0.2x with click 8.2+ labels every flag ``<bool>`` in --help; a flag takes no
    value, so it gets no type column."""

    def display_type_rich(self: Any, ctx: Any) -> str | None:
        return None if getattr(self, "is_flag", False) else display(self, ctx)

    return display_type_rich


typer.core.TyperOption.display_type_rich = _no_flag_type(  # type: ignore[method-assign]
    typer.core.TyperOption.display_type_rich
)

app = typer.Typer(
    name="deepdyn",
    help="Deep learning as dynamical systems: run and reproduce the thesis' figures.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

_DEFAULT_OUT = Path("deepdyn-report")
_DEFAULT_STORE = Path("deepdyn-runs")

StoreOption = Annotated[
    Path,
    typer.Option("--store", envvar="DEEPDYN_STORE", help="Run store folder."),
]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Recompute even when a finished run is stored.")
]
ThreadsOption = Annotated[
    int | None,
    typer.Option(
        "--threads",
        metavar="N",
        help="Torch threads (default: DEEPDYN_THREADS, else 1: small problems run faster on "
        "one, see docs/performance.md; 0: torch's own default).",
    ),
]


def _out() -> Console:
    return Console(markup=False)  # run errors, paths and configs are data: print them literally


def _err() -> Console:
    return Console(stderr=True, markup=False)


def _version(value: bool) -> None:
    if value:
        _out().print(f"deepdyn {deepdyn_version()}", highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Deep learning as dynamical systems: run and reproduce the thesis' figures."""


def _progress_bar() -> ProgressBar:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.progress import Progress as ProgressBar

    return ProgressBar(
        SpinnerColumn(),
        TextColumn("{task.description}", style="progress.description", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_err(),
    )


def _task(bar: ProgressBar, label: str) -> Progress:
    """A ``progress(done, total, message)`` callback driving one line of ``bar``."""
    task = bar.add_task(label, total=None)

    def update(done: int, total: int, message: str) -> None:
        text = f"{label}: {message}" if message else label
        bar.update(task, completed=done, total=total, description=text)

    return update


def _parse_sets(items: Sequence[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f'--set "{item}" must look like key=value, e.g. --set depth=8')
        overrides[key.strip()] = value
    return overrides


def _set_threads(threads: int | None) -> None:
    """Torch threads by deepdyn's policy (``deepdyn/_threads.py``): ``--threads``, else
    DEEPDYN_THREADS, else what the environment chose (OMP_NUM_THREADS), else one."""
    from deepdyn import _threads

    if threads is not None and threads < 0:
        raise ValueError(f"--threads must be 0 (torch's default) or more, got {threads}")
    _threads.apply(threads)


def _read_spec(path: Path) -> NetworkSpec:
    """The NetworkSpec in the JSON file ``path``; one-line errors for a missing or bad file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"cannot read spec file {path}: {error.strerror or error}") from None
    from deepdyn.dynamics import NetworkSpec

    return NetworkSpec.from_json(text)


def _spec_overrides(experiment_id: str, path: Path) -> dict[str, object]:
    if experiment_id != "train":
        raise ValueError(f'--spec is for the train entry, not "{experiment_id}"')
    from deepdyn.experiments import train_network

    return train_network.spec_overrides(_read_spec(path))


def _numbers_table(result: Result) -> Table:
    table = Table(title=f"{result.experiment_id}: key numbers")
    table.add_column("number")
    table.add_column("value", justify="right")
    for key, value in result.numbers.items():
        table.add_row(key, f"{value:.6g}")
    return table


@app.command("list")
def list_() -> None:
    """List the catalogue: one entry per thesis figure or study."""
    table = Table(title="deepdyn experiments")
    table.add_column("id", no_wrap=True)
    table.add_column("thesis")
    table.add_column("title")
    for entry in _catalogue.entries():  # no torch: the generated metadata (deepdyn/_catalogue.py)
        table.add_row(entry.id, entry.reference, entry.title)
    _out().print(table)


def _entry_table(experiment_id: str) -> list[object]:
    """Title, thesis reference, caption and every config field of one entry."""
    from rich.text import Text

    entry = _catalogue.get(experiment_id)  # no torch: the generated metadata
    table = Table(title=f"{entry.id}: config fields (--set KEY=VALUE)")
    for column in ("field", "type", "default", "--quick", "accepts"):
        table.add_column(column, overflow="fold")
    for f in entry.fields:
        cells = (f.name, f.type, f.default, f.quick, f.accepts)
        table.add_row(*(Text(c) for c in cells))  # Text: "tuple[int, ...]" is no markup
    head = Text(f"{entry.id} — {entry.title}\nthesis {entry.reference}\n")
    return [head, Text(entry.caption + "\n"), table]


@app.command("show")
def show(
    experiment_id: Annotated[str, typer.Argument(metavar="ID", help="Entry id (deepdyn list).")],
) -> None:
    """Show one entry: title, thesis reference, every config field with its type, default,
    --quick value and accepted values."""
    console = _out()
    for part in _entry_table(experiment_id):
        console.print(part)


@app.command("thesis")
def thesis(
    items: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[ITEM]...",
            help='A label ("Thm 8.1.2", "Fig 8.3"), a chapter ("9", "C") or a verdict '
            '("refuted", "corrected"); none: every item.',
        ),
    ] = None,
) -> None:
    """The thesis, item by item: every figure and numbered statement with its verdict and where
    deepdyn checks it; one item in full with the claims that carry it."""
    from rich.text import Text

    rows = _catalogue.read_thesis()  # no torch: the generated index (deepdyn/_catalogue.py)
    found: list[_catalogue.ThesisRow] = []
    for query in items or []:
        found += [r for r in _catalogue.find_thesis(query, rows) if r not in found]
    console = _out()
    if len(found) == 1:
        r = found[0]
        console.print(Text(f"{r.label} ({r.section}): {r.says}\nverdict: {r.verdict}"))
        if not r.claims:
            console.print(Text(r.where.replace("`", "")))
        for c in r.claims:
            keys = ", ".join(c.numbers) or "—"
            console.print(
                Text(
                    f"\n{c.entry}: {c.statement}\n  measured: {c.measured}\n  key numbers: "
                    f"{keys}\n  verdict: {c.verdict}  (deepdyn run {c.entry}; deepdyn show "
                    f"{c.entry})"
                )
            )
        return
    shown = found if items else rows
    if not shown:
        console.print(f"no item of the thesis matches {' '.join(items or [])}", highlight=False)
        return
    table = Table(title=f"the thesis, item by item ({len(shown)} of {len(rows)})")
    for column in ("item", "verdict", "what it says", "where"):
        table.add_column(column, overflow="fold")
    for r in shown:
        where = ", ".join(dict.fromkeys(c.entry for c in r.claims)) or r.where.replace("`", "")
        table.add_row(*(Text(x) for x in (r.label, r.verdict, r.says, where)))
    console.print(table)


@app.command()
def run(
    experiment_id: Annotated[str, typer.Argument(metavar="ID", help="Entry id (deepdyn list).")],
    quick: Annotated[bool, typer.Option("--quick", help="Reduced config: seconds.")] = False,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = _DEFAULT_OUT,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="KEY=VALUE", help="Override a config field; repeatable."),
    ] = None,
    spec: Annotated[
        Path | None,
        typer.Option("--spec", metavar="FILE", help="train: the network of a NetworkSpec JSON."),
    ] = None,
    store: StoreOption = _DEFAULT_STORE,
    force: ForceOption = False,
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Replace OUT/ID when it holds another run of this entry."),
    ] = False,
    threads: ThreadsOption = None,
) -> None:
    """Run one entry: compute its arrays, store them, draw its figure (or reuse a stored run).

    Its files are copied to OUT/ID/; a folder there that holds another run is kept unless
    --replace. When OUT holds a report, its index.html is rewritten to match the folders.
    """
    from deepdyn import experiments
    from deepdyn.runs import Store, run_id

    experiment = experiments.get(experiment_id)
    overrides = _spec_overrides(experiment_id, spec) if spec is not None else {}
    overrides.update(_parse_sets(set_ or []))
    config = experiments.make_config(experiment, quick=quick, overrides=overrides)
    if spec is not None:
        from deepdyn.experiments import train_network

        train_network.check_spec_shape(config, _read_spec(spec))
    _check_out(out)
    rid = run_id(experiment.id, config, deepdyn_version())
    experiments.check_out(out, experiment.id, rid, replace=replace)  # before any work
    runs = Store(store)
    _set_threads(threads)
    with _progress_bar() as bar:
        stored = runs.run(experiment, config, force=force, progress=_task(bar, experiment.id))
    result = _copy_entry(stored, out, replace)
    console = _out()
    console.print(f"run     {stored.arrays_path.parent.name}  (store {store})", highlight=False)
    console.print(_numbers_table(result))
    entry_dir = result.arrays_path.parent
    console.print(f"arrays  {result.arrays_path}", highlight=False)
    console.print(f"figure  {result.figure_path}", highlight=False)
    console.print(f"config  {entry_dir / 'config.json'}", highlight=False)
    console.print(f"numbers {entry_dir / 'numbers.json'}", highlight=False)
    console.print(f"done in {result.seconds:.1f} s", highlight=False)


def _copy_entry(stored: Result, out: Path, replace: bool = False) -> Result:
    """``experiments.place_entry`` with its file-system errors as one line (exit 2)."""
    from deepdyn import experiments

    try:
        return experiments.place_entry(stored, out, replace=replace)
    except OSError as error:
        raise ValueError(_os_line(error, "--out", out)) from None


def _check_out(out: Path) -> None:
    """Refuse an ``--out`` that cannot be a folder before anything is computed."""
    if out.exists() and not out.is_dir():
        raise ValueError(f'--out "{out}" is a file: give a folder (it is created if missing)')
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(_os_line(error, "--out", out)) from None


def _os_line(error: OSError, option: str, path: Path) -> str:
    where = f' ("{error.filename}")' if error.filename and str(error.filename) != str(path) else ""
    reason = error.strerror or type(error).__name__
    return f'{option} "{path}"{where}: {reason}: give a folder you can write to'


@app.command()
def reproduce(
    quick: Annotated[bool, typer.Option("--quick", help="Reduced configs: seconds each.")] = False,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = _DEFAULT_OUT,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", metavar="ID", help="Run only this entry; repeatable."),
    ] = None,
    store: StoreOption = _DEFAULT_STORE,
    force: ForceOption = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Entries computed at once, in separate processes [default: one per core].",
        ),
    ] = None,
    threads: ThreadsOption = None,
) -> None:
    """Run the whole catalogue and write the report (index.html); stored runs are reused."""
    from deepdyn import experiments
    from deepdyn.runs import Store

    _check_out(out)
    runs = Store(store)
    _set_threads(threads)
    with _progress_bar() as bar:
        results = experiments.reproduce(
            out,
            quick=quick,
            only=only,
            progress=lambda eid: _task(bar, eid),
            store=runs,
            force=force,
            workers=workers,
        )
    table = Table(title="deepdyn reproduce")
    table.add_column("id", no_wrap=True)
    table.add_column("seconds", justify="right")
    table.add_column("key numbers")
    for result in results:
        numbers = ", ".join(f"{k}={v:.4g}" for k, v in result.numbers.items())
        table.add_row(result.experiment_id, f"{result.seconds:.1f}", numbers)
    console = _out()
    console.print(table)
    console.print(f"report  {Path(out) / 'index.html'}", highlight=False)


def _parse_grid(items: Sequence[str]) -> dict[str, list[str]]:
    grid: dict[str, list[str]] = {}
    for item in items:
        key, sep, text = item.partition("=")
        values = [v.strip() for v in text.split(",")]
        if not sep or not key.strip() or not all(values):
            raise ValueError(f'--grid expects key=v1,v2,…, got "{item}"')
        if key.strip() in grid:
            raise ValueError(
                f'--grid gives "{key.strip()}" twice: give all its values once, '
                f"e.g. --grid {key.strip()}={','.join(grid[key.strip()] + values)}"
            )
        grid[key.strip()] = values
    return grid


def _sweep_table(experiment_id: str, items: Sequence[SweepItem]) -> Table:
    """One row per config: the config values that vary, the status, the key numbers."""
    configs = [dataclasses.asdict(item.config) for item in items]
    keys = [k for k in configs[0] if len({repr(c[k]) for c in configs}) > 1] if configs else []
    table = Table(title=f"deepdyn sweep {experiment_id}")
    for key in keys:
        table.add_column(key, justify="right")
    table.add_column("run id", no_wrap=True)
    table.add_column("status")
    table.add_column("key numbers")
    shown = list(zip(items, configs))
    failed = [pair for pair in shown if pair[0].status in ("failed", "diverged")]
    if len(shown) > _SWEEP_ROWS:  # failures first, then the start of the grid
        rest = [pair for pair in shown if pair[0].status not in ("failed", "diverged")]
        shown = (failed + rest)[:_SWEEP_ROWS]
        table.caption = f"{_SWEEP_ROWS} of {len(items)} configs shown; deepdyn runs list for all"
    for item, config in shown:
        numbers = ", ".join(f"{k}={v:.4g}" for k, v in item.numbers.items())
        cells = [str(config[k]) for k in keys]
        table.add_row(*cells, item.run_id, item.status, numbers or (item.error or ""))
    return table


@app.command("sweep")
def sweep_(
    experiment_id: Annotated[str, typer.Argument(metavar="ID", help="Entry id (deepdyn list).")],
    grid: Annotated[
        list[str] | None,
        typer.Option("--grid", metavar="KEY=V1,V2", help="Values of one config field; repeatable."),
    ] = None,
    seeds: Annotated[
        int | None, typer.Option("--seeds", metavar="N", help="Add seed=0..N-1 to the grid.")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", help="Local worker processes.")] = 1,
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster",
            metavar="tcp://HOST:PORT",
            help="Run on this Dask scheduler (the store must be on a shared file system).",
        ),
    ] = None,
    group_size: Annotated[
        int,
        typer.Option("--group-size", help="Most configs per ensemble (1: no grouping)."),
    ] = GROUP_SIZE,
    figures: Annotated[
        bool, typer.Option("--figures", help="Draw every run's figure now (else on demand).")
    ] = False,
    quick: Annotated[bool, typer.Option("--quick", help="Reduced configs: seconds each.")] = False,
    store: StoreOption = _DEFAULT_STORE,
    force: ForceOption = False,
    tls_ca_file: Annotated[
        Path | None,
        typer.Option("--tls-ca-file", help="TLS: the CA that signed the scheduler's certificate."),
    ] = None,
    tls_cert: Annotated[
        Path | None, typer.Option("--tls-cert", help="TLS: this client's certificate (PEM).")
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option("--tls-key", help="TLS: this client's key, if not in --tls-cert.")
    ] = None,
    threads: ThreadsOption = None,
) -> None:
    """Run one entry over the Cartesian product of config values; stored runs are reused.

    Configs that differ only in the entry's batch fields (e.g. seed, scale) run as one ensemble.
    Interrupt with Ctrl-C: what finished stays stored; the same command continues the sweep.
    """
    from deepdyn import experiments
    from deepdyn.runs import Store, expand_grid, probe, sweep
    from deepdyn.runs import security as cluster_security

    experiment = experiments.get(experiment_id)
    parsed = _parse_grid(grid or [])
    if workers > 1 and cluster is not None:
        raise ValueError("give either --workers or --cluster, not both")
    configs = expand_grid(experiment, parsed, seeds=seeds, quick=quick)  # validate first
    runs = Store(store)
    tls = cluster_security(tls_ca_file, tls_cert, tls_key)
    if cluster is not None:  # an unreachable or silent scheduler fails before any work
        probe(cluster, timeout=_PROBE_SECONDS, security=tls)
    elif tls is not None:
        raise ValueError("--tls-* options need --cluster tls://HOST:PORT")
    if cluster is None and workers == 1:
        _set_threads(threads)  # inline: this process computes (workers get theirs in sweep)
    try:
        with _progress_bar() as bar:
            items = sweep(
                experiment,
                parsed,
                store=runs,
                seeds=seeds,
                quick=quick,
                workers=workers,
                cluster=cluster,
                group_size=group_size,
                figures=figures,
                force=force,
                progress=_task(bar, f"sweep {experiment.id}"),
                security=tls,
                threads=threads if workers > 1 else None,
            )
    except KeyboardInterrupt:
        stored = sum(runs.lookup(experiment.id, c) is not None for c in configs)
        _fail(
            f"interrupted: {stored} of {len(configs)} configs are stored; "
            "run the same command again to continue",
            130,
        )
    console = _out()
    console.print(_sweep_table(experiment.id, items))
    counts = {s: sum(item.status == s for item in items) for s in _SWEEP_STATUSES}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    console.print(f"{_count(len(items), 'config')}: {summary}  (store {store})", highlight=False)


_SWEEP_STATUSES = ("finished", "reused", "recovered", "diverged", "failed")
_SWEEP_ROWS = 40
_PROBE_SECONDS = 10.0


# ---------------------------------------------------------------- deepdyn playground

app.command("playground")(playground_command)


# ---------------------------------------------------------------- deepdyn runs …

runs_app = typer.Typer(
    name="runs",
    help="List, show, remove, export and check the stored runs.",
    no_args_is_help=True,
)
app.add_typer(runs_app)


def _short(text: str | None) -> str:
    return (text or "")[:16].replace("T", " ")


def _count(n: int, noun: str) -> str:
    """``1 run``, ``2 runs``, ``0 runs``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


FilterArgument = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="[KEY=VALUE]...", help="Only runs whose config has these values, e.g. width=3."
    ),
]
ExperimentFilter = Annotated[
    str | None, typer.Option("--experiment", metavar="ID", help="Only this entry's runs.")
]
StatusFilter = Annotated[
    str | None, typer.Option("--status", help="Only running, finished or failed runs.")
]


def _select(
    store: Path, experiment: str | None, status: str | None, where: Sequence[str]
) -> list[RunInfo]:
    from deepdyn.runs import open_store, select

    known = _catalogue.ids()
    return select(open_store(store), experiment=experiment, status=status, where=where, known=known)


@runs_app.command("list")
def runs_list(
    where: FilterArgument = None,
    store: StoreOption = _DEFAULT_STORE,
    experiment: ExperimentFilter = None,
    status: StatusFilter = None,
) -> None:
    """List the stored runs, oldest first: the config fields that vary, status, key numbers."""
    from deepdyn.runs import format_value, varying

    infos = _select(store, experiment, status, where or [])
    keys = varying(infos)
    entries = sorted({info.experiment for info in infos})
    one = len(entries) == 1  # then the title names the experiment, the column is left out
    table = Table(title=f"{entries[0]} runs in {store}" if one else f"runs in {store}")
    table.add_column("run id", no_wrap=True)
    for column in (
        ("status", "started (UTC)", *keys)
        if one
        else ("experiment", "status", "started (UTC)", *keys)
    ):
        table.add_column(column, overflow="fold")
    table.add_column("key numbers", overflow="fold")
    for info in infos:
        numbers = "\n".join(f"{k}={v:.4g}" for k, v in info.metrics.items())  # one a line
        cells = [format_value(info.config.get(k)) for k in keys]
        head = [info.status] if one else [info.experiment, info.status]
        table.add_row(info.run_id, *head, _short(info.started), *cells, numbers or info.error)
    if not infos:
        table.caption = "no runs match"
    _out().print(table)


def _show(info: RunInfo) -> Table:
    from deepdyn.runs import format_value

    table = Table(title=f"run {info.run_id}", show_header=False)
    table.add_column("field")
    table.add_column("value", overflow="fold")
    for key in ("experiment", "status", "started", "ended", "host", "path", "error"):
        value = getattr(info, key)
        if value is not None:
            table.add_row(key, str(value))
    for key, value in info.config.items():
        table.add_row(f"config.{key}", format_value(value))
    for key, number in info.metrics.items():
        table.add_row(key, f"{number:.6g}")
    return table


RunIdArgument = Annotated[
    str, typer.Argument(metavar="ID", help="Run id or its start (deepdyn runs list).")
]


@runs_app.command("show")
def runs_show(
    run_id: RunIdArgument,
    store: StoreOption = _DEFAULT_STORE,
    figure: Annotated[
        bool, typer.Option("--figure", help="Draw its figure from the stored arrays if missing.")
    ] = False,
) -> None:
    """Show one run: its config, status, numbers, folder and the trained networks it keeps."""
    from deepdyn.runs import open_store, resolve

    runs = open_store(store)
    info = resolve(runs, run_id)
    table = _show(info)
    if info.status == "finished":
        for line in runs.networks(info.run_id):
            table.add_row("network", line)
    _out().print(table)
    if figure:
        from deepdyn import experiments

        path = runs.draw(info.run_id, experiments.get(info.experiment))
        _out().print(f"figure  {path}", highlight=False)


@runs_app.command("compare")
def runs_compare(
    run_ids: Annotated[
        list[str], typer.Argument(metavar="ID ID...", help="Two or more run ids (or starts).")
    ],
    store: StoreOption = _DEFAULT_STORE,
    all_fields: Annotated[
        bool, typer.Option("--all", help="Show every config field, not only those that differ.")
    ] = False,
) -> None:
    """Compare runs side by side: the config fields that differ, then every key number."""
    from deepdyn.runs import compare, open_store, resolve

    runs = open_store(store)
    infos = runs.list()
    chosen = [resolve(runs, rid, infos) for rid in run_ids]
    table = Table(title="deepdyn runs compare")
    table.add_column("", no_wrap=True)
    for info in chosen:
        table.add_column(info.run_id, overflow="fold")
    for label, cells in compare(chosen, all_fields=all_fields):
        table.add_row(label, *cells)
    _out().print(table)


@runs_app.command("rm")
def runs_rm(run_id: RunIdArgument, store: StoreOption = _DEFAULT_STORE) -> None:
    """Remove one run: its folder and its row."""
    from deepdyn.runs import open_store, resolve

    runs = open_store(store)
    info = resolve(runs, run_id)
    runs.remove(info.run_id)
    _out().print(f"removed run {info.run_id}", highlight=False)


@runs_app.command("export")
def runs_export(
    where: FilterArgument = None,
    csv: Annotated[
        Path | None, typer.Option("--csv", metavar="FILE", help="CSV file to write.")
    ] = None,
    parquet: Annotated[
        Path | None,
        typer.Option("--parquet", metavar="FILE", help="Parquet file to write (pyarrow)."),
    ] = None,
    mlflow: Annotated[
        str | None,
        typer.Option(
            "--mlflow",
            metavar="DIR|URI",
            help="MLflow tracking folder or URI: one MLflow run per run; re-export adds only new.",
        ),
    ] = None,
    store: StoreOption = _DEFAULT_STORE,
    experiment: ExperimentFilter = None,
    status: StatusFilter = None,
) -> None:
    """Export runs (all, or those the filters select): CSV, Parquet, MLflow.

    CSV and Parquet: one row per run, one column per config field (config.KEY) and per number.
    """
    from deepdyn.runs import export_mlflow, tracking_uri, write_csv, write_parquet

    if csv is None and parquet is None and mlflow is None:
        raise ValueError("give at least one of --csv FILE, --parquet FILE, --mlflow DIR|URI")
    infos = _select(store, experiment, status, where or [])
    console = _out()
    if csv is not None:
        console.print(
            f"wrote {write_csv(infos, csv)} ({_count(len(infos), 'run')})", highlight=False
        )
    if parquet is not None:
        path = write_parquet(infos, parquet)
        console.print(f"wrote {path} ({_count(len(infos), 'run')})", highlight=False)
    if mlflow is not None:
        exported, skipped = export_mlflow(infos, mlflow)
        console.print(
            f"mlflow {tracking_uri(mlflow)}: {exported} runs exported, {skipped} already there",
            highlight=False,
        )


@runs_app.command("check")
def runs_check(
    store: StoreOption = _DEFAULT_STORE,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Rebuild index rows from complete, valid run folders (after a lost index or a "
            "kill), then check.",
        ),
    ] = False,
) -> None:
    """Check the store: damaged or edited files, folders without rows, stale runs.

    Exit 0 when clean, 1 when problems are listed (each with what to do).
    """
    from deepdyn.runs import open_store

    runs = open_store(store)
    console = _out()
    if repair:
        for line in runs.repair():
            console.print(f"repaired: {line}", highlight=False, soft_wrap=True)
    problems = runs.check()
    if not problems:
        console.print("clean", highlight=False)
        return
    for problem in problems:
        console.print(f"- {problem}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _fail(message: str, code: int) -> None:
    print(f"error: {one_line(message)}", file=sys.stderr)
    sys.exit(code)


def _entry_help(args: Sequence[str]) -> str | None:
    """The entry id of ``run ID --help`` / ``sweep ID --help`` (a known entry), else None."""
    if len(args) < 3 or args[0] not in ("run", "sweep") or "--help" not in args:
        return None
    ids = set(_catalogue.ids())
    return next((a for a in args[1:] if a in ids), None)


def _headless() -> None:
    """Figures go to files only, never a window, without importing matplotlib before a command
    needs it (its backend is read from MPLBACKEND when it loads)."""
    if "matplotlib" in sys.modules:
        import matplotlib

        matplotlib.use("Agg")
    else:
        os.environ["MPLBACKEND"] = "Agg"


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``deepdyn`` command (``argv`` defaults to ``sys.argv[1:]``)."""
    _headless()
    args = list(sys.argv[1:] if argv is None else argv)
    entry_help = _entry_help(args)
    try:
        code = app(args=args, prog_name="deepdyn", standalone_mode=False)
    except ValueError as error:
        _fail(str(error), 2)
    except typer.TyperException as error:  # click's usage errors: bad option, missing argument
        if type(error).__name__ == "NoArgsIsHelpError":  # help was already printed
            sys.exit(error.exit_code)
        _fail(error.format_message(), error.exit_code)
    except typer.Abort:
        _fail("aborted", 1)
    except OSError as error:  # the file system said no: a path to fix, not a bug
        where = f" ({error.filename})" if error.filename else ""
        _fail(
            f"{error.strerror or type(error).__name__}{where}: check the path and its permissions",
            2,
        )
    if entry_help is not None:  # run ID --help: the command's help, then the entry's fields
        show(entry_help)
    if isinstance(code, int) and code != 0:
        sys.exit(code)


if __name__ == "__main__":
    main()
