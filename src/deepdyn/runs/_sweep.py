"""Sweeps: one experiment over the Cartesian product of config values, through the store.

``expand_grid`` turns ``{key: ["v1", "v2"], ...}`` (strings, parsed like ``--set``) into configs,
validating every one before anything runs. ``sweep`` then

1. reuses every config already finished in the store (and recovers complete folders whose row
   was never written, e.g. after a kill);
2. groups the rest by ``Experiment.group_key`` (configs that differ only in ``batch_fields`` —
   seeds, init scales — run as one ensemble) and cuts groups into tasks of at most
   ``group_size`` configs, at least one task per worker when there is enough work;
3. runs the tasks inline (``workers=1``), in a local process pool (spawn) or on a Dask
   distributed cluster (``cluster="tcp://host:port"``; a task lost with its worker is run again
   by Dask elsewhere);
4. stores each run as its task finishes: the worker writes the folder (tmp/ then a rename), the
   driver — the only process that writes the SQLite index — records the row in one transaction.

A failing task is split: each of its configs is tried alone, so one bad config is recorded as
``failed`` with its error and the others still finish.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime
import itertools
import math
import multiprocessing
import socket
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from deepdyn import _threads
from deepdyn._checks import one_line
from deepdyn.runs._cluster import connect
from deepdyn.runs._defaults import GROUP_SIZE
from deepdyn.runs._experiment import (
    Experiment,
    Progress,
    deepdyn_version,
    field_types,
    make_config,
)
from deepdyn.runs._guard import check_main_guard
from deepdyn.runs._store import Store, run_id, write_folder

_POLL_SECONDS = 0.5  # how often a sweep looks at configs another process is computing


def _status(outcome: _Outcome) -> str:
    """The sweep status of a stored outcome: ``diverged`` is a failure of its own kind."""
    if outcome.status == "failed" and (outcome.error or "").startswith("Diverged"):
        return "diverged"
    return outcome.status


@dataclasses.dataclass(frozen=True)
class SweepItem:
    """One config of a sweep: its run id, ``finished``/``reused``/``recovered``/``failed``, error,
    numbers."""

    config: Any
    run_id: str
    status: str
    error: str | None
    numbers: dict[str, float]


@dataclasses.dataclass(frozen=True)
class _Outcome:
    """What a task reports for one config (picklable, sent back from workers)."""

    index: int
    status: str  # finished | failed
    numbers: dict[str, float]
    error: str | None
    started: str
    ended: str
    host: str


def expand_grid(
    experiment: Experiment,
    grid: Mapping[str, Sequence[str]],
    *,
    seeds: int | None = None,
    quick: bool = False,
) -> list[Any]:
    """The configs of the Cartesian product of ``grid`` (plus ``seed=0..seeds-1``), in order.

    Values are parsed and validated as ``make_config`` overrides; an unknown key or a bad value
    raises its ValueError before anything runs. Identical configs are kept once.
    """
    axes: dict[str, list[Any]] = {}
    for key, values in grid.items():
        values = list(values)
        if not values:
            raise ValueError(f'grid key "{key}" has no values: give at least one')
        axes[key] = values
    if seeds is not None:
        if seeds < 1:
            raise ValueError(f"seeds must be at least 1, got {seeds}")
        if "seed" not in field_types(experiment.config):
            raise ValueError(
                f'experiment "{experiment.id}" has no config field "seed": drop --seeds'
            )
        if "seed" in axes:
            raise ValueError("give seeds either with --seeds or with --grid seed=…, not both")
        axes["seed"] = [str(s) for s in range(seeds)]
    configs: list[Any] = []
    seen: set[str] = set()
    keys = list(axes)
    for combo in itertools.product(*(axes[k] for k in keys)):
        config = make_config(experiment, quick=quick, overrides=dict(zip(keys, combo)))
        rid = run_id(experiment.id, config, "")
        if rid not in seen:
            seen.add(rid)
            configs.append(config)
    return configs


def plan(
    experiment: Experiment, indexed: Sequence[tuple[int, Any]], *, group_size: int, workers: int
) -> list[list[tuple[int, Any]]]:
    """Cut ``(index, config)`` pairs into tasks: same-group configs together, each task at most
    ``group_size`` long and, when there is work enough, at least ``workers`` tasks in all."""
    groups: dict[str, list[tuple[int, Any]]] = {}
    for pair in indexed:
        groups.setdefault(experiment.group_key(pair[1]), []).append(pair)
    total = len(indexed)
    size = max(1, min(group_size, math.ceil(total / max(1, workers)))) if total else 1
    tasks: list[list[tuple[int, Any]]] = []
    for members in groups.values():
        parts = math.ceil(len(members) / size)
        step = math.ceil(len(members) / parts)  # equal parts rather than a small remainder
        tasks += [members[i : i + step] for i in range(0, len(members), step)]
    return tasks


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


def run_task(
    store_path: str,
    experiment: Experiment,
    task: Sequence[tuple[int, Any]],
    figures: bool,
    threads: int | None = None,
) -> list[_Outcome]:
    """Compute one task (one ensemble) and write its run folders; never raises for a bad config.

    This is what a pool or Dask worker executes; it writes files only, never the index.
    ``threads`` sets torch's intra-op threads (local pools give each worker its share of the
    cores: two workers with two threads each on two cores run small layers many times slower).
    """
    import matplotlib

    matplotlib.use("Agg")
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    host = socket.gethostname()
    started = _now()
    clock = time.perf_counter()
    try:
        datasets = experiment.compute([config for _, config in task])
    except Exception as error:
        if len(task) == 1:
            index = task[0][0]
            return [_Outcome(index, "failed", {}, one_line(error), started, _now(), host)]
        # one config may be at fault: try each alone so that the others still finish
        alone = [run_task(store_path, experiment, [pair], figures, threads) for pair in task]
        return [o for outcomes in alone for o in outcomes]
    seconds = (time.perf_counter() - clock) / len(task)
    outcomes = []
    for (index, config), dataset in zip(task, datasets):
        try:
            result = write_folder(
                store_path,
                experiment,
                config,
                dataset,
                figure=figures,
                started=started,
                seconds=seconds,
            )
        except Exception as error:
            outcomes.append(_Outcome(index, "failed", {}, one_line(error), started, _now(), host))
        else:
            outcomes.append(
                _Outcome(index, "finished", result.numbers, None, started, _now(), host)
            )
    return outcomes


Submit = Callable[[list[list[tuple[int, Any]]]], Iterable[list[_Outcome]]]


def _inline(store_path: str, experiment: Experiment, figures: bool) -> Submit:
    def run(tasks: list[list[tuple[int, Any]]]) -> Iterable[list[_Outcome]]:
        for task in tasks:
            yield run_task(store_path, experiment, task, figures)

    return run


def worker_threads(workers: int, threads: int | None = None) -> int:
    """Torch threads for each of ``workers`` local processes: ``threads`` when given, else
    deepdyn's policy (``deepdyn/_threads.py``: ``DEEPDYN_THREADS``, else one thread)."""
    if threads is None:
        return _threads.worker_threads(workers)
    return threads or _threads.share(workers)  # 0: torch's own default, i.e. their share


