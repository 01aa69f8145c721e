"""Thesis Fig 8.3–8.5: activation norms of deep ReLU MLPs at initialization, as one ensemble.

The workload: MLPs with 15 ReLU hidden layers of width C ∈ {2, 3, 4}, weights and biases
uniform on [−γ, γ], for 20 values of γ in [0.1, 3] (np.linspace) and 100 trials each, fed 1000
inputs evenly spaced in [−1, 1]. For every layer l = 0 … 15 (l = 0 is the input x itself) and
trial, the statistic is the mean over the 1000 inputs of the L² norm over components of z_l:

    norms[γ, trial, l] = (1/1000) Σ_i ‖z_l(x_i)‖₂

(a) deepdyn: per width, ONE ensemble of E = 20·100 = 2000 members,
    ``MLP(1, C, 15, readout=None, init="uniform", scale=[γ]*100…, ensemble=2000, seed=0)``
    (member k has seed k), then ``deepdyn.analysis.activation_norms(net, x).mean(-1)`` (every
    layer's norms, computed as the flow runs; before 2026-12 the benchmark called ``layer_map``
    with ``torch.linalg.vector_norm``, ~10× slower on the flow's component-major states)
    (layer, ensemble, sample, component). Network construction (init) is timed.
(b) the loop a user would write: for each γ and trial, ``torch.manual_seed(seed)``, an
    ``nn.Sequential(Linear(1, C), ReLU(), Linear(C, C), ReLU(), …)`` with 15 Linear+ReLU
    pairs, ``nn.init.uniform_(·, −γ, γ)`` on weights and biases, a forward pass that loops the
    modules to collect the activations, the norms; under torch.no_grad().

Both run in the same process, with the same torch.set_num_threads. The table splits (a) into
its phases and adds a what-if: the same θ drawn with one torch.rand call per member
(``one_draw_init``, a prototype here, asserted bitwise equal to the library's draws) in place of
the library's init, and the ratio that would give. Checks printed:

* same computation: for four members, member k's parameters are copied into the baseline
  Sequential and its norms must equal deepdyn's to 1e-5 relative to max(1, |norm|);
* same distribution (different draws): at each (γ, layer) the trial means of (a) and (b) must
  agree within 5 standard errors of their difference (plus 1e-6 absolute, for the layers that
  are exactly zero); the largest |difference| / standard error is printed.

Run:  PYTHONPATH=src .venv/bin/python benchmarks/ensemble_init.py [--quick] [--repeat 3]
      [--threads 2] [--profile]
The last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import platform
import pstats
import statistics
import time

import numpy as np
import torch
from torch import nn

from deepdyn import MLP
from deepdyn.analysis import activation_norms

DEPTH = 15
WIDTHS = (2, 3, 4)
GAMMAS = np.linspace(0.1, 3.0, 20)
SAMPLES = 1000
SAME_WEIGHTS_FRACTIONS = (0.0, 0.27, 0.62, 1.0)  # members checked against copied weights
Z_TOL = 5.0  # standard errors allowed between the two trial means


def inputs() -> torch.Tensor:
    """(sample, input): 1000 points evenly spaced in [−1, 1]."""
    return torch.linspace(-1.0, 1.0, SAMPLES).unsqueeze(1)


# ---------------------------------------------------------------------------- (a) deepdyn


def build_ensemble(width: int, gammas: np.ndarray, trials: int) -> MLP:
    scales = np.repeat(gammas, trials).tolist()  # member k = (γ index k // trials, trial)
    return MLP(
        1,
        width,
        DEPTH,
        activation="relu",
        readout=None,
        init="uniform",
        scale=scales,
        ensemble=len(scales),
        seed=0,
    )


def run_deepdyn(
    width: int, gammas: np.ndarray, trials: int
) -> tuple[np.ndarray, dict[str, float], MLP]:
    """norms (γ, trial, layer) and the phase times (s): init, flow (with the norms), reshape."""
    x = inputs()
    with torch.no_grad():
        t0 = time.perf_counter()
        net = build_ensemble(width, gammas, trials)
        t1 = time.perf_counter()
        # the statistic of every layer, computed as the flow runs (no full trajectory in memory)
        norms = activation_norms(net, x).mean(-1)  # (layer, ensemble)
        t2 = time.perf_counter()
        out = norms.T.reshape(len(gammas), trials, DEPTH + 1).numpy()  # (γ, trial, layer)
        t3 = time.perf_counter()
    return out, {"init": t1 - t0, "flow": t2 - t1, "reshape": t3 - t2}, net


# ------------------------------------------------------------------------ (b) the loop


def sequential(width: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for l in range(DEPTH):
        layers += [nn.Linear(1 if l == 0 else width, width), nn.ReLU()]
    return nn.Sequential(*layers)


def loop_norms(model: nn.Sequential, x: torch.Tensor) -> np.ndarray:
    """(layer,) mean L² norm of the input and of every ReLU output."""
    acts = [x]
    z = x
    for module in model:
        z = module(z)
        if isinstance(module, nn.ReLU):
            acts.append(z)
    return np.array([a.norm(dim=1).mean().item() for a in acts])


def run_loop(width: int, gammas: np.ndarray, trials: int) -> np.ndarray:
    """norms (γ, trial, layer), one nn.Sequential per (γ, trial)."""
    x = inputs()
    out = np.empty((len(gammas), trials, DEPTH + 1))
    with torch.no_grad():
        for g, gamma in enumerate(gammas):
            for t in range(trials):
                torch.manual_seed(g * trials + t)
                model = sequential(width)
                for p in model.parameters():
                    nn.init.uniform_(p, -gamma, gamma)
                out[g, t] = loop_norms(model, x)
    return out


# ------------------------------------------------- what-if: one random draw per member


def one_draw_init(net: MLP) -> float:
    """Seconds to redraw ``net``'s θ with ONE torch.rand call per member instead of one per
    tensor (library: 2 per layer and member, 60 000 calls for E = 2000), in the library's draw
    order (layer by layer, weight then bias). A prototype for Network.reset_parameters, uniform
    init only; asserts the result is bitwise the library's. Nothing in the library changes."""
    subs = [net.field.sublayers(l)[0] for l in range(net.depth)]
    params = [p for s in subs for p in (s.weight, s.bias) if p is not None]
    sizes = [p[0].numel() for p in params]
    t0 = time.perf_counter()
    with torch.no_grad():
        flat = torch.empty(net.members, sum(sizes))  # (ensemble, parameter)
        for k, seed in enumerate(net.seeds):
            torch.rand(sum(sizes), generator=torch.Generator().manual_seed(seed), out=flat[k])
        flat = (flat * 2 - 1) * torch.tensor(net.scales, dtype=flat.dtype).unsqueeze(1)
        drawn = [c.reshape(p.shape) for c, p in zip(flat.split(sizes, dim=1), params)]
    seconds = time.perf_counter() - t0
    for d, p in zip(drawn, params):
        assert torch.equal(d, p), "one-draw init differs from the library's draws"
    return seconds


