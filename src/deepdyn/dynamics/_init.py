"""Initializers for the controls θ (thesis §8.1.3).

Each initializer fills one weight of shape (out, in) for one network; ensembles call it once per
member with that member's generator, so member k equals the network built alone with its seed.

``scale`` means: γ for ``uniform`` (U[−γ, γ]), σ for ``normal`` (N(0, σ²)), and a gain
multiplying the standard deviation for ``glorot``, ``he``, ``lecun`` and ``orthogonal``.
"""

from __future__ import annotations

import math

import torch

from deepdyn import _checks

INITIALIZERS = ("uniform", "normal", "glorot", "he", "lecun", "orthogonal", "zero")
BIAS_INITIALIZERS = ("auto", "zero", "uniform", "normal")


def check_init(init: str, bias_init: str = "auto") -> None:
    _checks.choice("initializer", init, INITIALIZERS)
    _checks.choice("bias initializer", bias_init, BIAS_INITIALIZERS)


def weight(
    shape: tuple[int, int], kind: str, scale: float, gen: torch.Generator, dtype: torch.dtype
) -> torch.Tensor:
    """A weight matrix of ``shape`` = (out, in) drawn from initializer ``kind``."""
    fan_out, fan_in = shape
    if kind == "uniform":
        return (torch.rand(shape, generator=gen, dtype=dtype) * 2 - 1) * scale
    if kind == "normal":
        return torch.randn(shape, generator=gen, dtype=dtype) * scale
    if kind == "glorot":  # Glorot & Bengio 2010, uniform form
        a = scale * math.sqrt(6.0 / (fan_in + fan_out))
        return (torch.rand(shape, generator=gen, dtype=dtype) * 2 - 1) * a
    if kind == "he":  # He et al. 2015, normal form
        return torch.randn(shape, generator=gen, dtype=dtype) * scale * math.sqrt(2.0 / fan_in)
    if kind == "lecun":
        return torch.randn(shape, generator=gen, dtype=dtype) * scale * math.sqrt(1.0 / fan_in)
    if kind == "orthogonal":  # Saxe et al. 2014: Q of a Gaussian matrix, sign-corrected
        rows, cols = shape
        g = torch.randn((max(rows, cols), min(rows, cols)), generator=gen, dtype=torch.float64)
        q, r = torch.linalg.qr(g)
        q = q * torch.sign(torch.diagonal(r)).unsqueeze(0)
        q = q if rows >= cols else q.T
        return (q[:rows, :cols] * scale).to(dtype)
    if kind == "zero":
        return torch.zeros(shape, dtype=dtype)
    raise ValueError(_checks.choice("initializer", kind, INITIALIZERS))


def _weight_law(kind: str, fan_in: int, fan_out: int) -> tuple[str, float]:
    """(law, factor): the weight is factor·scale·U[−1, 1] or factor·scale·N(0, 1)."""
    if kind == "uniform":
        return "uniform", 1.0
    if kind == "glorot":
        return "uniform", math.sqrt(6.0 / (fan_in + fan_out))
    if kind == "normal":
        return "normal", 1.0
    if kind == "he":
        return "normal", math.sqrt(2.0 / fan_in)
    if kind == "lecun":
        return "normal", math.sqrt(1.0 / fan_in)
    return "zero", 0.0  # zero; orthogonal is drawn separately


def fill(
    pairs: list[tuple[torch.Tensor, torch.Tensor | None]],
    kind: str,
    bias_kind: str,
    seeds: list[int],
    scales: list[float],
) -> None:
    """Initialize every (weight, bias) pair for all ensemble members at once.

    weight: (ensemble, out, in), bias: (ensemble, out). Member k draws, from its own generator
    seeded with ``seeds[k]``, one flat uniform and one flat normal vector covering all its
    parameters in ``pairs`` order; each tensor is then a scaled slice, filled for all members in
    one operation. Member k therefore equals the network built alone with ``seeds[k]``.
    """
    if bias_kind == "auto":
        bias_kind = kind if kind in ("uniform", "normal") else "zero"
    plan: list[tuple[torch.Tensor, str, float]] = []  # (tensor, law, factor)
    for w, b in pairs:
        law, factor = (
            ("orthogonal", 1.0)
            if kind == "orthogonal"
            else _weight_law(kind, w.shape[2], w.shape[1])
        )
        plan.append((w, law, factor))
        if b is not None:
            plan.append((b, bias_kind if bias_kind != "zero" else "zero", 1.0))
    E = len(seeds)
    sizes = {"uniform": 0, "normal": 0}
    for t, law, _ in plan:
        if law in sizes:
            sizes[law] += t[0].numel()
    dtype = plan[0][0].dtype if plan else torch.float32
    pools = {law: torch.empty(E, n, dtype=dtype) for law, n in sizes.items()}
    ortho: list[list[torch.Tensor]] = [[] for _ in range(E)]
    for k, s in enumerate(seeds):
        gen = torch.Generator().manual_seed(s)
        if sizes["uniform"]:
            pools["uniform"][k] = torch.rand(sizes["uniform"], generator=gen, dtype=dtype)
        if sizes["normal"]:
            pools["normal"][k] = torch.randn(sizes["normal"], generator=gen, dtype=dtype)
        for t, law, _ in plan:
            if law == "orthogonal":
                ortho[k].append(weight((t.shape[1], t.shape[2]), "orthogonal", 1.0, gen, dtype))
    scale = torch.tensor(scales, dtype=dtype)
    offsets = {"uniform": 0, "normal": 0}
    n_ortho = 0
    with torch.no_grad():
        for t, law, factor in plan:
            shape = (E, *t.shape[1:])
            per = scale.view(E, *([1] * (t.dim() - 1))) * factor
            if law in offsets:
                n = t[0].numel()
                raw = pools[law][:, offsets[law] : offsets[law] + n].reshape(shape)
                offsets[law] += n
                value = (raw * 2 - 1) * per if law == "uniform" else raw * per
            elif law == "orthogonal":
                value = torch.stack([ortho[k][n_ortho] for k in range(E)]) * per
                n_ortho += 1
            else:
                value = torch.zeros(shape, dtype=dtype)
            t.copy_(value.to(t.device))
