"""Batch-invariant arithmetic: member k of an ensemble computes bit-for-bit what it computes alone.

On CPU two things make a member's numbers depend on how many members share its tensors:

* batched GEMMs (``bmm``/``baddbmm``) pick their blocking, and so their summation order, from the
  whole problem, the ensemble size included (measured: ``bmm`` of (E, 3, 200) @ (E, 200, 3) in
  float64 differs by ulps between E = 1, 3 and 8);
* a few element-wise kernels (``sigmoid``, ``softplus``, their derivatives, the backward of
  BCE-with-logits; not tanh, relu, exp, log1p, add, mul, addcmul, lerp, Adam's update) give
  the last ``n mod 2·lanes`` elements of a tensor to a scalar code path whose rounding differs
  from the SIMD one, so a member's values depend on whether they lie at the end of the tensor.

Inside ``with batch_invariant():`` the affine maps are computed term by term (narrow layers) or
as element-wise products summed over fixed tiles whose size depends only on the layer's shape
(never on the ensemble), the weight gradient as rows reduced along the sample axis, and
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


_UNROLL = 32  # widths up to this sum term by term (fast); wider ones through product tiles


def _blocks(E: int, N: int, O: int, I: int) -> tuple[int, int]:
    """(members, samples) per tile: samples depend on the layer shape only, never on E."""
    samples = max(1, min(N, _TILE // (O * I)))
    members = max(1, min(E, _BUDGET // (samples * O * I)))
    return members, samples


def _contract(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Σ_k a[e, n, k] b[e, m, k] → (e, n, m), k summed in order 0, 1, 2, …

    Term by term (one multiply and one add per k, element-wise) up to ``_UNROLL`` terms; wider
    contractions go through (member, sample)-tiles of the product summed over its last axis.
    Either way an entry's value never depends on the other members.
    """
    E, N, K = a.shape
    M = b.shape[1]
    if K <= _UNROLL:
        out = a[:, :, 0:1] * b[:, None, :, 0]
        for k in range(1, K):
            out = out + a[:, :, k : k + 1] * b[:, None, :, k]
        return out
    out = a.new_empty(E, N, M)
    me, ns = _blocks(E, N, M, K)
    for e in range(0, E, me):
        bb = b[e : e + me].unsqueeze(1)  # (member, 1, m, k)
        for n in range(0, N, ns):
            out[e : e + me, n : n + ns] = (a[e : e + me, n : n + ns].unsqueeze(2) * bb).sum(-1)
    return out


class _Affine(torch.autograd.Function):
    """z Wᵀ + b with every reduction in a fixed, ensemble-independent order.

    z: (ensemble, sample, in); W: (ensemble, out, in); b: (ensemble, out) or None.
    """

    @staticmethod
    def forward(z: torch.Tensor, W: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:  # type: ignore[override]
        out = _contract(z, W)  # (ensemble, sample, out)
        return out if b is None else out + b.unsqueeze(1)

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
        gz = gW = gb = None
        if ctx.needs_input_grad[0]:
            gz = _contract(grad, W.transpose(1, 2))  # Σ_o g[e,n,o] W[e,o,i]: (ensemble, sample, in)
        need_w = ctx.needs_input_grad[1]
        need_b = ctx.has_bias and ctx.needs_input_grad[2]
        if need_w or need_b:
            gt = grad.transpose(1, 2).contiguous()  # (ensemble, out, sample)
            if need_b:
                gb = gt.sum(-1)  # each row reduced alone, along the sample axis
            if need_w:
                zt = z.transpose(1, 2).contiguous()  # (ensemble, in, sample)
                me, ns = _blocks(E, N, O, I)
                if me >= E and ns >= N:  # one tile: Σ_n g[e,o,n] z[e,i,n] directly
                    gW = (gt.unsqueeze(2) * zt.unsqueeze(1)).sum(-1)
                else:
                    gW = W.new_zeros(W.shape)
                    for e in range(0, E, me):
                        for n in range(0, N, ns):
                            g_tile = gt[e : e + me, :, n : n + ns].unsqueeze(2)  # (m, out, 1, s)
                            z_tile = zt[e : e + me, :, n : n + ns].unsqueeze(1)  # (m, 1, in, s)
                            gW[e : e + me] += (g_tile * z_tile).sum(-1)
        return gz, gW, gb


def invariant_affine(z: torch.Tensor, W: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    """The batch-invariant A z + b (same shapes as ``deepdyn.dynamics._affine.affine``)."""
    return _Affine.apply(z, W, b)  # type: ignore[no-any-return]
