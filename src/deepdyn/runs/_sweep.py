"""Sweeps: run one experiment over the Cartesian product of config values, through the store.

``expand_grid`` turns ``{key: ["v1", "v2"], ...}`` (strings, parsed like ``--set``) into configs,
validating every one before anything runs. ``sweep`` runs them with ``Store.run``: inline when
``workers == 1``, else in a process pool (spawn context; each worker opens its own ``Store`` on
the same folder). Finished configs are reused; a failing config is recorded and the rest go on.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import importlib
import itertools
import multiprocessing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deepdyn.runs._store import Store, _one_line, run_id

if TYPE_CHECKING:
    from deepdyn.experiments._base import Experiment, Progress


@dataclasses.dataclass(frozen=True)
class SweepItem:
    """One config of a sweep: its run id, ``finished``/``reused``/``failed``, error, numbers."""

    config: Any
    run_id: str
    status: str
    error: str | None
    numbers: dict[str, float]


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
    from deepdyn.experiments._base import _field_types, make_config

    axes: dict[str, list[Any]] = {}
    for key, values in grid.items():
        values = list(values)
        if not values:
            raise ValueError(f'grid key "{key}" has no values: give at least one')
        axes[key] = values
    if seeds is not None:
        if seeds < 1:
            raise ValueError(f"seeds must be at least 1, got {seeds}")
        if "seed" not in _field_types(experiment.config):
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


def _run_one(
    store: Store, experiment: Experiment, config: Any, force: bool
) -> tuple[str, str | None, dict[str, float]]:
    """Run one config into ``store``: (status, message, numbers); never raises an Exception."""
    if not force and store.lookup(experiment.id, config) is not None:
        status = "reused"
    else:
        status = "finished"
    try:
        result = store.run(experiment, config, force=force)
    except Exception as error:  # store.run already marked the row failed
        return "failed", _one_line(error), {}
    return status, None, dict(result.numbers)


def _worker(
    store_path: str, module: str, experiment_id: str, values: dict[str, Any], force: bool
) -> tuple[str, str | None, dict[str, float]]:
    """Process-pool entry point: import the entry's module (it registers), run one config."""
    import matplotlib

    matplotlib.use("Agg")
    from deepdyn import experiments

    importlib.import_module(module)
    experiment = experiments.get(experiment_id)
    config = experiment.config(**values)
    return _run_one(Store(store_path), experiment, config, force)


def sweep(
    experiment: Experiment,
    grid: Mapping[str, Sequence[str]],
    *,
    store: Store,
    seeds: int | None = None,
    quick: bool = False,
    workers: int = 1,
    force: bool = False,
    progress: Progress | None = None,
) -> list[SweepItem]:
    """Run every config of ``expand_grid(experiment, grid, ...)`` into ``store``, in grid order.

    ``workers > 1`` runs them in a process pool (each worker imports the module that defines
    ``experiment.run`` so test or plug-in entries register there too). ``progress(done, total,
    message)`` is called once per finished config.
    """
    from deepdyn.experiments._base import deepdyn_version

    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    configs = expand_grid(experiment, grid, seeds=seeds, quick=quick)
    version = deepdyn_version()
    total = len(configs)
    outcomes: list[tuple[str, str | None, dict[str, float]] | None] = [None] * total
    if progress is not None:
        progress(0, total, "starting")

    def report(done: int, outcome: tuple[str, str | None, dict[str, float]]) -> None:
        if progress is not None:
            progress(done, total, f"{done}/{total} ({outcome[0]})")

    if workers == 1:
        for i, config in enumerate(configs):
            outcomes[i] = _run_one(store, experiment, config, force)
            report(i + 1, outcomes[i])  # type: ignore[arg-type]
    else:
        module = experiment.run.__module__
        context = multiprocessing.get_context("spawn")
        path = str(Path(store.path).resolve())
        with concurrent.futures.ProcessPoolExecutor(
            max_workers=workers, mp_context=context
        ) as pool:
            futures = {
                pool.submit(
                    _worker, path, module, experiment.id, dataclasses.asdict(config), force
                ): i
                for i, config in enumerate(configs)
            }
            for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
                i = futures[future]
                try:
                    outcomes[i] = future.result()
                except Exception as error:  # the worker itself died (not the run)
                    outcomes[i] = ("failed", _one_line(error), {})
                report(done, outcomes[i])  # type: ignore[arg-type]
    items = []
    for config, outcome in zip(configs, outcomes):
        assert outcome is not None
        status, message, numbers = outcome
        items.append(
            SweepItem(config, run_id(experiment.id, config, version), status, message, numbers)
        )
    return items
