"""One training problem: (network, data, loss, regularizer), checked once, shared by gradient
training (:func:`deepdyn.fit`), the costates and the PMP trainers (:mod:`deepdyn.train.pmp`).

The objective of member k is J_k(θ) = (1/N) Σ_i loss(g(W z_L^i + μ), y^i) + R_k(θ) (thesis
eq. 3.14 with the running cost R); an ensemble minimizes Σ_k J_k, so every member gets the
gradient it would get alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from deepdyn import _checks
from deepdyn.dynamics import Network
from deepdyn.train import _losses


@dataclass(frozen=True)
class Problem:
    """Validated data of one training problem.

    Attributes:
        X: inputs as given, (sample, input) or (ensemble, sample, input), on the network's
            dtype and device.
        Xe: the same, always (ensemble, sample, input).
        target: targets in the form the loss uses (see :func:`deepdyn.train.check_targets`).
        loss: the resolved loss name (bce, cross_entropy, mse).
        regularizer: None, a float λ or a callable ``net -> tensor``.
    """

    X: torch.Tensor
    Xe: torch.Tensor
    target: torch.Tensor
    loss: str
    regularizer: _losses.Regularizer


def problem(
    net: Network,
    X: Any,
    y: Any,
    loss: str = "auto",
    regularizer: Any = None,
    *,
    schemes: Sequence[str] | None = None,
    names: tuple[str, str] = ("X", "y"),
) -> Problem:
    """Validate (net, X, y, loss, regularizer), and the scheme against ``schemes`` if given."""
    if not isinstance(net, Network):
        raise ValueError(f"net must be a deepdyn Network, got {type(net).__name__}")
    if schemes is not None and net.scheme.name not in schemes:
        raise ValueError(
            f'scheme "{net.scheme}" not supported here: choose a network with scheme '
            f"{', '.join(schemes)}"
        )
    name = _losses.resolve_loss(net, loss)
    Xc = check_inputs(net, X, names[0])
    target = _losses.check_targets(
        net, y, name, samples=Xc.shape[-2], ensemble_axis=Xc.dim() == 3, name=names[1]
    )
    Xe = Xc if Xc.dim() == 3 else Xc.unsqueeze(0).expand(net.members, -1, -1)
    return Problem(Xc, Xe, target, name, check_regularizer(regularizer))


def check_inputs(net: Network, X: Any, name: str) -> torch.Tensor:
    """X → a tensor on the network's dtype and device, validated: (sample, input) or, for an
    ensemble, (ensemble, sample, input); finite."""
    p = next(net.parameters())
    if not isinstance(X, torch.Tensor):
        try:
            X = torch.as_tensor(X)
        except (TypeError, ValueError, RuntimeError):
            raise ValueError(f"{name} must be a tensor, got {type(X).__name__}") from None
    ok_dims = (2, 3) if net.ensemble is not None else (2,)
    if X.dim() not in ok_dims:
        expected = "(sample, input)" + (
            " or (ensemble, sample, input)" if net.ensemble is not None else ""
        )
        raise ValueError(f"{name} must be {expected}, got shape {tuple(X.shape)}")
    if X.dim() == 3 and X.shape[0] != net.members:
        raise ValueError(f"{name} has {X.shape[0]} ensemble rows, expected {net.members}")
    if X.shape[-1] != net.in_features:
        raise ValueError(
            f"{name} has {X.shape[-1]} features, expected {net.in_features} (in_features)"
        )
    if X.shape[-2] == 0:
        raise ValueError(f"{name} has no samples")
    if X.dtype == torch.bool or X.is_complex():
        raise ValueError(f"{name} must hold real numbers, got dtype {X.dtype}")
    X = X.to(device=p.device, dtype=p.dtype)
    _losses.check_finite(name, X, X.dim() - 2)
    return X


def check_regularizer(regularizer: Any) -> _losses.Regularizer:
    """None, a float λ ≥ 0 or a callable ``net -> tensor``; else a one-line ValueError."""
    if regularizer is None or callable(regularizer):
        return regularizer  # type: ignore[no-any-return]
    if isinstance(regularizer, bool) or not isinstance(regularizer, int | float):
        raise ValueError(
            f"regularizer must be None, a float λ or a callable net -> tensor, got {regularizer!r}"
        )
    return _checks.positive("regularizer", regularizer, allow_zero=True)


def terminal_loss(net: Network, zL: torch.Tensor, pb: Problem) -> torch.Tensor:
    """(ensemble,) data loss of each member from its final state z_L (ensemble, sample, C)."""
    if net.readout is None:
        out = zL
    else:
        out = net.readout(zL) if pb.loss == "mse" else net.readout.logits(zL)
    return _losses.data_loss(out, pb.target, pb.loss)


def regularization(net: Network, pb: Problem) -> torch.Tensor | None:
    """(ensemble,) R_k(θ) per member (a shared () term split evenly), or None."""
    r = _losses.penalty(net, pb.regularizer)
    if r is None:
        return None
    return r / net.members if r.dim() == 0 else r


def objective(net: Network, pb: Problem) -> torch.Tensor:
    """(ensemble,) J per member (data loss + regularizer), differentiable in θ."""
    per = _losses.per_member(net, pb.X, pb.target, pb.loss)
    r = regularization(net, pb)
    return per if r is None else per + r


def running_cost(net: Network, params: Sequence[torch.Tensor], pb: Problem) -> torch.Tensor:
    """R_l(θ_l) per member (ensemble,) for the parameters ``params`` of one control."""
    M = net.members
    if pb.regularizer is None:
        return params[0].new_zeros(M)
    if callable(pb.regularizer):
        r = regularization(net, pb)
        assert r is not None
        return r.expand(M)
    lam = float(pb.regularizer)
    return lam * sum((p**2).reshape(M, -1).sum(dim=1) for p in params)  # type: ignore[return-value]