def _pool(
    store_path: str, experiment: Experiment, figures: bool, workers: int, threads: int | None
) -> Submit:
    def run(tasks: list[list[tuple[int, Any]]]) -> Iterable[list[_Outcome]]:
        context = multiprocessing.get_context("spawn")
        pool = concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context)
        try:
            threads_each = worker_threads(workers, threads)
            futures = {
                pool.submit(run_task, store_path, experiment, task, figures, threads_each): task
                for task in tasks
            }
            for future in concurrent.futures.as_completed(futures):
                try:
                    yield future.result()
                except Exception as error:  # the worker process itself died
                    yield _lost(futures[future], error)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    return run


def _dask(
    store_path: str, experiment: Experiment, figures: bool, address: str, security: Any = None
) -> Submit:
    client = connect(address, security=security)

    def run(tasks: list[list[tuple[int, Any]]]) -> Iterable[list[_Outcome]]:
        from distributed import as_completed

        futures = {}
        try:
            for task in tasks:
                future = client.submit(
                    run_task, store_path, experiment, task, figures, pure=False, retries=2
                )
                futures[future] = task
            for future in as_completed(list(futures), loop=client.loop):
                task = futures.pop(future)
                try:
                    outcomes = future.result()
                except Exception as error:  # e.g. KilledWorker after repeated worker deaths
                    outcomes = _lost(task, error)
                # forget it on the cluster before it is stored: a result still wanted is
                # recomputed when its worker dies, rewriting folders already recorded
                future.release()
                del future
                yield outcomes
        finally:
            client.cancel(list(futures))
            client.close()

    return run


