"""Catalogue entries computed side by side: one spawned process per core, each with its share
of the cores' torch threads (one on two cores).

Most entries are many small layers (a few microseconds of arithmetic per kernel, the rest
Python and dispatch), which a second torch thread does not speed up; two entries at once on
two cores do. ``reproduce`` calls :func:`compute_entries` first, so that every entry's run is
in the store, then reads them back in catalogue order as before: the report, its order and its
numbers do not depend on the number of workers. An entry whose worker fails is left to the
sequential pass, which recomputes it in the main process (and raises its error there).
"""

from __future__ import annotations

import concurrent.futures
import datetime
import multiprocessing
import os
import pickle
from collections.abc import Mapping, Sequence
from typing import Any

from deepdyn.runs import Experiment, Progress, Store


def default_workers(entries: int) -> int:
    """One worker per core, at most one per entry (1: compute in the main process)."""
    return max(1, min(os.cpu_count() or 1, entries))


def _compute(
    store_path: str, experiment: Experiment, config: Any, force: bool, threads: int
) -> float:
    """In a worker: the entry's run into the store; returns its seconds."""
    import matplotlib
    import torch

    matplotlib.use("Agg")
    torch.set_num_threads(threads)
    return Store(store_path).run(experiment, config, force=force).seconds


def _portable(experiment: Experiment) -> bool:
    """Whether a spawned process can rebuild ``experiment`` (not defined in a __main__ script)."""
    try:
        pickle.dumps(experiment)
    except Exception:
        return False
    return getattr(experiment.run, "__module__", "__main__") != "__main__"


# Seconds of each long entry's full config on the 2-core machine, one thread, two entries at
# once (benchmarks/results/reproduce-cpu.txt): the order in which a fresh store starts them, so
# that the longest do not start last. Only the order depends on these numbers; a store that
# has run an entry before uses its own measured time instead.
_FRESH_ESTIMATES = {
    "control-msa": 75.0,
    "flow-classification": 73.0,
    "capacity-reachability": 43.0,
    "flow-ring-dimension": 38.0,
    "flow-increasing": 20.0,
    "capacity-approximation": 18.0,
    "control-adjoint": 15.0,
    "dying-relu": 15.0,
}


def _estimate(store: Store, experiment: Experiment) -> float:
    """Seconds of the entry's last finished run in this store (any config); else the fresh
    estimate above (0 for the short entries)."""
    runs = store.list(experiment=experiment.id, status="finished")
    if not runs:
        return _FRESH_ESTIMATES.get(experiment.id, 0.0)
    spans = [
        (datetime.datetime.fromisoformat(r.ended) - datetime.datetime.fromisoformat(r.started))
        for r in runs
        if r.ended
    ]
    return max((s.total_seconds() for s in spans), default=0.0)


def compute_entries(
    store: Store,
    pairs: Sequence[tuple[Experiment, Any]],
    *,
    workers: int,
    force: bool = False,
    progress: Mapping[str, Progress | None] | None = None,
) -> dict[str, float]:
    """Compute the runs of ``pairs`` (experiment, config) that the store lacks (all with
    ``force``) in ``workers`` spawned processes, longest first as far as the store's history
    tells; returns the seconds of each entry computed. Failures are skipped silently: the
    caller's sequential pass recomputes them and reports the error."""
    done: dict[str, float] = {}
    if workers < 2 or len(pairs) < 2:  # nothing to share out: the caller computes in order
        return done
    todo = [(e, c) for e, c in pairs if _portable(e) and (force or store.lookup(e.id, c) is None)]
    if len(todo) < 2:
        return done
    todo.sort(key=lambda pair: -_estimate(store, pair[0]))
    import torch

    # each worker gets its share of the cores, never more threads than this process uses
    threads = max(1, min(torch.get_num_threads(), (os.cpu_count() or 1) // workers))
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {}
        for experiment, config in todo:
            futures[pool.submit(_compute, str(store.path), experiment, config, force, threads)] = (
                experiment
            )
            report = (progress or {}).get(experiment.id)
            if report is not None:
                report(0, 1, "queued in a worker process")
        for future in concurrent.futures.as_completed(futures):
            experiment = futures[future]
            try:
                done[experiment.id] = future.result()
            except Exception:  # left to the sequential pass, which raises it properly
                continue
            report = (progress or {}).get(experiment.id)
            if report is not None:
                report(1, 1, f"computed in {done[experiment.id]:.1f} s")
    return done
