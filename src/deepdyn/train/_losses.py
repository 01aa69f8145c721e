"""Losses, one per ensemble member (thesis eq. A.15, B.2).

An ensemble is E independent networks: each member's loss is a mean over *its own* samples, and
the training objective is the sum over members, so each member gets exactly the gradient it
would get alone. Losses:

* ``bce``            binary cross-entropy −[y log ŷ + (1 − y) log(1 − ŷ)], computed from the
                     logits W z_L + μ (BCE-with-logits, stable). A sigmoid readout is the usual
                     case; with an identity readout (or none) the output is read as logits.
* ``cross_entropy``  −log softmax(W z_L + μ)_y, from the logits; with an identity readout (or
                     none) the output is read as logits, as ``torch.nn.CrossEntropyLoss`` does.
* ``mse``            mean over samples and outputs of (ŷ − y)², on the network output ŷ.
* ``auto``           bce for a sigmoid readout, cross_entropy for softmax, mse otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from deepdyn import _checks
from deepdyn.dynamics import Network, is_batch_invariant, padded

LOSSES = ("auto", "bce", "cross_entropy", "mse")

Regularizer = Callable[[Network], torch.Tensor] | float | None


def _terminal(net: Network) -> str | None:
    return None if net.readout is None else net.readout.terminal


def out_features(net: Network) -> int:
    """k, the width of the network output."""
    if net.readout is not None:
        return int(net.readout.weight.shape[1])
    return int(net.field.widths[-1])


def resolve_loss(net: Network, loss: str) -> str:
    """The loss name ``loss`` means for ``net`` ("auto" resolved), validated against its readout."""
    _checks.choice("loss", loss, LOSSES)
    terminal = _terminal(net)
    if loss == "auto":
        return {"sigmoid": "bce", "softmax": "cross_entropy"}.get(terminal or "", "mse")
    if loss == "bce" and terminal == "softmax":
        raise ValueError(
            'loss "bce" does not fit a softmax readout: use loss="cross_entropy" '
            'or build the network with readout="sigmoid"'
        )
    if loss == "cross_entropy" and terminal == "sigmoid":
        raise ValueError(
            'loss "cross_entropy" does not fit a sigmoid readout: use loss="bce" '
            'or build the network with readout="softmax"'
        )
    return loss


def check_finite(name: str, t: torch.Tensor, sample_axis: int = 0) -> None:
    """ValueError naming the first sample (index along ``sample_axis``) of ``t`` that holds
    NaN or inf."""
    if not t.is_floating_point():
        return
    bad = ~torch.isfinite(t)
    if not bool(bad.any()):
        return
    where = torch.nonzero(bad)[0].tolist()
    value = t[tuple(where)].item()
    what = "NaN" if math.isnan(value) else "inf"
    raise ValueError(f"{name} contains {what} at sample {where[sample_axis]}: clean the data")


def check_targets(
    net: Network, y: Any, loss: str, *, samples: int, ensemble_axis: bool, name: str = "y"
) -> torch.Tensor:
    """Validate targets ``y`` for a resolved ``loss`` and put them in the form the loss uses.

    Returns ``([ensemble,] sample, output)`` floats for bce and mse, ``([ensemble,] sample)``
    int64 class labels for cross_entropy. ``ensemble_axis``: y carries a leading ensemble axis
    (as X does when it is (ensemble, sample, input)).
    """
    p = next(net.parameters())
    if not isinstance(y, torch.Tensor):
        try:
            y = torch.as_tensor(y)
        except (TypeError, ValueError, RuntimeError):
            raise ValueError(f"{name} must be a tensor, got {type(y).__name__}") from None
    y = y.to(p.device)
    lead = 1 if ensemble_axis else 0
    if ensemble_axis and (y.dim() < 1 or y.shape[0] != net.members):
        raise ValueError(
            f"{name} must have a leading ensemble axis of {net.members} like X, "
            f"got shape {tuple(y.shape)}"
        )
    if y.dim() <= lead or y.dim() > lead + 2:
        raise ValueError(
            f"{name} must be (sample,) or (sample, output), got shape {tuple(y.shape)}"
        )
    if y.shape[lead] != samples:
        raise ValueError(f"X has {samples} samples but {name} has {y.shape[lead]}")
    if y.dtype == torch.bool:
        y = y.to(torch.int64)
    check_finite(name, y, lead)
    k = out_features(net)
    if loss == "cross_entropy":
        if y.dim() != lead + 1:
            raise ValueError(
                f'loss "cross_entropy" needs class labels of shape (sample,), '
                f"got {name} of shape {tuple(y.shape)}"
            )
        if y.is_floating_point() and not bool((y == y.round()).all()):
            raise ValueError(f'loss "cross_entropy" needs integer class labels in {name}')
        bad = (y < 0) | (y >= k)
        if bool(bad.any()):
            raise ValueError(
                f"{name} contains label {_first(y, bad)}: class labels must be in 0 … {k - 1} "
                f"for a network with {k} outputs"
            )
        return y.to(torch.int64)
    if y.dim() == lead + 1:
        if k != 1:
            raise ValueError(
                f"{name} has shape {tuple(y.shape)} but the network has {k} outputs: "
                f"pass {name} as (sample, {k})"
            )
        y = y.unsqueeze(-1)
    elif y.shape[-1] != k:
        raise ValueError(f"{name} has {y.shape[-1]} outputs per sample, the network has {k}")
    if loss == "bce":
        bad = (y != 0) & (y != 1)
        if bool(bad.any()):
            raise ValueError(
                f'{name} contains {_first(y, bad)}: loss "bce" needs labels in {{0, 1}}'
            )
    return y.to(p.dtype)


def _first(y: torch.Tensor, bad: torch.Tensor) -> str:
    v = y[bad][0].item()
    return f"{v:g}" if isinstance(v, float) else str(v)


def _bce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, target, reduction="none")


def data_loss(out: torch.Tensor, target: torch.Tensor, loss: str) -> torch.Tensor:
    """(members,) loss of outputs ``out`` (ensemble, sample, output) — the network's output
    for mse, its logits for bce and cross_entropy — against ``target``, mean over samples."""
    M, n, k = out.shape
    if loss == "cross_entropy":
        t = target.expand(M, n)
        return F.cross_entropy(out.transpose(1, 2), t, reduction="none").mean(dim=1)
    t = target.expand(M, n, k)
    if loss == "bce":
        if is_batch_invariant():  # its backward is a sigmoid, which rounds apart in the SIMD tail
            per = padded(_bce, out.contiguous(), t.contiguous())
        else:
            per = _bce(out, t)
        return per.mean(dim=(1, 2))
    return ((out - t) ** 2).mean(dim=(1, 2))


def per_member(
    net: Network,
    X: torch.Tensor,
    target: torch.Tensor,
    loss: str,
    keep: list[torch.Tensor] | None = None,
) -> torch.Tensor:
    """(members,) data loss of each member, mean over its samples; no validation.

    ``loss`` is a resolved name and ``target`` the output of :func:`check_targets`. ``keep``
    receives the (detached) outputs the loss was computed from, (ensemble, sample, output).
    """
    out = net(X) if loss == "mse" else net.logits(X)  # bce, cross_entropy: from the logits
    if net.ensemble is None:
        out = out.unsqueeze(0)  # (ensemble=1, sample, output)
    if keep is not None:
        keep.append(out.detach())
    return data_loss(out, target, loss)


def logit_accuracy(out: torch.Tensor, target: torch.Tensor, loss: str) -> torch.Tensor | None:
    """(members,) fraction of correct labels from the logits ``out`` (ensemble, sample,
    output) against targets in the loss's form (bce: every output's logit > 0 against its 0/1
    label, multi-label included; cross_entropy: the largest against the class); None for mse.
    :func:`deepdyn.train.accuracy` is the same count from a network's outputs."""
    if loss == "mse":
        return None
    M, n, _ = out.shape
    if loss == "cross_entropy":
        hit = out.argmax(-1) == target.expand(M, n)
    else:
        hit = (out > 0).to(target.dtype) == target.expand_as(out)
    return hit.to(torch.float64).reshape(M, -1).mean(dim=1)


