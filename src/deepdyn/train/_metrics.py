"""How well a trained classifier does: the share of samples it labels right."""

from __future__ import annotations

import torch


def accuracy(output: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Share of samples classified right, per member, in float64.

    ``output`` ([ensemble,] sample, output) is a network's output: one column is the
    probability of class 1 (label 1 where ŷ > 0.5, a sigmoid readout), more are class scores
    (label = argmax, a softmax readout). ``labels`` (sample,) holds class indices (any dtype).
    Returns ([ensemble,]).
    """
    binary = output.shape[-1] == 1
    predicted = (output[..., 0] > 0.5).long() if binary else output.argmax(-1)
    return (predicted == labels.long()).to(torch.float64).mean(-1)