# ------------------------------------------------------------------------------ checks


def check_same_weights(net: MLP, ours: np.ndarray, width: int, trials: int) -> float:
    """Copy member k's θ into the Sequential: the norms must agree to 1e-5, relative to
    max(1, |norm|) (float32; at γ = 3 the deep norms reach ~1e6, where 1 ulp is ~0.1)."""
    x = inputs()
    err = 0.0
    with torch.no_grad():
        for f in SAME_WEIGHTS_FRACTIONS:
            k = round(f * (net.members - 1))
            model = sequential(width)
            linears = [m for m in model if isinstance(m, nn.Linear)]
            for l, lin in enumerate(linears):
                sub = net.field.sublayers(l)[0]
                lin.weight.copy_(sub.weight[k])  # (out, in)
                assert sub.bias is not None
                lin.bias.copy_(sub.bias[k])
            theirs = loop_norms(model, x)
            mine = ours[k // trials, k % trials]
            rel = np.abs(theirs - mine) / np.maximum(1.0, np.abs(mine))
            err = max(err, float(rel.max()))
    assert err <= 1e-5, f"same weights, different norms: max rel. diff = {err:.2e} > 1e-5"
    return err


def check_distribution(a: np.ndarray, b: np.ndarray) -> float:
    """Largest |mean_a − mean_b| / standard error over (γ, layer); asserts it is ≤ Z_TOL."""
    n = a.shape[1]
    diff = a.mean(1) - b.mean(1)  # (γ, layer)
    se = np.sqrt(a.var(1, ddof=1) / n + b.var(1, ddof=1) / n)
    z = np.abs(diff) / np.maximum(se, 1e-12)
    z = np.where(np.abs(diff) <= 1e-6, 0.0, z)  # both exactly zero (dead networks)
    worst = float(z.max())
    assert worst <= Z_TOL, f"distributions differ: max |Δmean|/se = {worst:.2f} > {Z_TOL}"
    return worst


# -------------------------------------------------------------------------------- main


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    try:
        with open("/proc/loadavg") as f:
            return f.read().split()[0]
    except OSError:
        return "?"


def profile_deepdyn(width: int, gammas: np.ndarray, trials: int) -> str:
    prof = cProfile.Profile()
    prof.enable()
    run_deepdyn(width, gammas, trials)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(15)
    return buf.getvalue()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="10 trials per γ, one repeat")
    p.add_argument("--repeat", type=int, default=3, help="report the median of N runs")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--profile", action="store_true", help="cProfile (a) once per width")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    trials = 10 if args.quick else 100
    repeat = 1 if args.quick else max(1, args.repeat)
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, {cpu_model()}, "
        f"load average {load_average()}"
    )
    print(
        f"{len(GAMMAS)} γ × {trials} trials = {len(GAMMAS) * trials} networks per width, "
        f"depth {DEPTH}, {SAMPLES} inputs; median of {repeat} run(s)"
    )

    rows = []
    for width in WIDTHS:
        phases: list[dict[str, float]] = []
        loop_times: list[float] = []
        for _ in range(repeat):
            a, ph, net = run_deepdyn(width, GAMMAS, trials)
            phases.append(ph)
            t0 = time.perf_counter()
            b = run_loop(width, GAMMAS, trials)
            loop_times.append(time.perf_counter() - t0)
        same = check_same_weights(net, a, width, trials)
        zmax = check_distribution(a, b)
        one_draw = statistics.median(one_draw_init(net) for _ in range(repeat))
        del net
        med = {k: statistics.median(ph[k] for ph in phases) for k in phases[0]}
        t_a = statistics.median(sum(ph.values()) for ph in phases)
        t_b = statistics.median(loop_times)
        rows.append({"width": width, "a": t_a, "b": t_b, "phases": med, "one_draw": one_draw})
        print(
            f"width {width}: same weights → max |Δnorm|/max(1,|norm|) = {same:.1e} (≤ 1e-5); "
            f"independent draws → max |Δmean|/se = {zmax:.2f} (≤ {Z_TOL:g}); "
            f"runs (a) {[round(sum(ph.values()), 3) for ph in phases]} s, "
            f"(b) {[round(t, 3) for t in loop_times]} s"
        )
        if args.profile:
            print(profile_deepdyn(width, GAMMAS, trials))

    head = (
        f"{'width':>5} {'(a) init':>9} {'flow':>7} {'reshape':>7} {'(a) total':>10} "
        f"{'(b) loop':>9} {'b/a':>6} {'| one-draw init':>16} {'b/a with it':>12}"
    )
    print("\nseconds, medians; the last two columns are the what-if prototype, not the library")
    print(head + "\n" + "-" * len(head))
    for r in rows:
        ph = r["phases"]
        r["a_one_draw"] = r["a"] - ph["init"] + r["one_draw"]
        print(
            f"{r['width']:>5} {ph['init']:9.3f} {ph['flow']:7.3f} {ph['reshape']:7.3f} "
            f"{r['a']:10.3f} {r['b']:9.3f} {r['b'] / r['a']:6.1f} {'|':>2}{r['one_draw']:14.3f} "
            f"{r['b'] / r['a_one_draw']:12.1f}"
        )
    sec_a = sum(r["a"] for r in rows)
    sec_b = sum(r["b"] for r in rows)
    sec_a1 = sum(r["a_one_draw"] for r in rows)
    print(
        f"{'all':>5} {'':9} {'':7} {'':7} {sec_a:10.3f} {sec_b:9.3f} {sec_b / sec_a:6.1f} "
        f"{'|':>2}{'':14} {sec_b / sec_a1:12.1f}"
    )
    print(f"load average at the end: {load_average()}")
    print(
        json.dumps(
            {
                "benchmark": "ensemble_init",
                "ratio": round(sec_b / sec_a, 2),
                "seconds_deepdyn": round(sec_a, 4),
                "seconds_loop": round(sec_b, 4),
                "per_width": {
                    str(r["width"]): {
                        "ratio": round(r["b"] / r["a"], 2),
                        "seconds_deepdyn": round(r["a"], 4),
                        "seconds_loop": round(r["b"], 4),
                        **{f"seconds_{k}": round(v, 4) for k, v in r["phases"].items()},
                        "seconds_one_draw_init_prototype": round(r["one_draw"], 4),
                    }
                    for r in rows
                },
                "ratio_with_one_draw_init_prototype": round(sec_b / sec_a1, 2),
                "networks_per_width": len(GAMMAS) * trials,
                "repeat": repeat,
                "threads": torch.get_num_threads(),
                "torch": torch.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
