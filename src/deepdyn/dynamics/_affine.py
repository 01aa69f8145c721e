"""The one kernel every layer uses: a batched affine map over the ensemble axis."""

from __future__ import annotations

import torch

from deepdyn.dynamics._invariant import invariant_affine, is_batch_invariant

# Up to this input width the product is computed transposed, A zᵀ: (out, in) @ (in, sample)
# per member, so the GEMM runs along the long sample axis. On CPU this beats the unrolled
# broadcast sum 1.6–3.8× and z Aᵀ 1.25–2.3× at widths 2–4, forward and backward; at widths 8
# and 16 it loses to z Aᵀ (benchmarks/affine_kernels.py, "t-baddbmm-contig"; benchmarks/README.md).
TRANSPOSED_MAX_WIDTH = 4


def affine(z: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """A z + b for every ensemble member.

    z: (ensemble, sample, in); weight: (ensemble, out, in); bias: (ensemble, out) or None.
    Returns (ensemble, sample, out), contiguous. Inside ``batch_invariant()`` the result for a
    member does not depend on the ensemble size (see ``_invariant.py``).
    """
    if is_batch_invariant():
        return invariant_affine(z, weight, bias)
    if weight.shape[-1] <= TRANSPOSED_MAX_WIDTH:
        zt = z.transpose(1, 2)  # (ensemble, in, sample)
        if bias is None:
            out = torch.bmm(weight, zt)
        else:
            out = torch.baddbmm(bias.unsqueeze(-1), weight, zt)  # (ensemble, out, sample)
        # Back to (ensemble, sample, out) storage: returning the transposed view instead is
        # another ~2× on deep narrow chains, but makes every state non-contiguous, which
        # breaks .view() and slows torch.linalg.vector_norm(dim=-1) on it 20–60×.
        return out.transpose(1, 2).contiguous()
    if bias is None:
        return torch.bmm(z, weight.transpose(1, 2))
    return torch.baddbmm(bias.unsqueeze(1), z, weight.transpose(1, 2))
