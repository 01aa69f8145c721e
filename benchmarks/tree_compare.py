"""Two source trees of deepdyn side by side on the flow's hot paths (before/after a refactor).

Each measurement runs in a fresh subprocess per tree, the trees alternating (A B A B …), so
that the noise of a shared machine falls on both alike; the table reports medians and the
ratio after/before.

    PYTHONPATH=src .venv/bin/python benchmarks/tree_compare.py --before /tmp/v1/src --after src

Workloads (float32, 2 threads): a deep narrow ResNet ensemble (E = 100, C = 3, L = 100,
N = 1000 inputs) forward and forward + backward, for euler and heun; the thesis Fig 8.3 MLP
ensemble (E = 2000, C = 3, L = 15 ReLU, N = 1000) through ``layer_map``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import json, sys, time, torch
torch.set_num_threads(2)
import deepdyn as dd
case, repeat = sys.argv[1], int(sys.argv[2])
x = torch.linspace(-1, 1, 1000)[:, None]
if case.startswith("resnet"):
    scheme = case.split("-")[1]
    net = dd.ResNet(1, 3, 100, scheme=scheme, ensemble=100, readout=None)
    backward = case.endswith("-fb")
    def work():
        if backward:
            net.zero_grad()
            net(x).pow(2).mean().backward()
        else:
            with torch.no_grad():
                net(x)
else:
    net = dd.MLP(1, 3, 15, activation="relu", readout=None, ensemble=2000)
    def work():
        with torch.no_grad():
            net.layer_map(x, lambda z: z.norm(dim=-1).mean(-1))
work()
times = []
for _ in range(repeat):
    t = time.perf_counter(); work(); times.append(time.perf_counter() - t)
print(json.dumps(sorted(times)[len(times) // 2]))
"""

CASES = ("resnet-euler-f", "resnet-euler-fb", "resnet-heun-f", "resnet-heun-fb", "mlp-layer_map")


def child_seconds(tree: str, child: str, args: list[str]) -> float:
    """Run the program ``child`` with ``args`` in a fresh process on the source tree ``tree``;
    the last line it prints is a number (also used by flow_chain.py)."""
    env = {**os.environ, "PYTHONPATH": tree}
    out = subprocess.run([sys.executable, "-c", child, *args], env=env,
                         capture_output=True, text=True, check=True)  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])


def _time(tree: str, case: str, repeat: int) -> float:
    return child_seconds(tree, CHILD, [case, str(repeat)])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True, help="src folder of the tree before")
    ap.add_argument("--after", required=True, help="src folder of the tree after")
    ap.add_argument("--rounds", type=int, default=3, help="alternating subprocess rounds")
    ap.add_argument("--repeat", type=int, default=5, help="timed calls per subprocess")
    ap.add_argument("--cases", nargs="*", default=list(CASES), choices=CASES)
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    rows = {}
    for case in args.cases:
        a, b = [], []
        for _ in range(args.rounds):
            a.append(_time(args.before, case, args.repeat))
            b.append(_time(args.after, case, args.repeat))
        rows[case] = (statistics.median(a), statistics.median(b))
    print(f"{'case':18} {'before s':>10} {'after s':>10} {'after/before':>13}")
    for case, (a, b) in rows.items():
        print(f"{case:18} {a:10.4f} {b:10.4f} {b / a:13.3f}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    print(json.dumps({c: {"before": a, "after": b, "ratio": b / a} for c, (a, b) in rows.items()}))


if __name__ == "__main__":
    main()
