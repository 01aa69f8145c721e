"""Hypothesis spaces grow with width and depth (thesis §6.1, Lemmas 6.1.1, 6.1.2, Cor. 6.1.1):
embed any MLP into a wider or deeper one that computes exactly the same function.

* :func:`widen` — H[C, L] ⊆ H[C', L] for C' ≥ C (Lemma 6.1.1): copy every weight into the
  top-left block and set the rest to zero. The new units may fire (σ(0) = ½ for sigmoid), but the
  zero columns of the next layer (and of the readout) ignore them, so any σ works.
* :func:`deepen` — H[C, L] ⊆ H[C, L + k] (Lemma 6.1.2): insert layers z ↦ σ(I z + 0) = z. This
  is exact when σ is the identity on the states it receives: for ReLU after a hidden layer
  (states ≥ 0), for the identity activation anywhere. tanh, sigmoid and softplus layers cannot
  reproduce the identity exactly, so the thesis' remark that "the proof is analogous" for them
  holds only approximately; :func:`deepen` refuses them.

Both keep the ensemble axis: every member is embedded.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from deepdyn import _checks
from deepdyn.dynamics import MLP, Network


def _check_mlp(net: Network) -> None:
    if not isinstance(net, Network):
        raise ValueError(f"net must be a deepdyn Network, got {type(net).__name__}")
    if net.scheme != "map" or net.field.kind != "perceptron" or net.lift.kind != "identity":
        raise ValueError(
            "embedding needs an MLP (scheme map, perceptron field, identity lift), got "
            f'scheme "{net.scheme}", field "{net.field.kind}", lift "{net.lift.kind}": '
            "build it with deepdyn.MLP"
        )


def _like(net: Network, widths: Sequence[int]) -> MLP:
    """An MLP shaped like ``net`` with hidden ``widths`` (parameters to be overwritten)."""
    w0 = net.field.sublayers(0)[0].weight
    readout = net.readout
    return MLP(
        net.in_features,
        list(widths),
        len(widths),
        out_features=1 if readout is None else readout.weight.shape[1],
        activation=net.field.activation.name,
        readout=None if readout is None else readout.terminal,
        init="zero",
        ensemble=net.ensemble,
        seed=net.seeds,
        dtype=w0.dtype,
    )


def widen(net: Network, width: int | Sequence[int]) -> MLP:
    """An MLP with hidden widths C'_l ≥ C_l computing exactly the function of ``net``
    (thesis Lemma 6.1.1).

    Args:
        net: an MLP (see :class:`deepdyn.MLP`), single or ensemble.
        width: C' for every hidden layer, or one width per hidden layer; each ≥ the old width.
    """
    _check_mlp(net)
    old = list(net.field.widths[1:])
    if isinstance(width, Sequence):
        new = [_checks.integer("width", w) for w in width]
        if len(new) != len(old):
            raise ValueError(f"width has {len(new)} entries, expected one per layer ({len(old)})")
    else:
        new = [_checks.integer("width", width)] * len(old)
    for l, (a, b) in enumerate(zip(old, new)):
        if b < a:
            raise ValueError(
                f"widen cannot shrink layer {l}: width {b} < current width {a}; "
                f"choose widths ≥ {old}"
            )
    out = _like(net, new)
    with torch.no_grad():
        for l in range(net.depth):
            (src,) = net.field.sublayers(l)
            (dst,) = out.field.sublayers(l)
            n_out, n_in = src.weight.shape[1:]
            dst.weight[:, :n_out, :n_in] = src.weight
            assert src.bias is not None and dst.bias is not None
            dst.bias[:, :n_out] = src.bias
        if net.readout is not None and out.readout is not None:
            k, c = net.readout.weight.shape[1:]
            out.readout.weight[:, :k, :c] = net.readout.weight
            out.readout.bias.copy_(net.readout.bias)
    return out


def deepen(net: Network, layers: int = 1, *, position: int | None = None) -> MLP:
    """An MLP with ``layers`` more hidden layers computing exactly the function of ``net``
    (thesis Lemma 6.1.2): identity layers σ(I z + 0) inserted after hidden layer ``position``.

    Args:
        net: an MLP with ReLU or identity activation, single or ensemble.
        layers: how many identity layers to insert (≥ 1).
        position: insert after this many hidden layers, 1 … L (default L, just before the
            readout); 0 (before the first layer) is allowed for the identity activation only,
            since ReLU is the identity only on the non-negative states a hidden layer produces.
    """
    _check_mlp(net)
    layers = _checks.integer("layers", layers)
    act = net.field.activation
    if act not in ("relu", "identity"):
        raise ValueError(
            f'deepen is exact only for relu or identity activations, got "{act}": '
            f"no {act} layer computes the identity exactly; use widen, or a ResNet"
        )
    L = net.depth
    q = L if position is None else _checks.integer("position", position, minimum=0)
    low = 1 if act == "relu" else 0
    if not low <= q <= L:
        raise ValueError(
            f"position must be in {low} … {L} for {act} (got {q}): ReLU is the identity only on "
            "the non-negative outputs of a hidden layer"
        )
    widths = list(net.field.widths)  # C_0 = d, C_1 … C_L
    new = widths[1 : q + 1] + [widths[q]] * layers + widths[q + 1 :]
    out = _like(net, new)
    with torch.no_grad():
        for l in range(L + layers):
            (dst,) = out.field.sublayers(l)
            assert dst.bias is not None
            if q <= l < q + layers:
                dst.weight.copy_(torch.eye(widths[q], dtype=dst.weight.dtype).expand_as(dst.weight))
                dst.bias.zero_()
                continue
            (src,) = net.field.sublayers(l if l < q else l - layers)
            assert src.bias is not None
            dst.weight.copy_(src.weight)
            dst.bias.copy_(src.bias)
        if net.readout is not None and out.readout is not None:
            out.readout.weight.copy_(net.readout.weight)
            out.readout.bias.copy_(net.readout.bias)
    return out
