"""Neurons: dead ReLUs (thesis Def. 8.1.1), saturation of tanh and sigmoid (§8.1.1), and
per-layer gradient norms — vanishing gradients (§8.1) — at initialization and during training.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from deepdyn import _checks
from deepdyn.analysis.regions import linear_regions
from deepdyn.dynamics import Network
from deepdyn.train import compute_loss


def _hidden_preactivations(net: Network, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(pre (layer, ensemble, sample, unit), valid (layer, unit)): hidden pre-activations of
    layers 1 … L at the samples, and which padded units are real."""
    with torch.no_grad():
        tr = net.trajectory(X, preactivations=True)
    pre = tr.preactivations
    assert pre is not None
    if net.ensemble is None:
        pre = pre.unsqueeze(1)
    valid = torch.ones(pre.shape[0], pre.shape[-1], dtype=torch.bool)
    if net.field.kind == "perceptron":
        for l, w in enumerate(net.field.widths[1:]):
            valid[l, w:] = False
    return pre, valid


def _squeeze(net: Network, t: torch.Tensor) -> torch.Tensor:
    return t.squeeze(1) if net.ensemble is None else t


def dead_neurons(net: Network, X: torch.Tensor) -> torch.Tensor:
    """Dead ReLU units on a data set (thesis Def. 8.1.1 with the input space replaced by the
    samples): unit j of hidden layer l is dead when σ(A z + b)_j = 0 at every sample.

    X: (sample, input). Returns a bool tensor (layer, [ensemble,] unit) for layers 1 … L, False
    on padding when widths vary.
    """
    if net.field.activation != "relu":
        raise ValueError(
            f'dead neurons are defined for activation "relu", got "{net.field.activation}": '
            "use saturation() for tanh and sigmoid"
        )
    pre, valid = _hidden_preactivations(net, X)
    dead = (pre <= 0).all(dim=2) & valid[:, None, :]  # (layer, ensemble, unit)
    return _squeeze(net, dead)


def dead_neurons_exact(
    net: Network, domain: Sequence[float] | Sequence[Sequence[float]], *, member: int = 0
) -> np.ndarray:
    """Dead ReLU units on a whole interval (1 input) or box (2 inputs), decided exactly from the
    activation regions (:func:`~deepdyn.analysis.linear_regions`): a unit is dead when it is off
    on every region. Returns (layer, unit) bool for layers 1 … L, padded with False."""
    regions = linear_regions(net, domain, member=member)
    widths = regions.widths
    out = np.zeros((len(widths), max(widths)), dtype=bool)
    for l in range(1, len(widths) + 1):
        out[l - 1, : widths[l - 1]] = ~regions.layer_patterns(l).any(axis=0)
    return out


_DERIVATIVES = {  # σ'(a) / σ'(0): 1 at the centre, → 0 in saturation
    "tanh": lambda a: 1 - torch.tanh(a) ** 2,
    "sigmoid": lambda a: 4 * torch.sigmoid(a) * (1 - torch.sigmoid(a)),
}


def saturation(net: Network, X: torch.Tensor, *, threshold: float = 0.1) -> dict[str, torch.Tensor]:
    """Saturation of tanh or sigmoid units (thesis §8.1.1, eq. 8.1–8.2): a unit is saturated at
    a sample when its relative slope σ'(a)/σ'(0) is below ``threshold`` — for tanh,
    sech²(a) < threshold, i.e. |a| > arcosh(1/√threshold).

    X: (sample, input). Returns ``fraction``, the share of saturated (sample, unit) pairs, and
    ``slope``, the mean relative slope, both (layer, [ensemble]) for hidden layers 1 … L.
    """
    act = _checks.choice("activation", net.field.activation, tuple(_DERIVATIVES))
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    pre, valid = _hidden_preactivations(net, X)
    slope = _DERIVATIVES[act](pre)  # (layer, ensemble, sample, unit)
    mask = valid[:, None, None, :].to(slope.dtype)
    count = valid.sum(1)[:, None].to(slope.dtype) * pre.shape[2]  # (layer, 1) sample·unit
    frac = ((slope < threshold).to(slope.dtype) * mask).sum(dim=(2, 3)) / count
    mean = (slope * mask).sum(dim=(2, 3)) / count
    return {"fraction": _squeeze(net, frac), "slope": _squeeze(net, mean)}


def gradient_norms(net: Network, X: torch.Tensor, y: Any, *, loss: str = "auto") -> torch.Tensor:
    """‖∂ loss_k / ∂θ_l‖ for every layer l = 0 … L−1 and member k: (layer, [ensemble]).

    θ_l are the parameters of layer l (weights and biases of its field); loss_k is member k's
    loss (``deepdyn.train.compute_loss``). Small values in the first layers are the vanishing
    gradients of thesis §8.1; a dead layer gives exact zeros before it.
    """
    params = [net.field.layer_parameters(l) for l in range(net.depth)]
    flat = [p for ps in params for p in ps]
    per = compute_loss(net, X, y, loss=loss)  # (members,) or ()
    grads = torch.autograd.grad(per.sum(), flat, allow_unused=True)
    out = torch.zeros(net.depth, net.members, dtype=per.dtype)
    i = 0
    for l, ps in enumerate(params):
        sq = torch.zeros(net.members, dtype=per.dtype)
        for g in grads[i : i + len(ps)]:
            if g is not None:  # members are independent: the slice k is ∂loss_k/∂θ
                sq += (g.detach() ** 2).reshape(g.shape[0], -1).sum(1)
        i += len(ps)
        out[l] = sq.sqrt()
    return out.squeeze(1) if net.ensemble is None else out


class GradientRecorder:
    """A ``fit`` callback that records :func:`gradient_norms` on (X, y) every ``every`` steps
    (and at step 0, the initialization, when called with ``record_initial``).

    ``steps``: recorded steps; ``norms()``: (step, layer, [ensemble]).
    """

    def __init__(
        self, net: Network, X: torch.Tensor, y: Any, *, every: int = 10, loss: str = "auto"
    ) -> None:
        self.net, self.X, self.y, self.loss = net, X, y, loss
        self.every = _checks.integer("every", every)
        self.steps: list[int] = []
        self._norms: list[torch.Tensor] = []

    def record_initial(self) -> GradientRecorder:
        self.steps.append(0)
        self._norms.append(gradient_norms(self.net, self.X, self.y, loss=self.loss))
        return self

    def __call__(self, step: int, _loss: torch.Tensor) -> None:
        if (step + 1) % self.every == 0:
            self.steps.append(step + 1)
            self._norms.append(gradient_norms(self.net, self.X, self.y, loss=self.loss))

    def norms(self) -> torch.Tensor:
        if not self._norms:
            raise ValueError("nothing recorded yet: pass the recorder as fit(..., callback=rec)")
        return torch.stack(self._norms)
