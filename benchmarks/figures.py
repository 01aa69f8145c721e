"""Benchmark: the whole grid-deformation figure of a 50-layer width-2 ResNet (thesis Fig D.5).

Workload: ``ResNet(2, 2, 50, activation="tanh")`` (float32, seed 0); a lattice of 41 horizontal
+ 41 vertical lines × 200 points per line (16 400 points) pushed through every layer (one
``net.trajectory`` call), drawn in 51 panels (layer 0 … 50, one LineCollection each), plus the
classifier's level sets on a 300 × 300 mesh with 1000 ring samples on top; saved as a PNG.
Target: the whole figure under 5 s on 2 cores.

    PYTHONPATH=src .venv/bin/python benchmarks/figures.py [--repeat 3] [--threads 1,2] [--out f.png]

Prints a table of the median timings per torch thread count, side by side, and ends with one
JSON line. On a loaded 2-core machine the 2-thread column can be many times slower than the
1-thread one: every one of the 50 small layers is an OpenMP region whose threads wait for a core.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import torch

import deepdyn
from deepdyn import viz


def one(out: Path) -> dict[str, float]:
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    net = deepdyn.ResNet(2, 2, 50, activation="tanh", T=5.0, scale=1.5, seed=0)
    X, y = deepdyn.data.rings(1000, seed=0)
    grid = viz.grid_lines(41, 200)
    t1 = time.perf_counter()
    deformed = viz.deform_grid(net, grid)  # (layer, line, point, component)
    t2 = time.perf_counter()
    levels = viz.level_sets(net, resolution=300)
    t3 = time.perf_counter()
    fig, axes = plt.subplots(6, 9, figsize=(18, 12))
    for l, ax in enumerate(axes.flat[:51]):
        viz.draw_grid(ax, deformed, layer=l, linewidth=0.3)
        ax.set_title(f"layer {l}", fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    viz.draw_level_sets(axes.flat[51], levels, X=X, labels=y, size=2)
    for ax in axes.flat[52:]:
        ax.set_axis_off()
    t4 = time.perf_counter()
    fig.savefig(out, dpi=60)
    plt.close(fig)
    t5 = time.perf_counter()
    t["setup"] = t1 - t0
    t["grid_trajectory"] = t2 - t1
    t["level_sets"] = t3 - t2
    t["draw"] = t4 - t3
    t["savefig"] = t5 - t4
    t["total"] = t5 - t0
    return t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--threads", default="1,2", help="comma-separated torch thread counts")
    p.add_argument("--out", type=Path, default=None, help="keep the PNG here")
    a = p.parse_args()
    threads = [int(t) for t in str(a.threads).split(",")]
    load0 = os.getloadavg()[0]
    med: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = a.out or Path(tmp) / "figure.png"
        for n in threads:
            torch.set_num_threads(n)
            runs = [one(out) for _ in range(a.repeat)]
            med[n] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        size = out.stat().st_size
    load1 = os.getloadavg()[0]
    print(f"grid deformation figure: 82 lines × 200 points, 51 layers; 300×300 level sets; "
          f"median of {a.repeat}; load {load0:.2f} → {load1:.2f}; png {size} bytes")  # fmt: skip
    print(f"{'phase':<18}" + "".join(f"{f'{n} thread(s)':>14}" for n in threads))
    for k in med[threads[0]]:
        print(f"{k:<18}" + "".join(f"{med[n][k]:>14.3f}" for n in threads))
    for n in threads:
        print(f"{n} thread(s): target total < 5 s {'met' if med[n]['total'] < 5 else 'MISSED'}")
    print(json.dumps({"benchmark": "figures", "repeat": a.repeat, "load": [load0, load1],
                      **{f"threads{n}_{k}_s": round(v, 4) for n in threads
                         for k, v in med[n].items()}}))  # fmt: skip


if __name__ == "__main__":
    main()