def _lost(task: Sequence[tuple[int, Any]], error: BaseException) -> list[_Outcome]:
    host, now = socket.gethostname(), _now()
    message = f"worker lost: {one_line(error)}"
    return [_Outcome(index, "failed", {}, message, now, now, host) for index, _ in task]


def sweep(
    experiment: Experiment,
    grid: Mapping[str, Sequence[str]],
    *,
    store: Store,
    seeds: int | None = None,
    quick: bool = False,
    workers: int = 1,
    cluster: str | None = None,
    group_size: int = GROUP_SIZE,
    figures: bool = False,
    force: bool = False,
    progress: Progress | None = None,
    security: Any = None,
    threads: int | None = None,
) -> list[SweepItem]:
    """Run every config of ``expand_grid(experiment, grid, ...)`` into ``store``; in grid order.

    Args:
        workers: local worker processes (1: run inline). Ignored with ``cluster``.
        cluster: a Dask scheduler address (``tcp://host:port``); the store folder must be on a
            file system the workers share.
        group_size: the largest number of configs computed as one ensemble (1: no grouping).
        figures: draw each run's figure now (else ``Store.draw`` draws it when asked).
        force: recompute configs that are already finished.
        progress: ``progress(done, total, message)``, called once per stored config.
        security: a ``distributed.Security`` for a ``tls://`` cluster (see ``_cluster.security``);
            a cluster runs the pickled tasks it is sent: use only one you trust.
        threads: torch threads of each local worker process (default: ``DEEPDYN_THREADS``, else
            one, see docs/performance.md); inline (``workers=1``), a given count is set in this
            process, and without one this process's threads are left as they are.

    Interrupting (KeyboardInterrupt) cancels the tasks not yet done; what was stored stays.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if group_size < 1:
        raise ValueError(f"group_size must be at least 1, got {group_size}")
    _threads.requested(threads)  # a bad count (or DEEPDYN_THREADS) fails before any work
    configs = expand_grid(experiment, grid, seeds=seeds, quick=quick)
    if cluster is None and workers > 1:
        check_main_guard(workers)  # spawned workers re-import the main script
    version = deepdyn_version()
    with store.index.session():  # one index connection for the whole sweep (see _index.py)
        statuses, errors, numbers = _sweep(
            experiment, configs, store, version, workers, cluster, group_size, figures, force,
            progress, security, threads,
        )  # fmt: skip
    return [
        SweepItem(config, run_id(experiment.id, config, version), status or "failed", err, vals)
        for config, status, err, vals in zip(configs, statuses, errors, numbers)
    ]


def _sweep(
    experiment: Experiment,
    configs: list[Any],
    store: Store,
    version: str,
    workers: int,
    cluster: str | None,
    group_size: int,
    figures: bool,
    force: bool,
    progress: Progress | None,
    security: Any,
    threads: int | None,
) -> tuple[list[str | None], list[str | None], list[dict[str, float]]]:
    """The body of ``sweep`` (inside its index session): each config's status, error, numbers."""
    total = len(configs)
    store.clean()
    statuses: list[str | None] = [None] * total
    errors: list[str | None] = [None] * total
    numbers: list[dict[str, float]] = [{} for _ in configs]
    done = 0

    def report(i: int, status: str, error: str | None, values: dict[str, float]) -> None:
        nonlocal done
        statuses[i], errors[i], numbers[i] = status, error, values
        done += 1
        if progress is not None:
            progress(done, total, f"{done}/{total} ({status})")

    if progress is not None:
        progress(0, total, "starting")
    todo: list[tuple[int, Any]] = []
    ids = [run_id(experiment.id, config, version) for config in configs]
    rows = {} if force else store.index.get_many(ids)  # one query, not one per config
    for i, config in enumerate(configs):
        info = rows.get(ids[i])
        if info is not None and info.status == "finished" and store.damage(info) is None:
            report(i, "reused", None, dict(info.metrics))  # what store.lookup would return
            continue
        info = None if force else store.recover(experiment, config)
        if info is not None:
            report(i, "recovered", None, dict(info.metrics))
            continue
        todo.append((i, config))

    # claim every config to compute: a second sweep (or run) of the same configs waits for ours
    # (one transaction for all of them)
    claimed: list[tuple[int, Any]] = []
    waiting: list[tuple[int, Any]] = []
    holders = store.claim_many(experiment, [config for _, config in todo]) if todo else []
    for pair, holder in zip(todo, holders):
        (claimed if holder is None else waiting).append(pair)

    path = str(Path(store.path).resolve())
    submit: Submit
    if cluster is not None:
        submit = _dask(path, experiment, figures, cluster, security)
        slots = max(1, workers)
    elif workers > 1:
        submit = _pool(path, experiment, figures, workers, threads)
        slots = workers
    else:
        if threads is not None:
            _threads.apply(threads)
        submit = _inline(path, experiment, figures)
        slots = 1

    def store_outcomes(outcomes: list[_Outcome]) -> None:
        """Record a task's rows in one transaction, then report them."""
        rows, stored = [], []
        for o in outcomes:
            if statuses[o.index] is not None:
                continue  # a task Dask ran twice: the first result counts
            config = configs[o.index]
            try:
                row = store.finished_row(
                    experiment, config, o.status, started=o.started, ended=o.ended,
                    host=o.host, numbers=o.numbers, error=o.error,
                )  # fmt: skip
            except ValueError as error:  # the folder vanished: record the failure
                o = dataclasses.replace(o, status="failed", error=one_line(error))
                row = store.finished_row(
                    experiment, config, "failed", started=o.started, ended=o.ended,
                    host=o.host, error=o.error,
                )  # fmt: skip
            rows.append(row)
            stored.append(o)
        store.index.put_many(rows)
        for o in stored:
            report(o.index, _status(o), o.error, o.numbers)

    try:
        tasks = plan(experiment, claimed, group_size=group_size, workers=slots)
        if tasks:
            for outcomes in submit(tasks):
                store_outcomes(outcomes)
        while waiting:  # configs another process was computing: reuse what it stored
            time.sleep(_POLL_SECONDS)
            held: list[tuple[int, Any]] = []
            free: list[tuple[int, Any]] = []
            for pair in waiting:
                info = store.index.get(run_id(experiment.id, pair[1], version))
                (held if info is not None and store._held(info) else free).append(pair)
            waiting = held
            for i, config in free:
                info = store.lookup(experiment.id, config) or store.recover(experiment, config)
                if info is not None:
                    report(i, "reused", None, dict(info.metrics))
                elif store.claim(experiment, config) is None:  # its claimant died: ours now
                    for task in plan(experiment, [(i, config)], group_size=1, workers=1):
                        store_outcomes(run_task(path, experiment, task, figures))
                else:
                    waiting.append((i, config))
    finally:
        for i, config in claimed:
            if statuses[i] is None:  # interrupted before it was stored
                store.release(experiment, config, "KeyboardInterrupt: the sweep was interrupted")
    store.clean()
    return statuses, errors, numbers
