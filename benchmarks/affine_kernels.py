"""Which kernel computes the ensemble affine map A z + b fastest on CPU for small widths?

deepdyn's one kernel (src/deepdyn/dynamics/_affine.py) maps z: (ensemble, sample, in) with
A: (ensemble, out, in), b: (ensemble, out) to (ensemble, sample, out). This script times the
candidates at E = 2000 members, N = 1000 samples, C = in = out ∈ {2, 3, 4, 8, 16}:

* ``unroll``        Σ_j z[..., j] ⊗ A[:, :, j] as broadcast products (the kernel for C ≤ 4)
* ``unroll-addcmul`` the same sum accumulated with torch.addcmul (bias folded into the start)
* ``baddbmm``       torch.baddbmm(b, z, Aᵀ) (the kernel for C > 4)
* ``einsum``        torch.einsum("eni,eoi->eno") + b
* ``bcast-sum``     (z.unsqueeze(-2) * A.unsqueeze(1)).sum(-1) + b, an (E, N, out, in) temporary
* ``matmul``        torch.matmul(z, Aᵀ) + b
* ``t-baddbmm``     torch.baddbmm(b, A, zᵀ)ᵀ: the product computed component-major and returned
                    as an (ensemble, sample, out) view of (ensemble, out, sample) storage
* ``t-baddbmm-contig`` the same, copied back to a contiguous (ensemble, sample, out) tensor
* ``cm-unroll``     component-major layout: states kept as (ensemble, component, sample), so the
                    innermost dimension is the 1000 samples; unrolled broadcast sum
* ``cm-baddbmm``    component-major layout with torch.baddbmm(b, A, z)

Four measurements per kernel and width:

* ``fwd``            one affine map of a contiguous (E, N, C) input, no_grad (cm-*: (E, C, N))
* ``fwd+bwd``        the same + ReLU, sum, backward to A and b (autograd)
* ``chain``          the Fig 8.3 workload per layer: 15 layers z ← relu(A_l z + b_l) under
                     no_grad, ReLU in place (relu_), time / 15. Each kernel is fed the layout
                     its own output has (the steady state of a deep network): component-major
                     storage for cm-* and t-*
* ``chain fwd+bwd``  the 15 layers with autograd, sum, backward to every A_l, b_l; time / 15
                     (a training step's flow)

Kernels whose single forward takes over 150 ms skip the chains ("skip") and time fwd+bwd
with 3 repeats.

Last, for C ≤ 4, what common downstream ops cost on a contiguous (E, N, C) tensor versus the
component-major view t-baddbmm returns: the price of letting that layout escape the kernel.

Times are medians over ``--repeat`` runs (default 7), in milliseconds. The last line on stdout
is one JSON object with every median.

Run:  PYTHONPATH=src .venv/bin/python benchmarks/affine_kernels.py [--quick] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from functools import partial

import torch

from deepdyn.dynamics._affine import affine

Kernel = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]

# ------------------------------------------------------------------ sample-major (E, N, C)


def unroll(z: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    wt = w.transpose(1, 2).unsqueeze(1)  # (ensemble, 1, in, out)
    out = z[..., 0:1] * wt[:, :, 0]
    for j in range(1, w.shape[-1]):
        out = out + z[..., j : j + 1] * wt[:, :, j]
    return out + b.unsqueeze(1)


def unroll_addcmul(z: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    wt = w.transpose(1, 2).unsqueeze(1)  # (ensemble, 1, in, out)
    out = torch.addcmul(b.unsqueeze(1), z[..., 0:1], wt[:, :, 0])
    for j in range(1, w.shape[-1]):
        out = torch.addcmul(out, z[..., j : j + 1], wt[:, :, j])
    return out


def baddbmm(z: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.baddbmm(b.unsqueeze(1), z, w.transpose(1, 2))


def einsum(z: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.einsum("eni,eoi->eno", z, w) + b.unsqueeze(1)


def bcast_sum(z: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (z.unsqueeze(-2) * w.unsqueeze(1)).sum(-1) + b.unsqueeze(1)


def matmul(z: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.matmul(z, w.transpose(1, 2)) + b.unsqueeze(1)


def t_baddbmm(z: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """baddbmm in the transposed problem A zᵀ: the result is stored component-major and
    returned as an (ensemble, sample, out) view (not contiguous). Fed its own output, the next
    layer's zᵀ is contiguous again, so a chain runs component-major throughout."""
    return torch.baddbmm(b.unsqueeze(-1), w, z.transpose(1, 2)).transpose(1, 2)


