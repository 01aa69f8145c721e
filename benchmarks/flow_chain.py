"""The ensemble flow at the thesis' widths, per layer, in two source trees side by side.

Workload (float32): a ResNet ensemble (euler, tanh perceptron field, lift="pad", no readout)
of E members, widths C ∈ {2, 3, 4, 8, 16}, L layers, N inputs in [−1, 1] — the chain of
thesis ch. 7–8 and of the sweeps — and the Fig 8.3 ReLU MLP ensemble through
``analysis.activation_norms``. Per case: milliseconds per layer of

* ``f``:  ``net(x)`` under ``torch.no_grad()``;
* ``fb``: ``net(x).pow(2).mean().backward()`` (training an ensemble: the sweep workload).

Each measurement runs in a fresh subprocess per tree, the trees alternating (A B A B …), so the
noise of a shared machine falls on both alike; the table reports medians and after/before.

    PYTHONPATH=src .venv/bin/python benchmarks/flow_chain.py --before /tmp/before/src --after src
    … --quick   (E = 64, L = 20)    … --threads 1 --clock cpu   (on a busy machine)

The last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics

from tree_compare import child_seconds  # benchmarks/ is this script's folder

CHILD = r"""
import json, sys, time, torch
threads, C, E, L, N, case, repeat, clock = (int(a) if a.isdigit() else a for a in sys.argv[1:])
now = time.process_time if clock == "cpu" else time.perf_counter
torch.set_num_threads(threads)
import deepdyn as dd
from deepdyn.analysis import activation_norms
x = torch.linspace(-1, 1, N)[:, None]
if case == "mlp":
    net = dd.MLP(1, C, L, activation="relu", readout=None, init="uniform", ensemble=E)
    def work():
        activation_norms(net, x).mean(-1)
else:
    net = dd.ResNet(1, C, L, activation="tanh", lift="pad", readout=None, ensemble=E)
    def work():
        if case == "fb":
            net.zero_grad()
            net(x).pow(2).mean().backward()
        else:
            with torch.no_grad():
                net(x)
work()
times = []
for _ in range(repeat):
    t = now(); work(); times.append(now() - t)
print(json.dumps(sorted(times)[len(times) // 2] / L * 1e3))
"""


def _time(tree: str, args: list[str]) -> float:
    return child_seconds(tree, CHILD, args)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True, help="src folder of the tree before")
    ap.add_argument("--after", required=True, help="src folder of the tree after")
    ap.add_argument("--widths", type=int, nargs="*", default=[2, 3, 4, 8, 16])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3, help="alternating subprocess rounds")
    ap.add_argument("--repeat", type=int, default=5, help="timed calls per subprocess")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="cpu: process time (with --threads 1, a proxy robust to a busy machine)",
    )
    args = ap.parse_args()
    E, L, N = (64, 20, 1000) if args.quick else (256, 50, 1000)
    print(f"load average at start: {os.getloadavg()[0]:.2f}; threads {args.threads}; "
          f"clock {args.clock}")  # fmt: skip
    print(f"ResNet euler tanh: E = {E}, L = {L}, N = {N}; MLP relu (Fig 8.3): E = 2000, L = 15")
    rows: dict[str, tuple[float, float]] = {}
    for C in args.widths:
        for case in ("f", "fb", "mlp"):
            e, l = (2000, 15) if case == "mlp" else (E, L)
            child = [str(args.threads), str(C), str(e), str(l), str(N), case, str(args.repeat),
                     args.clock]  # fmt: skip
            a, b = [], []
            for _ in range(args.rounds):
                a.append(_time(args.before, child))
                b.append(_time(args.after, child))
            rows[f"C={C} {case}"] = (statistics.median(a), statistics.median(b))
    print(f"{'case':10} {'before ms/layer':>16} {'after ms/layer':>15} {'before/after':>13}")
    for case, (a, b) in rows.items():
        print(f"{case:10} {a:16.3f} {b:15.3f} {a / b:13.2f}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    print(json.dumps({"benchmark": "flow_chain", "threads": args.threads,
                      "cases": {c: {"before_ms": a, "after_ms": b, "speedup": a / b}
                                for c, (a, b) in rows.items()}}))  # fmt: skip


if __name__ == "__main__":
    main()
