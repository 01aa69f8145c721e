"""Batch-invariant arithmetic: member k of an ensemble computes bit-for-bit what it computes alone.

On CPU two things make a member's numbers depend on how many members share its tensors:

* batched GEMMs (``bmm``/``baddbmm``) pick their blocking, and so their summation order, from the
  whole problem, the ensemble size included (measured: ``bmm`` of (E, 3, 200) @ (E, 200, 3) in
  float64 differs by ulps between E = 1, 3 and 8);
* a few element-wise kernels (``sigmoid``, ``softplus``, their derivatives, the backward of
  BCE-with-logits; not tanh, relu, exp, log1p, add, mul, addcmul, lerp, Adam's update) give
  the last ``n mod 2·lanes`` elements of a tensor to a scalar code path whose rounding differs
  from the SIMD one, so a member's values depend on whether they lie at the end of the tensor.

Inside ``with batch_invariant():`` the affine maps are computed as an element-wise product and
sums over fixed tiles whose size depends only on the layer's shape (never on the ensemble), and
the offending element-wise kernels run on copies padded to a whole number of vector chunks. The
reductions along the sample axis then have one order for every ensemble size, which makes sweep
groups (``deepdyn.runs.sweep``) reproduce single runs exactly. It costs speed (about 1.5–3× on
the affine maps, see benchmarks/README.md); outside the context nothing changes.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from typing import Any

import torch

_ON: contextvars.ContextVar[bool] = contextvars.ContextVar("deepdyn_batch_invariant", default=False)

_CHUNK = 64  # elements; a multiple of 2 × the widest SIMD vector (AVX-512 float32: 16 lanes)
_TILE = 1 << 16  # elements of one (sample, out, in) product tile per member
_BUDGET = 1 << 22  # elements of one product tile over the ensemble (32 MiB in float64)


@contextlib.contextmanager
def batch_invariant(enabled: bool = True) -> Iterator[None]:
    """Compute ensemble members independently of the ensemble size (bit-identical on CPU)."""
    token = _ON.set(bool(enabled))
    try:
        yield
    finally:
        _ON.reset(token)


def is_batch_invariant() -> bool:
    """True inside ``batch_invariant()``."""
    return _ON.get()


def padded(fn: Callable[..., torch.Tensor], *xs: torch.Tensor) -> torch.Tensor:
    """``fn(*xs)`` for an element-wise ``fn`` of same-shape tensors, evaluated on flat copies
    padded with zeros to a whole number of vector chunks (so no element takes the scalar tail)."""
    shape, numel = xs[0].shape, xs[0].numel()
    extra = (-numel) % _CHUNK
    flat = [x.reshape(-1) for x in xs]
    if extra:
        flat = [torch.cat([f, f.new_zeros(extra)]) for f in flat]
    return fn(*flat)[:numel].view(shape)


def _blocks(E: int, N: int, O: int, I: int) -> tuple[int, int]:
    """(members, samples) per tile: samples depend on the layer shape only, never on E."""
    samples = max(1, min(N, _TILE // (O * I)))
    members = max(1, min(E, _BUDGET // (samples * O * I)))
    return members, samples


class _Affine(torch.autograd.Function):
    """z Wᵀ + b with every reduction in a fixed, ensemble-independent order.

    z: (ensemble, sample, in); W: (ensemble, out, in); b: (ensemble, out) or None.
    """

    @staticmethod
    def forward(z: torch.Tensor, W: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:  # type: ignore[override]
        E, N, I = z.shape
        O = W.shape[1]
        out = z.new_empty(E, N, O)
        me, ns = _blocks(E, N, O, I)
        for e in range(0, E, me):
            Wb = W[e : e + me].unsqueeze(1)  # (member, 1, out, in)
            for n in range(0, N, ns):
                prod = z[e : e + me, n : n + ns].unsqueeze(2) * Wb  # (member, sample, out, in)
                out[e : e + me, n : n + ns] = prod.sum(-1)
        if b is not None:
            out += b.unsqueeze(1)
        return out

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
        z, W, b = inputs
        ctx.save_for_backward(z, W)
        ctx.has_bias = b is not None

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:  # type: ignore[override]
        z, W = ctx.saved_tensors
        E, N, I = z.shape
        O = W.shape[1]
        me, ns = _blocks(E, N, O, I)
        grad = grad.contiguous()
        gz = gW = gb = None
        if ctx.needs_input_grad[0]:
            gz = z.new_empty(E, N, I)
        if ctx.needs_input_grad[1]:
            gW = W.new_zeros(W.shape)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            gb = W.new_zeros(E, O)
        for e in range(0, E, me):
            Wb = W[e : e + me].unsqueeze(1)  # (member, 1, out, in)
            for n in range(0, N, ns):
                g = grad[e : e + me, n : n + ns]  # (member, sample, out)
                if gz is not None:
                    gz[e : e + me, n : n + ns] = (g.unsqueeze(3) * Wb).sum(2)
                if gW is not None:
                    zb = z[e : e + me, n : n + ns]
                    gW[e : e + me] += (g.unsqueeze(3) * zb.unsqueeze(2)).sum(1)
                if gb is not None:
                    gb[e : e + me] += g.sum(1)
        return gz, gW, gb


def invariant_affine(z: torch.Tensor, W: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    """The batch-invariant A z + b (same shapes as ``deepdyn.dynamics._affine.affine``)."""
    return _Affine.apply(z, W, b)  # type: ignore[no-any-return]
