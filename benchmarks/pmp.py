"""Training by the maximum principle against Adam, and the adjoint's memory against backprop.

Part 1 — Li et al.'s toy problem (sin on [−π, π], 100 points evenly spaced, 5 components =
the input repeated, 20 tanh residual layers with δ = 0.25, no readout, λ = 1e-3, zero initial
weights, float64, full batch). Per method: the median wall time of one iteration (forward,
backward, update) over the timed iterations, and the iterations and seconds until the training
loss first falls below ``TARGET`` (1% above 0.2154, the value every method reaches from the
zero initialization on these points — the basin of that start, not a floor: the repeated input
keeps the 5 components equal, so the flow is 1-D and increasing, and the best increasing map
scores 0.0656; random initializations end near 0.07 … 0.18, docs/optimal-control.md §7).
Methods: E-MSA (ρ = 5, 3 L-BFGS iterations per layer), basic MSA (10 L-BFGS iterations),
the gradient form of MSA (eq. 4.11, lr 0.1), SGD (lr 0.1) and Adam (lr 0.005) via deepdyn.fit.

Part 2 — a neural ODE (width 3, 4 control intervals, sigmoid readout, 200 rings points,
float64) with rk4 at n = 12 … 1000 fixed steps over [0, 1]: the bytes of the distinct tensors
autograd saves for backward (``torch.autograd.graph.saved_tensors_hooks``; CPU torch has no
allocator peak counter, and this is the part of the peak that grows with n), and the wall time
of forward + backward, for backprop through the solver and for torchdiffeq's adjoint.

One thread by default: the tensors are tiny (100 × 5), and on the shared 2-core VM two threads
made every method 10–25× slower under load (measured with --quick while the load average was
9–12), which would say more about thread contention than about the algorithms.

Run:  PYTHONPATH=src .venv/bin/python benchmarks/pmp.py [--quick] [--threads 1] [--repeat 3]
The last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import time

import torch

import deepdyn
from deepdyn.data import rings
from deepdyn.dynamics import NeuralODE, ResNet
from deepdyn.experiments.control_adjoint import _saved_bytes as saved_bytes
from deepdyn.train.pmp import msa

D = torch.float64
TARGET = 0.2176  # 1.01 × 0.2154, the zero initialization's basin (measured, see the docstring)


def toy() -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.linspace(-math.pi, math.pi, 100, dtype=D)[:, None]
    return x.repeat(1, 5), torch.sin(x).repeat(1, 5)


def toy_net() -> ResNet:
    return ResNet(5, 5, 20, h=0.25, readout=None, init="zero", dtype=D)


def run_method(name: str, steps: int) -> tuple[list[float], list[float]]:
    """(loss per iteration, seconds at the end of each iteration)."""
    X, y = toy()
    net = toy_net()
    if name in ("emsa", "msa", "gradient"):
        kw = {
            "emsa": {"rho": 5.0, "inner_steps": 3},
            "msa": {"inner_steps": 10},
            "gradient": {"lr": 0.1},
        }[name]
        h = msa(net, X, y, method=name, steps=steps, regularizer=1e-3, on_nonfinite="stop", **kw)  # type: ignore[arg-type]
        assert h.seconds is not None
        return h.loss.tolist(), h.seconds.tolist()
    stamps: list[float] = []
    start = time.perf_counter()
    lr = {"sgd": 0.1, "adam": 0.005}[name]
    hist = deepdyn.fit(
        net,
        X,
        y,
        optimizer=name,
        lr=lr,
        steps=steps,
        regularizer=1e-3,
        callback=lambda _s, _l: stamps.append(time.perf_counter() - start),
    )
    return hist.loss.tolist(), stamps


def part1(quick: bool, repeat: int) -> dict[str, dict[str, float]]:
    plan = {"emsa": 10, "msa": 10, "gradient": 300, "sgd": 300, "adam": 600}
    if quick:
        plan = {k: max(3, v // 10) for k, v in plan.items()}
    out = {}
    for name, steps in plan.items():
        per_iter, reach_s, reach_it, final = [], [], [], []
        for _ in range(repeat):
            loss, secs = run_method(name, steps)
            gaps = [b - a for a, b in zip([0.0, *secs[:-1]], secs)]
            per_iter.append(statistics.median(gaps[1:] if len(gaps) > 1 else gaps))
            hit = next((i for i, v in enumerate(loss) if v <= TARGET), None)
            reach_it.append(math.nan if hit is None else hit)
            reach_s.append(math.nan if hit is None else (secs[hit - 1] if hit > 0 else 0.0))
            final.append(loss[-1])
        out[name] = {
            "iterations": steps,
            "seconds_per_iteration": statistics.median(per_iter),
            "iterations_to_target": statistics.median(reach_it),
            "seconds_to_target": statistics.median(reach_s),
            "final_loss": statistics.median(final),
        }
    return out


def part2(quick: bool, repeat: int) -> dict[str, dict[str, float]]:
    X, y = rings(200, seed=0, dtype=D)
    out = {}
    for n in (12, 100) if quick else (12, 40, 100, 400, 1000):
        row: dict[str, float] = {}
        for method in ("backprop", "adjoint"):
            net = NeuralODE(
                2,
                3,
                4,
                lift="pad",
                init="normal",
                solver="rk4",
                dtype=D,
                options={"step_size": 1.0 / n},
                adjoint=method == "adjoint",
            )
            runs = [saved_bytes(net, X, y) for _ in range(repeat)]
            row[f"{method}_MiB"] = runs[0][0] / 2**20
            row[f"{method}_seconds"] = statistics.median(r[1] for r in runs)
        out[str(n)] = row
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    load0 = os.getloadavg()[0]
    p1 = part1(args.quick, args.repeat)
    print(f"toy problem (2-core CPU VM, {args.threads} threads), target loss {TARGET}")
    print(
        f"{'method':>9} {'iters':>6} {'s/iter':>9} {'iters→target':>13} {'s→target':>9} "
        f"{'final loss':>11}"
    )
    for name, r in p1.items():
        print(
            f"{name:>9} {r['iterations']:>6} {r['seconds_per_iteration']:>9.4f} "
            f"{r['iterations_to_target']:>13} {r['seconds_to_target']:>9.3f} "
            f"{r['final_loss']:>11.5f}"
        )
    ratio = p1["emsa"]["seconds_per_iteration"] / p1["adam"]["seconds_per_iteration"]
    print(f"E-MSA / Adam time per iteration: {ratio:.1f}×")
    p2 = part2(args.quick, args.repeat)
    print("\nneural ODE, rk4, saved-for-backward memory and forward+backward time")
    print(
        f"{'steps':>6} {'backprop MiB':>13} {'adjoint MiB':>12} {'ratio':>7} "
        f"{'backprop s':>11} {'adjoint s':>10}"
    )
    for n, r in p2.items():
        print(
            f"{n:>6} {r['backprop_MiB']:>13.3f} {r['adjoint_MiB']:>12.4f} "
            f"{r['backprop_MiB'] / r['adjoint_MiB']:>7.0f} {r['backprop_seconds']:>11.3f} "
            f"{r['adjoint_seconds']:>10.3f}"
        )
    load1 = os.getloadavg()[0]
    print(f"\nload average (1 min): {load0:.2f} at start, {load1:.2f} at end")
    print(
        json.dumps(
            {
                "benchmark": "pmp",
                "torch": torch.__version__,
                "machine": platform.machine(),
                "threads": args.threads,
                "quick": args.quick,
                "load": [load0, load1],
                "toy": p1,
                "emsa_over_adam_per_iteration": ratio,
                "ode_memory": p2,
            }
        )
    )


if __name__ == "__main__":
    main()
