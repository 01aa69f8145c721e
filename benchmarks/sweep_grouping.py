"""Sweep grouping: one ensemble per group versus one run per task, on the same local pool.

The workload (issue "Runs and sweeps"): the catalogue entry ``train`` — a width-3, depth-15
tanh MLP on the step data (100 samples, test 500), Adam lr 0.01, 200 steps, float64 — swept
over 64 seeds × 4 init scales (γ = 0.5, 1, 1.5, 2) = 256 configs, with 2 worker processes:

(a) grouped: ``sweep(..., group_size=64)`` — seeds and scales are the entry's batch fields, so
    the 256 configs form 4 tasks of 64 members, each one batched ``fit`` (two per worker);
(b) one run per task: ``sweep(..., group_size=1)`` — 256 tasks of one member each.

Both write every run to a fresh store (arrays.nc, numbers.json, config.json, log, one index row
each; no figures), so the time is the whole sweep as a user sees it, storage included. Checks
printed: every config finished in both stores, and (a) and (b) stored bit-identical arrays for
every config (the entry runs under ``batch_invariant``).

Run:  PYTHONPATH=src .venv/bin/python benchmarks/sweep_grouping.py [--seeds 64] [--steps 200]
      [--workers 2]
The last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import xarray as xr

from deepdyn import experiments
from deepdyn.runs import Store, sweep


def _timed(store: Store, grid: dict[str, list[str]], seeds: int, workers: int, size: int):
    start = time.perf_counter()
    items = sweep(
        experiments.get("train"), grid, store=store, seeds=seeds, workers=workers, group_size=size
    )
    return time.perf_counter() - start, items


def _invariance_cost(steps: int, members: int) -> tuple[float, float]:
    """Seconds of one grouped task's training, with and without ``batch_invariant``."""
    import torch

    from deepdyn import MLP, data, fit
    from deepdyn.dynamics import batch_invariant

    X, y = data.load("step", n=100, seed=0, dtype=torch.float64)
    times = []
    for invariant in (True, False):
        net = MLP(
            1, 3, 15, activation="tanh", scale=[0.5, 1.0, 1.5, 2.0] * (members // 4),
            ensemble=members, seed=0, dtype=torch.float64,
        )  # fmt: skip
        start = time.perf_counter()
        with batch_invariant(invariant):
            fit(net, X, y, optimizer="adam", lr=0.01, steps=steps)
        times.append(time.perf_counter() - start)
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=64)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    grid = {
        "scale": ["0.5", "1.0", "1.5", "2.0"],
        "steps": [str(args.steps)],
        "width": ["3"],
        "depth": ["15"],
        "activation": ["tanh"],
        "data": ["step"],
    }
    configs = 4 * args.seeds
    with tempfile.TemporaryDirectory() as tmp:
        grouped_store, single_store = Store(Path(tmp) / "grouped"), Store(Path(tmp) / "single")
        t_group, items_g = _timed(grouped_store, grid, args.seeds, args.workers, 64)
        t_single, items_s = _timed(single_store, grid, args.seeds, args.workers, 1)
        finished = all(i.status == "finished" for i in items_g + items_s)
        identical = 0
        for a, b in zip(items_g, items_s):
            da = xr.load_dataset(grouped_store.folder(a.run_id) / "arrays.nc")
            db = xr.load_dataset(single_store.folder(b.run_id) / "arrays.nc")
            identical += int(
                a.run_id == b.run_id
                and all(np.array_equal(da[v].values, db[v].values) for v in da.data_vars)
                and da.attrs == db.attrs
            )
    ratio = t_single / t_group
    t_inv, t_plain = _invariance_cost(args.steps, 64)
    rows = [
        ("grouped (64 members per task)", t_group, t_group / configs),
        ("one run per task", t_single, t_single / configs),
    ]
    print(f"sweep of {configs} configs, {args.steps} steps, {args.workers} workers, "
          f"{platform.processor() or platform.machine()}")  # fmt: skip
    print(f"{'mode':32s} {'seconds':>9s} {'s/config':>9s}")
    for name, total, per in rows:
        print(f"{name:32s} {total:9.2f} {per:9.4f}")
    print(f"ratio (one per task / grouped): {ratio:.1f}x   target >= 10x")
    print(f"all finished: {finished}; bit-identical arrays: {identical}/{configs}")
    print(
        f"cost of batch_invariant, one 64-member fit of {args.steps} steps (no test loss): "
        f"{t_inv:.2f} s invariant vs {t_plain:.2f} s plain ({t_inv / t_plain:.2f}x)"
    )
    print(
        json.dumps(
            {
                "benchmark": "sweep_grouping",
                "configs": configs,
                "steps": args.steps,
                "workers": args.workers,
                "seconds_grouped": round(t_group, 3),
                "seconds_single": round(t_single, 3),
                "ratio": round(ratio, 2),
                "all_finished": finished,
                "bit_identical": identical,
                "fit64_invariant_seconds": round(t_inv, 3),
                "fit64_plain_seconds": round(t_plain, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
