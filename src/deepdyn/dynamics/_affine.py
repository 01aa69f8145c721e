"""The one kernel every layer uses: a batched affine map over the ensemble axis."""

from __future__ import annotations

import torch

# Below this input width an unrolled sum of broadcast products beats a batched matmul on CPU
# (measured in benchmarks/ensemble_init.py; see benchmarks/README.md).
UNROLL_MAX_WIDTH = 4


def affine(z: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """A z + b for every ensemble member.

    z: (ensemble, sample, in); weight: (ensemble, out, in); bias: (ensemble, out) or None.
    Returns (ensemble, sample, out).
    """
    width = weight.shape[-1]
    if width <= UNROLL_MAX_WIDTH:
        wt = weight.transpose(1, 2).unsqueeze(1)  # (ensemble, 1, in, out)
        out = z[..., 0:1] * wt[:, :, 0]
        for j in range(1, width):
            out = out + z[..., j : j + 1] * wt[:, :, j]
        return out if bias is None else out + bias.unsqueeze(1)
    if bias is None:
        return torch.bmm(z, weight.transpose(1, 2))
    return torch.baddbmm(bias.unsqueeze(1), z, weight.transpose(1, 2))
