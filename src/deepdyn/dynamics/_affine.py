"""The one kernel every layer uses: a batched affine map over the ensemble axis."""

from __future__ import annotations

import torch

from deepdyn.dynamics._invariant import invariant_affine, is_batch_invariant

# Every state of the flow is stored component-major: an (ensemble, sample, component) tensor whose
# memory is laid out (ensemble, component, sample) — the transposed view of a contiguous buffer.
# The product is then A z per member, (out, in) @ (in, sample), a GEMM along the long sample axis
# that writes the next state in the same layout: no copy between layers. The
# (ensemble, sample, component) copy the flow made after every layer before this cost as much as
# the product itself at widths 2–4 (benchmarks/flow_chain.py, benchmarks/README.md). Code that
# needs row-major storage calls ``.contiguous()`` (``Network.flow`` and ``trajectory`` do);
# ``.view()`` on a state must be ``.reshape()``. Above this width (in or out) the row-major
# product z Aᵀ is faster (benchmarks/flow_chain.py: C = 16 lost 0.8× component-major, C = 8
# gained 1.1–1.3×), and states stay row-major.
COMPONENT_MAJOR_MAX_WIDTH = 8


def affine(z: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """A z + b for every ensemble member (one network: ``torch.nn.functional.linear``).

    z: (ensemble, sample, in) in any layout; weight: (ensemble, out, in); bias: (ensemble, out)
    or None. Returns (ensemble, sample, out) stored component-major (see above). Inside
    ``batch_invariant()`` the result for a member does not depend on the ensemble size (see
    ``_invariant.py``).
    """
    if is_batch_invariant():
        return invariant_affine(z, weight, bias)
    if weight.shape[0] == 1:  # one network: the plain GEMM (addmm), forward and backward
        b = None if bias is None else bias.squeeze(0)  # views: a reshape backward, no scatter
        return torch.nn.functional.linear(z.squeeze(0), weight.squeeze(0), b).unsqueeze(0)
    if max(weight.shape[1:]) > COMPONENT_MAJOR_MAX_WIDTH:  # wide: row-major z Aᵀ
        if bias is None:
            return torch.bmm(z, weight.transpose(1, 2))
        return torch.baddbmm(bias.unsqueeze(1), z, weight.transpose(1, 2))
    zt = z.transpose(1, 2)  # (ensemble, in, sample)
    # (ensemble, out, sample), viewed back as (ensemble, sample, out)
    out = torch.bmm(weight, zt) if bias is None else torch.baddbmm(bias.unsqueeze(-1), weight, zt)
    return out.transpose(1, 2)
