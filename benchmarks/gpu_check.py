"""One-shot GPU check (run on a lent CUDA machine; never part of the tests).

1. Correctness: every scheme on CUDA agrees with the CPU in float64 (outputs and gradients),
   ensemble members equal networks built alone, fit() runs on CUDA.
2. Speed: the thesis Fig 8.3–8.5 workload (15 ReLU layers, widths 2/3/4, 20 γ × trials,
   1000 inputs, mean L² norm of every layer) as one deepdyn ensemble per width versus the
   per-trial torch.nn.Sequential loop, both on the GPU, and deepdyn on the GPU versus the CPU.

Prints a table and one JSON line; writes the JSON to $OUT/gpu_check.json when OUT is set.
"""

from __future__ import annotations

import copy
import json
import os
import platform
import time

import numpy as np
import torch
from torch import nn

import deepdyn as dd

D = torch.float64


def _build(kind: str, **kw):
    if kind == "map":
        return dd.MLP(2, 4, 5, activation="tanh", dtype=D, **kw)
    if kind == "ode":
        return dd.NeuralODE(2, 4, 3, rtol=1e-10, atol=1e-12, dtype=D, **kw)
    if kind == "ode-adjoint":
        return dd.NeuralODE(2, 4, 3, rtol=1e-10, atol=1e-12, adjoint=True, dtype=D, **kw)
    return dd.ResNet(2, 4, 6, scheme=kind, dtype=D, **kw)


def correctness(dev: torch.device) -> dict[str, float]:
    out: dict[str, float] = {}
    x = torch.randn(64, 2, dtype=D, generator=torch.Generator().manual_seed(0))
    for kind in ("map", "euler", "heun", "leapfrog", "ode", "ode-adjoint"):
        cpu = _build(kind, seed=1)
        gpu = copy.deepcopy(cpu).to(dev)
        yc, yg = cpu(x), gpu(x.to(dev))
        gc = torch.autograd.grad(yc.sum(), list(cpu.parameters()))
        gg = torch.autograd.grad(yg.sum(), list(gpu.parameters()))
        out[f"{kind}_output_gap"] = (yc - yg.cpu()).abs().max().item()
        out[f"{kind}_grad_gap"] = max((a - b.cpu()).abs().max().item() for a, b in zip(gc, gg))
        ens = _build(kind, seed=1, ensemble=4).to(dev)
        ye = ens(x.to(dev))
        out[f"{kind}_member_gap"] = max(
            (ye[k] - _build(kind, seed=1 + k).to(dev)(x.to(dev))).abs().max().item()
            for k in range(4)
        )
    Xr = torch.rand(256, 2, dtype=D, generator=torch.Generator().manual_seed(2)) * 2 - 1
    yr = (Xr.norm(dim=1) < 0.6).long()
    net = dd.ResNet(2, 3, 10, ensemble=8, dtype=D).to(dev)
    hist = dd.fit(net, Xr.to(dev), yr.to(dev), steps=200, lr=0.05)
    out["fit_loss_first"] = hist.loss[0].mean().item()
    out["fit_loss_last"] = hist.loss[-1].mean().item()
    return out


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize()


def deepdyn_norms(width, gammas, trials, x, dev):
    net = dd.MLP(1, width, 15, activation="relu", readout=None, init="uniform",
                 scale=list(np.repeat(gammas, trials)), ensemble=len(gammas) * trials,
                 seed=0).to(dev)  # fmt: skip
    with torch.no_grad():
        tr = net.trajectory(x.to(dev))
        norms = tr.states[1:].norm(dim=-1).mean(dim=-1)  # (layer, ensemble)
    return norms.cpu().numpy()


def loop_norms(width, gammas, trials, x, dev):
    xs = x.to(dev)
    res = np.zeros((len(gammas), trials, 15))
    for i, g in enumerate(gammas):
        for t in range(trials):
            layers: list[nn.Module] = []
            for l in range(15):
                lin = nn.Linear(1 if l == 0 else width, width)
                nn.init.uniform_(lin.weight, -g, g)
                nn.init.uniform_(lin.bias, -g, g)
                layers += [lin, nn.ReLU()]
            model = nn.Sequential(*layers).to(dev)
            z = xs
            with torch.no_grad():
                for l in range(15):
                    z = model[2 * l + 1](model[2 * l](z))
                    res[i, t, l] = z.norm(dim=-1).mean().item()
    return res


def timed(fn, dev, repeat=3):
    times = []
    for _ in range(repeat):
        _sync(dev)
        t0 = time.perf_counter()
        fn()
        _sync(dev)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def speed(dev: torch.device, trials: int, loop_trials: int) -> dict[str, float]:
    gammas = np.linspace(0.1, 3.0, 20)
    x = torch.linspace(-1, 1, 1000)[:, None]
    out: dict[str, float] = {}
    for width in (2, 3, 4):
        deepdyn_norms(width, gammas, 2, x, dev)  # warm-up
        a_gpu = timed(lambda w=width: deepdyn_norms(w, gammas, trials, x, dev), dev)
        a_cpu = timed(lambda w=width: deepdyn_norms(w, gammas, trials, x, torch.device("cpu")),
                      torch.device("cpu"), repeat=1)  # fmt: skip
        # the loop is timed on fewer trials and scaled (it is linear in the trial count)
        b_gpu = timed(lambda w=width: loop_norms(w, gammas, loop_trials, x, dev), dev, repeat=1)
        b_gpu *= trials / loop_trials
        out[f"w{width}_deepdyn_gpu_s"] = a_gpu
        out[f"w{width}_deepdyn_cpu_s"] = a_cpu
        out[f"w{width}_loop_gpu_s"] = b_gpu
        out[f"w{width}_ratio_loop_over_deepdyn_gpu"] = b_gpu / a_gpu
        out[f"w{width}_ratio_cpu_over_gpu"] = a_cpu / a_gpu
    return out


def main() -> None:
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    info = {
        "device": torch.cuda.get_device_name(0) if dev.type == "cuda" else platform.processor(),
        "torch": torch.__version__,
        "cpu_threads": torch.get_num_threads(),
    }
    t0 = time.perf_counter()
    corr = correctness(dev)
    print("correctness (max abs gaps, float64):")
    for k, v in corr.items():
        print(f"  {k:32s} {v:.3e}")
    sp = speed(dev, trials=100, loop_trials=5)
    sp.update({f"big_{k}": v for k, v in speed(dev, trials=1000, loop_trials=5).items()
               if "deepdyn" in k and "loop" not in k})  # fmt: skip
    print("speed (seconds, medians):")
    for k, v in sp.items():
        print(f"  {k:40s} {v:.4g}")
    result = {"benchmark": "gpu_check", **info, **corr, **sp,
              "seconds_total": time.perf_counter() - t0}  # fmt: skip
    line = json.dumps(result)
    print(line)
    if os.environ.get("OUT"):
        with open(os.path.join(os.environ["OUT"], "gpu_check.json"), "w") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
