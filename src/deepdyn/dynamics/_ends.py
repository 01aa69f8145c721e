"""The two ends of the flow: the lift d → C before it and the readout C → k after it."""

from __future__ import annotations

import torch
from torch import nn

from deepdyn import _checks
from deepdyn.dynamics._activations import sigmoid
from deepdyn.dynamics._affine import affine

LIFTS = ("identity", "pad", "affine")
TERMINALS = ("identity", "sigmoid", "softmax")
READOUT_MAPS = ("affine", "projection")  # trainable W z + μ, or the fixed z ↦ (z_1 … z_k)


class Lift(nn.Module):
    """x ↦ z₀. ``identity`` (d = C), ``pad`` (append C − d zeros: augmentation, Prop. 10.1.1)
    or ``affine`` (z₀ = W x + c, trainable)."""

    def __init__(
        self,
        kind: str,
        d: int,
        width: int,
        *,
        ensemble: int = 1,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        self.kind = _checks.choice("lift", kind, LIFTS)
        if kind == "identity" and d != width:
            raise ValueError(
                f'lift "identity" needs width = input dimension ({d}), got width {width}: '
                'use lift="pad" or lift="affine"'
            )
        if kind == "pad" and width < d:
            raise ValueError(f'lift "pad" needs width ≥ input dimension ({d}), got width {width}')
        self.d, self.width = d, width
        if kind == "affine":
            self.weight = nn.Parameter(torch.zeros(ensemble, width, d, dtype=dtype))
            self.bias = nn.Parameter(torch.zeros(ensemble, width, dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (ensemble, sample, input) → z₀: (ensemble, sample, component)."""
        if self.kind == "identity":
            return x
        if self.kind == "pad":
            zeros = x.new_zeros(*x.shape[:-1], self.width - self.d)
            return torch.cat([x, zeros], dim=-1)
        return affine(x, self.weight, self.bias)

    def parameter_pairs(self) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
        return [(self.weight, self.bias)] if self.kind == "affine" else []


class Readout(nn.Module):
    """z_L ↦ g(W z_L + μ) (thesis Def. 5.0.1): a map C → k, then the terminal function g.

    ``kind``: ``affine`` (W, μ trainable parameters) or ``projection`` (the fixed
    W = [I_k 0], μ = 0: the first k components, held as buffers, never trained).
    """

    def __init__(
        self,
        width: int,
        out_features: int,
        terminal: str,
        *,
        kind: str = "affine",
        ensemble: int = 1,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        self.terminal = _checks.choice("readout", terminal, TERMINALS)
        self.kind = _checks.choice("readout map", kind, READOUT_MAPS)
        if terminal == "softmax" and out_features < 2:
            raise ValueError(f'readout "softmax" needs out_features ≥ 2, got {out_features}')
        if kind == "projection":
            if out_features > width:
                raise ValueError(
                    f'readout map "projection" needs out_features ≤ width ({width}), '
                    f'got {out_features}: use readout_map="affine"'
                )
            eye = torch.eye(out_features, width, dtype=dtype).expand(ensemble, -1, -1)
            self.register_buffer("weight", eye.clone())
            self.register_buffer("bias", torch.zeros(ensemble, out_features, dtype=dtype))
        else:
            self.weight = nn.Parameter(torch.zeros(ensemble, out_features, width, dtype=dtype))
            self.bias = nn.Parameter(torch.zeros(ensemble, out_features, dtype=dtype))

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        """W z + μ. z: (ensemble, sample, component) → (ensemble, sample, output), row-major
        (the few output columns are what losses and users read)."""
        return affine(z, self.weight, self.bias).contiguous()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.apply_terminal(self.logits(z))

    def apply_terminal(self, logits: torch.Tensor) -> torch.Tensor:
        if self.terminal == "sigmoid":
            return sigmoid(logits)
        if self.terminal == "softmax":
            return torch.softmax(logits, dim=-1)
        return logits

    def parameter_pairs(self) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
        return [(self.weight, self.bias)] if self.kind == "affine" else []
