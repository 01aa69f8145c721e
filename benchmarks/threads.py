"""Torch threads for deepdyn's small problems: 1 against 2, on an idle and on a busy machine.

Four workloads of the size deepdyn runs all day (each ~1 s with one thread on an idle core):

* ``resnet_fit``: ``fit`` of a ResNet(2 → 8, 20 layers, tanh) on 500 moons, Adam, 100 steps;
* ``node_fit``: ``fit`` of a NeuralODE(2 → 8, dopri5, rtol 1e-3) on 200 moons, Adam, 40 steps;
* ``sklearn_fit``: ``FlowClassifier(steps=100).fit`` on the 1797 digits (64 features);
* ``sweep_group``: one sweep task of the ``train`` entry, 16 seeds as one ensemble
  (``Experiment.compute``; 50 steps, width 3, depth 15) — what a sweep worker runs.

Each (workload, threads) runs in a fresh process (``torch.set_num_threads`` before anything),
one warm-up then ``--repeats`` timed calls, median. "busy": ``--busy`` background processes spin
on the CPU meanwhile (another user's job; on a 2-core machine one busy process takes half of it).
Thread counts alternate within each workload so both see the same machine.

Run:  PYTHONPATH=src .venv/bin/python benchmarks/threads.py [--repeats 3] [--busy 1]
The last line on stdout is one JSON object: seconds per (load, workload, threads) and the
2-thread/1-thread ratios.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

WORKLOADS = ("resnet_fit", "node_fit", "sklearn_fit", "sweep_group")


def _workload(name: str):  # -> a callable that runs it once
    import torch

    import deepdyn
    from deepdyn import data

    if name == "resnet_fit":
        X, y = data.load("moons", n=500, seed=0)

        def run() -> None:
            net = deepdyn.ResNet(2, 8, 20, activation="tanh", seed=0)
            deepdyn.fit(net, X, y, optimizer="adam", lr=1e-2, steps=100)

    elif name == "node_fit":
        X, y = data.load("moons", n=200, seed=0)

        def run() -> None:
            net = deepdyn.NeuralODE(2, 8, rtol=1e-3, atol=1e-4, seed=0)
            deepdyn.fit(net, X, y, optimizer="adam", lr=1e-2, steps=40)

    elif name == "sklearn_fit":
        from sklearn.datasets import load_digits

        from deepdyn.sklearn import FlowClassifier

        Xd, yd = load_digits(return_X_y=True)

        def run() -> None:
            FlowClassifier(steps=100, random_state=0).fit(Xd / 16.0, yd)

    elif name == "sweep_group":
        from deepdyn import experiments
        from deepdyn.runs import make_config

        entry = experiments.get("train")
        configs = [make_config(entry, overrides={"seed": str(s), "steps": "50"}) for s in range(16)]

        def run() -> None:
            entry.compute(configs)

    else:
        raise SystemExit(f"unknown workload {name}")
    del torch
    return run


def _child(name: str, threads: int, repeats: int) -> None:
    import torch

    torch.set_num_threads(threads)
    run = _workload(name)
    run()  # warm-up: lazy imports, allocator, first kernels
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    print(json.dumps({"times": times, "threads": torch.get_num_threads()}))


def _spin(stop) -> None:  # a competing CPU-bound process
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


def _measure(name: str, threads: int, repeats: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "DEEPDYN_THREADS"):
        env.pop(var, None)
    done = subprocess.run(
        [sys.executable, __file__, "--child", name, str(threads), str(repeats)],
        capture_output=True, text=True, env=env, timeout=3600,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"{name} with {threads} threads failed:\n{done.stderr[-2000:]}")
    record = json.loads(done.stdout.splitlines()[-1])
    assert record["threads"] == threads
    return statistics.median(record["times"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--busy", type=int, default=1, help="competing busy processes")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--child", nargs=3, metavar=("WORKLOAD", "THREADS", "REPEATS"))
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], int(args.child[1]), int(args.child[2]))
        return
    names = args.workloads.split(",")
    print(f"{os.cpu_count()} cores; load {os.getloadavg()[0]:.2f}; repeats {args.repeats}")
    results: dict[str, dict[str, dict[str, float]]] = {}
    for load in ("idle", "busy"):
        stop = multiprocessing.Event()
        spinners = [
            multiprocessing.Process(target=_spin, args=(stop,), daemon=True)
            for _ in range(args.busy if load == "busy" else 0)
        ]
        for p in spinners:
            p.start()
        try:
            for i, name in enumerate(names):
                order = (1, 2) if i % 2 == 0 else (2, 1)
                row = {f"{t}": _measure(name, t, args.repeats) for t in order}
                results.setdefault(load, {})[name] = row
                print(
                    f"{load:<5} {name:<12} 1 thread {row['1']:7.2f} s   2 threads {row['2']:7.2f} s"
                    f"   2/1 = {row['2'] / row['1']:5.2f}   (load {os.getloadavg()[0]:.2f})",
                    flush=True,
                )
        finally:
            stop.set()
            for p in spinners:
                p.join(timeout=5)
                if p.is_alive():
                    p.terminate()
    ratios = {
        f"{load}_{name}": round(row["2"] / row["1"], 2)
        for load, rows in results.items()
        for name, row in rows.items()
    }
    print(f"load at the end {os.getloadavg()[0]:.2f}")
    print(json.dumps({"seconds": results, "ratio_2_over_1": ratios}))


if __name__ == "__main__":
    main()
