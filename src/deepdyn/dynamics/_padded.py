"""Networks of different widths as one ensemble, each zero-padded to the widest.

A width sweep (thesis §6.1, App. C: the same architecture at widths 1 … 32) trains one small
network per width; each training step of a small network costs mostly dispatch, so W widths
cost W times one. :func:`pad_ensemble` puts every member of every network into one ensemble of
the widest shape, the missing units' weights and biases zero. With σ(0) = 0 a zero unit outputs
0, its outgoing weights multiply 0 and its incoming weights see a zero upstream gradient, so
under an element-wise optimizer (SGD, Adam, Adagrad, RMSprop; no weight decay on the padding —
an L2 penalty of zeros is zero) the padding stays exactly zero: each member computes, and
trains, as its network alone, up to the summation order of the products (the extra terms are
exact zeros).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch

from deepdyn.dynamics._network import Network

ZERO_AT_ZERO = ("relu", "tanh", "leaky_relu", "identity")
"""Activations with σ(0) = 0: the ones whose padding stays zero."""


def _widest(widths: Sequence[int | Sequence[int]]) -> int | tuple[int, ...]:
    if all(isinstance(w, int) for w in widths):
        return max(int(w) for w in widths)  # type: ignore[arg-type]
    rows = [tuple(w) if not isinstance(w, int) else None for w in widths]
    if any(r is None for r in rows) or len({len(r) for r in rows if r is not None}) != 1:
        raise ValueError("pad_ensemble needs every width as an int, or all as per-layer tuples")
    return tuple(max(col) for col in zip(*[r for r in rows if r is not None]))


def pad_ensemble(nets: Sequence[Network]) -> tuple[Network, list[slice]]:
    """One ensemble of every member of ``nets`` (networks that differ only in width, ensemble
    size, seeds and scales), zero-padded to the widest; and the members of each network in it
    (``slice`` k: the rows of ``nets[k]``). Outputs equal each network's; see the module for
    when training does too. ValueError (one line) for networks that differ otherwise."""
    if not nets:
        raise ValueError("pad_ensemble needs at least one network")
    specs = [n.spec for n in nets]
    base = specs[0]
    if base.activation not in ZERO_AT_ZERO:
        raise ValueError(
            f"pad_ensemble needs σ(0) = 0 (one of {', '.join(ZERO_AT_ZERO)}), got activation "
            f'"{base.activation}"'
        )
    free = {"width", "ensemble", "seed", "scale"}
    for s in specs[1:]:
        for f in dataclasses.fields(s):
            if f.name not in free and getattr(s, f.name) != getattr(base, f.name):
                raise ValueError(
                    f"pad_ensemble: the networks differ in {f.name} "
                    f"({getattr(base, f.name)!r} vs {getattr(s, f.name)!r}); only width, "
                    "ensemble, seed and scale may differ"
                )
    total = sum(n.members for n in nets)
    spec = dataclasses.replace(base, width=_widest([s.width for s in specs]), ensemble=total,
                               seed=0, scale=1.0)  # fmt: skip
    out = Network(spec)
    rows, start = [], 0
    with torch.no_grad():
        for p in out.parameters():
            p.zero_()
        big = dict(out.named_parameters())
        for net in nets:
            rows.append(slice(start, start + net.members))
            for name, small in net.named_parameters():
                target = big[name]
                index = (rows[-1], *(slice(0, n) for n in small.shape[1:]))
                target[index] = small
            start += net.members
    return out, rows


def unpad(padded: Network, rows: Sequence[slice], nets: Sequence[Network]) -> None:
    """Copy the (trained) θ of ``padded`` back into ``nets``, the networks it was made from
    by :func:`pad_ensemble` (``rows`` as it returned them), each cut to its own widths."""
    if len(rows) != len(nets):
        raise ValueError(f"unpad: {len(rows)} row blocks for {len(nets)} networks")
    big = dict(padded.named_parameters())
    with torch.no_grad():
        for net, r in zip(nets, rows):
            for name, small in net.named_parameters():
                small.copy_(big[name][(r, *(slice(0, n) for n in small.shape[1:]))])