def penalty(net: Network, regularizer: Regularizer) -> torch.Tensor | None:
    """The regularizer's value: (members,) per-member terms, or () one term for the objective.

    A float λ gives λ Σ‖θ‖² over all parameters of each member.
    """
    if regularizer is None:
        return None
    if callable(regularizer):
        r = regularizer(net)
        if not isinstance(r, torch.Tensor) or r.shape not in ((), (net.members,)):
            shape = tuple(r.shape) if isinstance(r, torch.Tensor) else type(r).__name__
            raise ValueError(
                f"regularizer must return a tensor of shape () or ({net.members},), got {shape}"
            )
        return r
    lam = float(regularizer)
    params = list(net.parameters())
    if is_batch_invariant():  # per tensor, in a fixed order
        total = sum((p**2).reshape(p.shape[0], -1).sum(dim=1) for p in params)
        return lam * torch.as_tensor(total)
    # all of a member's parameters in one row: three kernels instead of three per tensor
    flat = torch.cat([p.reshape(p.shape[0], -1) for p in params], dim=1)
    return lam * (flat * flat).sum(dim=1)


def objective(
    net: Network,
    X: torch.Tensor,
    target: torch.Tensor,
    loss: str,
    regularizer: Regularizer,
    keep: list[torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(objective, per-member losses): the objective is Σ_members (loss + regularizer).

    A regularizer of shape () enters the objective once; in the per-member losses it is shared
    equally, so they still sum to the objective. ``keep`` as for :func:`per_member`.
    """
    per = per_member(net, X, target, loss, keep)
    r = penalty(net, regularizer)
    if r is None:
        return per.sum(), per
    if r.dim() == 0:
        return per.sum() + r, per + r / net.members
    return (per + r).sum(), per + r


def compute_loss(net: Network, X: torch.Tensor, y: Any, loss: str = "auto") -> torch.Tensor:
    """Per-member data loss of ``net`` on (X, y): () for one network, (ensemble,) for an
    ensemble. Differentiable; the training objective of :func:`deepdyn.train.fit` is its sum.

    X: (sample, input) or (ensemble, sample, input). y: see :func:`deepdyn.train.fit`.
    """
    name = resolve_loss(net, loss)
    target = check_targets(net, y, name, samples=X.shape[-2], ensemble_axis=X.dim() == 3)
    per = per_member(net, X, target, name)
    return per if net.ensemble is not None else per[0]