def t_baddbmm_contig(z: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """t-baddbmm copied back to a contiguous (ensemble, sample, out) tensor."""
    return t_baddbmm(z, w, b).contiguous()


# ------------------------------------------------------- component-major (E, C, N) storage


def cm_unroll(zc: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """zc: (ensemble, in, sample) → (ensemble, out, sample)."""
    out = torch.addcmul(b.unsqueeze(-1), w[:, :, 0:1], zc[:, 0:1])
    for j in range(1, w.shape[-1]):
        out = torch.addcmul(out, w[:, :, j : j + 1], zc[:, j : j + 1])
    return out


def cm_baddbmm(zc: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """zc: (ensemble, in, sample) → (ensemble, out, sample)."""
    return torch.baddbmm(b.unsqueeze(-1), w, zc)


SAMPLE_MAJOR: dict[str, Kernel] = {
    "unroll": unroll,
    "unroll-addcmul": unroll_addcmul,
    "baddbmm": baddbmm,
    "einsum": einsum,
    "bcast-sum": bcast_sum,
    "matmul": matmul,
    "t-baddbmm": t_baddbmm,
    "t-baddbmm-contig": t_baddbmm_contig,
}
COMPONENT_MAJOR: dict[str, Kernel] = {"cm-unroll": cm_unroll, "cm-baddbmm": cm_baddbmm}
KERNELS = [*SAMPLE_MAJOR, *COMPONENT_MAJOR]
METRICS = ("fwd", "fwd+bwd", "chain", "chain fwd+bwd")
MAX_TEMP_BYTES = 1.1e9  # bcast-sum's (E, N, C, C) temporary beyond this is skipped
SLOW_MS = 150.0  # a kernel whose single forward takes longer skips the 15-layer chains


def _median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up (allocator, thread pool)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def load_average() -> str:
    """The 1-minute load average: other processes on a 2-core machine skew every timing."""
    try:
        with open("/proc/loadavg") as f:
            return f.read().split()[0]
    except OSError:
        return "?"


def measure(name: str, E: int, N: int, C: int, depth: int, repeat: int) -> dict[str, float]:
    """Medians (ms) of fwd, fwd+bwd, chain and chain fwd+bwd (per layer) for one kernel."""
    if name == "bcast-sum" and E * N * C * C * 4 > MAX_TEMP_BYTES:
        return {}
    gen = torch.Generator().manual_seed(0)
    cm = name in COMPONENT_MAJOR
    kernel = COMPONENT_MAJOR[name] if cm else SAMPLE_MAJOR[name]
    ws = [(torch.rand(E, C, C, generator=gen) * 2 - 1) for _ in range(depth)]
    bs = [(torch.rand(E, C, generator=gen) * 2 - 1) for _ in range(depth)]
    z0 = torch.rand(E, N, C, generator=gen) * 2 - 1  # (ensemble, sample, component)
    # single calls: the (E, N, C) contiguous input a caller passes; chains: the steady state,
    # the layout each kernel's own output has (component-major for cm-* and t-*)
    z_one = z0.transpose(1, 2).contiguous() if cm else z0
    if name.startswith("t-baddbmm"):
        z_chain = z0.transpose(1, 2).contiguous().transpose(1, 2)  # same values, (E, C, N) storage
    else:
        z_chain = z_one

    def fwd() -> object:
        with torch.no_grad():
            return kernel(z_one, ws[0], bs[0])

    w_g = [w.clone().requires_grad_() for w in ws]
    b_g = [b.clone().requires_grad_() for b in bs]

    def fwd_bwd() -> object:
        out = torch.relu(kernel(z_one, w_g[0], b_g[0])).sum()
        out.backward()
        return out

    def chain() -> object:
        with torch.no_grad():
            z = z_chain
            for w, b in zip(ws, bs):
                z = kernel(z, w, b).relu_()
            return z

    def chain_bwd() -> object:
        z = z_chain
        for w, b in zip(w_g, b_g):
            z = torch.relu(kernel(z, w, b))
        out = z.sum()
        out.backward()
        return out

    result = {"fwd": _median_ms(fwd, repeat)}
    if result["fwd"] > SLOW_MS:  # hopeless kernels: 3 repeats, and skip the 15-layer chains
        result["fwd+bwd"] = _median_ms(fwd_bwd, 3)
        return result
    result["fwd+bwd"] = _median_ms(fwd_bwd, repeat)
    result["chain"] = _median_ms(chain, max(3, repeat // 2)) / depth
    result["chain fwd+bwd"] = _median_ms(chain_bwd, 3) / depth
    return result


def check_agree(E: int, N: int, C: int) -> float:
    """Max |difference| of every kernel, and of deepdyn's ``affine``, from baddbmm in float64
    (they must be one map)."""
    gen = torch.Generator().manual_seed(1)
    z = torch.rand(E, N, C, generator=gen, dtype=torch.float64)
    w = torch.rand(E, C, C, generator=gen, dtype=torch.float64)
    b = torch.rand(E, C, generator=gen, dtype=torch.float64)
    ref = baddbmm(z, w, b)
    err = 0.0
    for fn in SAMPLE_MAJOR.values():
        err = max(err, (fn(z, w, b) - ref).abs().max().item())
    zc = z.transpose(1, 2).contiguous()
    for fn in COMPONENT_MAJOR.values():
        err = max(err, (fn(zc, w, b).transpose(1, 2) - ref).abs().max().item())
    err = max(err, (affine(z, w, b) - ref).abs().max().item())  # the library's kernel
    return err


SIDE_OPS: dict[str, Callable[[torch.Tensor], object]] = {
    "vector_norm(dim=-1)": lambda z: torch.linalg.vector_norm(z, dim=-1),
    "softmax(-1)": lambda z: torch.softmax(z, -1),
    "sum(-1)": lambda z: z.sum(-1),
    "tanh": torch.tanh,
    "stack of 16": lambda z: torch.stack([z] * 16),
}


def layout_side_effects(E: int, N: int, widths: list[int], repeat: int) -> dict[str, list]:
    """What a caller pays downstream if affine returned the component-major *view*
    (t-baddbmm) instead of a contiguous tensor: ms of common ops on each layout."""
    out: dict[str, list] = {}
    for name, op in SIDE_OPS.items():
        out[name] = []
        for C in widths:
            z = torch.rand(E, N, C)
            view = z.transpose(1, 2).contiguous().transpose(1, 2)  # same values, (E, C, N) storage
            out[name].append(
                (_median_ms(partial(op, z), repeat), _median_ms(partial(op, view), repeat))
            )
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="E=200, widths 2 and 8, 3 repeats")
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--ensemble", type=int, default=2000)
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--depth", type=int, default=15)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    E, N, widths, repeat = args.ensemble, args.samples, [2, 3, 4, 8, 16], args.repeat
    if args.quick:
        E, widths, repeat = 200, [2, 8], 3
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
        f"{platform.processor() or platform.machine()}; E={E} N={N} depth={args.depth}; "
        f"median of {repeat} (chain: {max(3, repeat // 2)}, chain fwd+bwd: 3), ms; "
        f"load average {load_average()}"
    )
    err = max(check_agree(7, 13, C) for C in widths)
    print(f"all kernels and deepdyn's affine agree with baddbmm (float64): max |diff| = {err:.1e}")
    assert err < 1e-12, err

    results: dict[str, dict[str, dict[str, float]]] = {}
    for C in widths:
        results[str(C)] = {}
        for name in KERNELS:
            results[str(C)][name] = measure(name, E, N, C, args.depth, repeat)

    for metric in METRICS:
        print(f"\n{metric} (ms{' per layer' if metric.startswith('chain') else ''}):")
        print(f"{'kernel':>17} " + " ".join(f"{'C=' + str(C):>9}" for C in widths))
        for name in KERNELS:
            cells = []
            for C in widths:
                r = results[str(C)][name]
                cells.append(f"{r[metric]:9.2f}" if metric in r else f"{'skip':>9}")
            print(f"{name:>17} " + " ".join(cells))
        best = []
        for C in widths:
            row = {k: v[metric] for k, v in results[str(C)].items() if metric in v}
            best.append(f"C={C}: {min(row, key=row.__getitem__)}")
        print(f"{'fastest':>17} " + ", ".join(best))
    side_widths = [C for C in widths if C <= 4]
    side = layout_side_effects(E, N, side_widths, repeat)
    print("\ndownstream ops on the output, contiguous vs component-major view (ms):")
    print(f"{'op':>20} " + " ".join(f"{'C=' + str(C):>17}" for C in side_widths))
    for name, cells in side.items():
        print(f"{name:>20} " + " ".join(f"{a:7.1f} vs {b:7.1f}" for a, b in cells))
    print(f"\nload average at the end: {load_average()}")
    print(
        json.dumps(
            {
                "benchmark": "affine_kernels",
                "ensemble": E,
                "samples": N,
                "threads": torch.get_num_threads(),
                "torch": torch.__version__,
                "ms": results,
                "side_effects_ms_contiguous_vs_view": {
                    name: {str(C): list(ab) for C, ab in zip(side_widths, cells)}
                    for name, cells in side.items()
                },
            }
        )
    )


if __name__ == "__main__":
    main()
