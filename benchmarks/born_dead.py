"""Born-dead probability by Monte Carlo: 10⁵ ReLU MLPs of depth 50 and width 4 as one ensemble
(thesis Thm 8.1.2, docs/thesis-notes.md §2; Lu, Shin, Su & Karniadakis 2019).

Workload: ``deepdyn.analysis.born_dead_probability([4] * 50, trials=100_000)`` for the
initializers uniform[−1, 1] (weights and biases), He (zero biases) and RAI, at x₀ = 1 (point-wise)
and on a 65-point grid of [−1, 1] (domain-wide); one generator, weights (ensemble, out, in), the
states propagated for all members at once and members dropped as soon as a layer dies. The
closed form 1 − (15/16)^50 = 0.96032 is exact for the point-wise probability under symmetric laws.

Run:  PYTHONPATH=src .venv/bin/python benchmarks/born_dead.py [--trials 100000] [--threads 2]
Prints a table, then one JSON line per initializer.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch

from deepdyn.analysis import born_dead_probability


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=100_000)
    ap.add_argument("--depth", type=int, default=50)
    ap.add_argument("--width", type=int, default=4)
    ap.add_argument("--points", type=int, default=65)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    widths = [args.width] * args.depth
    rows = []
    for init in ("uniform", "he", "rai"):
        t0 = time.perf_counter()
        point_only = born_dead_probability(widths, init=init, trials=args.trials, points=0)
        t_point = time.perf_counter() - t0
        t0 = time.perf_counter()
        r = born_dead_probability(widths, init=init, trials=args.trials, points=args.points)
        t_both = time.perf_counter() - t0
        assert (point_only.point == r.point).all()
        rows.append(
            {
                "init": init,
                "trials": args.trials,
                "depth": args.depth,
                "width": args.width,
                "p_point": float(r.point[-1]),
                "p_point_ci": [float(v) for v in r.point_ci[-1]],
                "p_domain": float(r.domain[-1]),
                "p_domain_ci": [float(v) for v in r.domain_ci[-1]],
                "closed_form": float(r.bound[-1]),
                "seconds_point": round(t_point, 3),
                "seconds_point_and_domain": round(t_both, 3),
            }
        )
    print(
        f"{'init':>8} {'P(dead at x0)':>22} {'P(dead on [-1,1])':>22} {'closed form':>11} "
        f"{'s point':>8} {'s both':>7}"
    )
    for row in rows:
        pci, dci = row["p_point_ci"], row["p_domain_ci"]
        print(
            f"{row['init']:>8} {row['p_point']:.4f} [{pci[0]:.4f}, {pci[1]:.4f}] "
            f"{row['p_domain']:.4f} [{dci[0]:.4f}, {dci[1]:.4f}] {row['closed_form']:>11.5f} "
            f"{row['seconds_point']:>8.2f} {row['seconds_point_and_domain']:>7.2f}"
        )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    for row in rows:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
