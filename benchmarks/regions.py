"""Exact linear-region counts against a grid estimate (thesis App. C, docs/thesis-notes.md §6).

Workload: ReLU MLPs with 2 inputs and hidden widths [16, 16, 16] and [32, 32, 32], He weights
N(0, 2/fan_in) and biases N(0, 1) (``MLP(..., init="he", bias_init="normal")``, float64), on
the box [−1, 1]², several seeds. For each network:

* exact: ``deepdyn.analysis.linear_regions`` (layer-by-layer splitting of convex cells), timed;
* grid: the activation patterns at the 1000 × 1000 grid points of the box, counted as distinct
  patterns (an activation region is convex, so one pattern is one region), timed;
* missed: exact regions whose pattern no grid point sees (all thin or small regions), and the
  smallest region area.

Targets on 2 cores: exact count under 1 s ([16, 16, 16]) and 3 s ([32, 32, 32]) per network.

Run:  PYTHONPATH=src .venv/bin/python benchmarks/regions.py [--seeds 5] [--grid 1000] [--threads 2]
The last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch

from deepdyn import MLP
from deepdyn.analysis import activation_patterns, linear_regions


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--grid", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    u = np.linspace(-1.0, 1.0, args.grid)
    grid = np.stack(np.meshgrid(u, u), -1).reshape(-1, 2)  # (sample, input)
    box = ((-1.0, 1.0), (-1.0, 1.0))
    out: dict[str, object] = {}
    header = f"{'widths':>12} {'seed':>4} {'exact':>6} {'grid':>6} {'missed':>6} "
    header += f"{'min area':>9} {'exact s':>8} {'grid s':>7}"
    print(header)
    for w in (16, 32):
        widths = [w, w, w]
        times, counts, missed = [], [], []
        for seed in range(args.seeds):
            net = MLP(
                2,
                widths,
                3,
                activation="relu",
                init="he",
                bias_init="normal",
                seed=seed,
                readout=None,
                dtype=torch.float64,
            )
            t0 = time.perf_counter()
            r = linear_regions(net, box)
            t_exact = time.perf_counter() - t0
            t0 = time.perf_counter()
            pats = np.ascontiguousarray(np.packbits(activation_patterns(net, grid), axis=1))
            rows = np.unique(pats.view(np.dtype((np.void, pats.shape[1]))).ravel())
            seen = {bytes(p) for p in rows}
            t_grid = time.perf_counter() - t0
            exact = {p.tobytes() for p in np.packbits(r.patterns, axis=1)}
            assert seen <= exact, "the grid saw a pattern the exact count lacks"
            miss = len(exact - seen)
            print(
                f"{widths!s:>12} {seed:>4} {r.count:>6} {len(seen):>6} {miss:>6} "
                f"{r.measures().min():>9.1e} {t_exact:>8.3f} {t_grid:>7.2f}"
            )
            times.append(t_exact)
            counts.append(r.count)
            missed.append(miss)
        out[f"seconds_{w}x3"] = round(float(np.median(times)), 4)
        out[f"seconds_{w}x3_max"] = round(float(np.max(times)), 4)
        out[f"counts_{w}x3"] = counts
        out[f"missed_by_grid_{w}x3"] = missed
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
