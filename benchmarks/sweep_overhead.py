"""The fixed cost of one stored run in a sweep: everything but the computation.

A toy entry whose ``run`` does next to nothing (a 100-point line as an xarray Dataset) is swept
over N seeds with ``group_size=1`` — every config its own task, its own folder, its own index row
— into a fresh store, so the wall time per config *is* the overhead: planning, the store look-ups
and claims, the worker's folder (arrays.nc, config.json, numbers.json, log.txt under tmp/ and a
rename), the checksums and the index row. Measured

* inline (``workers=1``): the per-config cost in this process, with a cProfile breakdown by phase;
* with ``--workers 2`` local processes: the same plus the pool (spawn, the worker's imports, the
  pickled task and result), and the worker start (time to the first stored config).

Run:  PYTHONPATH=src .venv/bin/python benchmarks/sweep_overhead.py [--configs 200] [--workers 2]
      [--profile]
Before/after a change: run it alternately with ``PYTHONPATH=<old tree>/src`` and ``src`` (it uses
only ``deepdyn.runs``' public names).
The last line on stdout is one JSON object (``inline_ms_per_config``, ``pool_ms_per_config``,
``worker_start_seconds``).
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import json
import os
import pstats
import tempfile
import time
from pathlib import Path

import numpy as np
import xarray as xr

from deepdyn import experiments
from deepdyn.runs import Experiment, Store, sweep

ID = "bench-overhead"


@dataclasses.dataclass(frozen=True)
class Config:
    n: int = 100
    seed: int = 0


def _run(config: Config, progress):
    y = np.linspace(0.0, 1.0, config.n) + 1e-3 * config.seed
    return xr.Dataset({"y": ("sample", y)}, coords={"sample": np.arange(config.n)})


def _figure(ds: xr.Dataset):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot(ds["y"].values)
    return fig


def _numbers(ds: xr.Dataset) -> dict[str, float]:
    return {"mean": float(ds["y"].mean())}


EXPERIMENT = experiments.register(
    Experiment(
        id=ID,
        title="Sweep overhead",
        reference="§0",
        caption="A line.",
        config=Config,
        run=_run,
        figure=_figure,
        numbers=_numbers,
    ),
    replace=True,
)

# the phases of one stored config, by the functions that carry them (cumulative seconds)
PHASES = {
    "expand_grid (parse, validate, run ids)": ("expand_grid",),
    "look-ups (index rows, recover)": ("lookup", "recover", "get_many"),
    "claims (running rows)": ("claim", "claim_many"),
    "compute (the entry's run)": ("_run",),
    "write folder (netCDF, json, log, rename)": ("write_folder",),
    "record (checksums + index row)": ("store_outcomes",),
}


def _sweep(
    store: Store, configs: int, workers: int, first: list[float], expect: str = "finished"
) -> float:
    start = time.perf_counter()

    def progress(done: int, total: int, message: str) -> None:
        if done == 1 and not first:
            first.append(time.perf_counter() - start)

    items = sweep(
        EXPERIMENT, {}, store=store, seeds=configs, workers=workers, group_size=1,
        progress=progress,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    bad = [item for item in items if item.status != expect]
    if bad:
        raise SystemExit(f"{len(bad)} configs did not finish: {bad[0]}")
    return seconds


def _phases(profile: cProfile.Profile, configs: int) -> dict[str, float]:
    stats = pstats.Stats(profile)
    cumulative: dict[str, float] = {}
    for (_, _, name), (_, _, _, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        cumulative[name] = max(cumulative.get(name, 0.0), ct)
    out = {}
    for label, names in PHASES.items():
        out[label] = 1e3 * sum(cumulative.get(n, 0.0) for n in names) / configs
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--profile", action="store_true", help="print the top functions too")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; load {os.getloadavg()[0]:.2f}; {args.configs} configs")
    with tempfile.TemporaryDirectory() as tmp:
        _sweep(Store(Path(tmp) / "warm"), 5, 1, [])  # imports, netCDF library, caches
        profile = cProfile.Profile()
        store = Store(Path(tmp) / "inline")
        profile.enable()
        inline = _sweep(store, args.configs, 1, [])
        profile.disable()
        plain = _sweep(Store(Path(tmp) / "inline-plain"), args.configs, 1, [])
        first: list[float] = []
        pool = _sweep(Store(Path(tmp) / "pool"), args.configs, args.workers, first)
        reuse_start = time.perf_counter()
        _sweep(store, args.configs, 1, [], "reused")  # every config stored already
        reuse = time.perf_counter() - reuse_start
    n = args.configs
    phases = _phases(profile, n)
    print("\nper config, inline, under cProfile (ms; cProfile inflates Python-heavy parts):")
    for label, ms in phases.items():
        print(f"  {label:<44} {ms:8.2f}")
    print(f"  {'total (profiled)':<44} {1e3 * inline / n:8.2f}")
    print(f"\n{'mode':<44} {'seconds':>8} {'ms/config':>10}")
    print(f"{'inline (workers=1), no profiler':<44} {plain:8.2f} {1e3 * plain / n:10.2f}")
    print(f"{f'pool (workers={args.workers})':<44} {pool:8.2f} {1e3 * pool / n:10.2f}")
    print(f"{'reuse (every config already stored)':<44} {reuse:8.2f} {1e3 * reuse / n:10.2f}")
    print(f"worker start (sweep start to the first stored config): {first[0]:.2f} s")
    print(f"load at the end {os.getloadavg()[0]:.2f}")
    if args.profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
    result = {
        "configs": n,
        "inline_ms_per_config": round(1e3 * plain / n, 2),
        "pool_ms_per_config": round(1e3 * pool / n, 2),
        "reuse_ms_per_config": round(1e3 * reuse / n, 2),
        "worker_start_seconds": round(first[0], 2),
        "phases_ms": {k: round(v, 2) for k, v in phases.items()},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
