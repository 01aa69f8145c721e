"""FTLE field of a 200 × 200 input grid for an ensemble of 16 networks (width 8, depth 20).

Workload: ``deepdyn.analysis.ftle_field(net, box, 200)`` — λ(x) = log σ_max(∂z_L/∂x) / L of
every member at 40 000 grid points (the deepest layer and the whole network), against the loop a
user would write: for every member and point, ``torch.autograd.functional.jacobian`` of the
member's flow, its top singular value, its log over L. The loop is timed on ``--loop-points``
points per member (all 16 members) and its per-point time scaled to the whole grid; the two
agree on those points to the printed tolerance (same float32 network). Target: < 5 s on 2 cores.

Run:  PYTHONPATH=src .venv/bin/python benchmarks/ftle.py [--threads 2] [--loop-points 40]
Prints a table, then one JSON line (the last line).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import time

import torch

import deepdyn
from deepdyn.analysis import ftle, ftle_field


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--grid", type=int, default=200)
    ap.add_argument("--ensemble", type=int, default=16)
    ap.add_argument("--width", type=int, default=8)
    ap.add_argument("--depth", type=int, default=20)
    ap.add_argument("--loop-points", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    load0 = os.getloadavg()[0]
    E, L = args.ensemble, args.depth
    net = deepdyn.MLP(
        2, args.width, L, activation="tanh", init="normal", scale=1.5, ensemble=E, seed=0
    )
    box = ((-1.0, 1.0), (-1.0, 1.0))
    ftle_field(net, box, 16)  # warm-up
    fast = math.inf
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        field = ftle_field(net, box, args.grid, layers=[L], whole=True)
        fast = min(fast, time.perf_counter() - t0)
    points = args.grid**2

    # the user's loop, on the first loop-points grid points of every member
    gx = torch.linspace(-1, 1, args.grid)
    grid = torch.stack(torch.meshgrid(gx, gx, indexing="xy"), -1).reshape(-1, 2)
    sub = grid[: args.loop_points]
    members = [net.member(k) for k in range(E)]
    t0 = time.perf_counter()
    loop = torch.zeros(E, len(sub))
    for k, m in enumerate(members):
        for i, x in enumerate(sub):
            J = torch.autograd.functional.jacobian(lambda u, m=m: m.flow(u[None])[0], x)
            loop[k, i] = torch.linalg.svdvals(J)[0].log() / L
    loop_s = time.perf_counter() - t0
    loop_full = loop_s * points / len(sub)
    ours = torch.from_numpy(field.values[0].reshape(E, -1)[:, : len(sub)]).float()
    err = float((ours - loop).abs().max())
    ref = ftle(copy.deepcopy(net).double(), sub.double(), layers=[L])[0]  # float64 reference
    err_ours = float((ours.double() - ref).abs().max())
    err_loop = float((loop.double() - ref).abs().max())
    load1 = os.getloadavg()[0]
    print(f"load average {load0:.2f} at start, {load1:.2f} at end; threads {args.threads}")
    print(
        f"ftle_field {args.grid}x{args.grid}, ensemble {E}, width {args.width}, depth {L}: "
        f"{fast:.3f} s (best of {args.repeats}), {E * points / fast:,.0f} point-members/s"
    )
    print(
        f"autograd loop: {loop_s:.3f} s for {E}x{len(sub)} points -> {loop_full:.1f} s for the "
        f"grid; ratio {loop_full / fast:.0f}x"
    )
    print(
        f"on those points max |Δλ| ours vs loop {err:.2e}; against float64: ours "
        f"{err_ours:.2e}, loop {err_loop:.2e}"
    )
    print(
        json.dumps(
            {
                "benchmark": "ftle",
                "grid": args.grid,
                "ensemble": E,
                "width": args.width,
                "depth": L,
                "threads": args.threads,
                "seconds": round(fast, 3),
                "target_seconds": 5.0,
                "loop_seconds_extrapolated": round(loop_full, 1),
                "loop_points_timed": E * len(sub),
                "ratio": round(loop_full / fast, 1),
                "max_abs_diff": err,
                "err_vs_float64_ours": err_ours,
                "err_vs_float64_loop": err_loop,
                "load_start": round(load0, 2),
                "load_end": round(load1, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
