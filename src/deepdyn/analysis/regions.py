"""Exact linear regions of ReLU networks on an interval or a box (thesis App. C,
docs/thesis-notes.md §6).

A ReLU network is piecewise affine. Fixing the on/off pattern of every hidden unit fixes an affine
map x ↦ z_L, and the inputs that share a pattern form a convex polytope (the constraints are linear
once the pattern is fixed). These *activation regions* are counted exactly here by splitting the
domain layer by layer: each region of layer l is cut by the hyperplanes {A_j(x) = 0} of the units
of layer l + 1 that cross it, where A_j is the unit's pre-activation, affine on the region. No grid:
a grid misses every region thinner than its spacing (``benchmarks/regions.py`` counts how many).

Activation regions refine linear regions (two neighbouring patterns may give the same affine
map); the bounds below bound activation regions, hence linear regions too.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from deepdyn import _checks
from deepdyn.dynamics import Network

_REL_TOL = 1e-10  # a unit cuts a region when its pre-activation leaves ±tol on both sides


@dataclass(frozen=True)
class ReluNet:
    """A ReLU network as float64 arrays: x ↦ z₀ = P x + p, then per layer l
    ``map``: z_{l+1} = ReLU(W_l z_l + b_l), or ``euler``: z_{l+1} = z_l + h_l ReLU(W_l z_l + b_l).

    lift: (P (component, input), p (component,)); layers: (W (out, in), b (out,)) per layer.
    """

    lift: tuple[np.ndarray, np.ndarray]
    layers: tuple[tuple[np.ndarray, np.ndarray], ...]
    scheme: str = "map"
    steps: tuple[float, ...] = ()

    @property
    def in_features(self) -> int:
        return int(self.lift[0].shape[1])

    @property
    def widths(self) -> tuple[int, ...]:
        """n_1 … n_L, the hidden widths (units per layer)."""
        return tuple(int(W.shape[0]) for W, _ in self.layers)


def relu_net(
    net: Network | Sequence[tuple[np.ndarray | torch.Tensor, np.ndarray | torch.Tensor]],
    *,
    member: int = 0,
) -> ReluNet:
    """A :class:`ReluNet` from member ``member`` of a ReLU :class:`~deepdyn.Network` (scheme
    ``map`` or ``euler``, perceptron field) or from a list of (W (out, in), b (out,)) pairs of an
    MLP whose first W takes the input directly."""
    if isinstance(net, ReluNet):
        return net
    if not isinstance(net, Network):
        layers = tuple(
            (np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64)) for W, b in net
        )
        if not layers:
            raise ValueError("the network has no layers: give at least one (W, b) pair")
        for i, (W, b) in enumerate(layers):
            if W.ndim != 2 or b.shape != (W.shape[0],):
                raise ValueError(
                    f"layer {i}: W must be (out, in) and b (out,), got {W.shape} and {b.shape}"
                )
            if i and W.shape[1] != layers[i - 1][0].shape[0]:
                raise ValueError(
                    f"layer {i}: W takes {W.shape[1]} inputs, layer {i - 1} gives "
                    f"{layers[i - 1][0].shape[0]}"
                )
        d = layers[0][0].shape[1]
        return ReluNet((np.eye(d), np.zeros(d)), layers)
    if net.field.activation != "relu" or net.field.kind != "perceptron":
        raise ValueError(
            f"exact regions need a ReLU perceptron field, got activation "
            f'"{net.field.activation}", field "{net.field.kind}": build it with activation="relu"'
        )
    if net.scheme not in ("map", "euler"):
        raise ValueError(f'exact regions support the schemes "map" and "euler", got "{net.scheme}"')
    if not 0 <= member < net.members:
        raise ValueError(f"member {member} out of range: choose 0 … {net.members - 1}")
    with torch.no_grad():
        d = net.in_features
        basis = torch.cat([torch.zeros(1, d), torch.eye(d)]).to(net.times.device)
        basis = basis.to(next(net.parameters()).dtype).unsqueeze(0).expand(net.members, -1, -1)
        z = net.lift(basis)[member].double().cpu().numpy()  # (1 + input, component)
        lift = (z[1:].T - z[0][:, None], z[0])  # z₀ = P x + p is affine in x
        pairs: list[tuple[np.ndarray, np.ndarray]] = []
        for l in range(net.depth):
            (sub,) = net.field.sublayers(l)
            W = sub.weight[member].double().cpu().numpy()
            b = (
                np.zeros(W.shape[0])
                if sub.bias is None
                else sub.bias[member].double().cpu().numpy()
            )
            pairs.append((W, b))
    steps = tuple(float(v) for v in net.steps[member])
    return ReluNet(lift, tuple(pairs), net.scheme.name, steps)


def check_domain(domain: Sequence[float] | Sequence[Sequence[float]], dim: int) -> np.ndarray:
    """An interval ``(lo, hi)`` (dim 1) or a box ``((x_lo, x_hi), (y_lo, y_hi))`` (dim 2) as an
    (input, 2) array of bounds; a ValueError naming the expected form otherwise."""
    form = "(lo, hi)" if dim == 1 else "((x_lo, x_hi), (y_lo, y_hi))"
    try:
        arr = np.asarray(domain, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"domain must be numbers like {form}, got {domain!r}") from None
    if dim == 1 and arr.shape == (2,):
        arr = arr[None]
    if arr.shape != (dim, 2):
        raise ValueError(
            f"domain has shape {arr.shape}, expected {form} for a network with {dim} input(s)"
        )
    if not np.isfinite(arr).all() or (arr[:, 1] <= arr[:, 0]).any():
        raise ValueError(f"domain bounds must be finite with lo < hi, got {arr.tolist()}")
    return arr


@dataclass(frozen=True)
class Regions:
    """The activation regions of a ReLU network on a domain.

    cells: one vertex array per region, (vertex, input) — two endpoints on an interval, a convex
    polygon (counter-clockwise) on a box. patterns: (region, unit) on/off of every hidden unit,
    layers concatenated (``layer_patterns(l)`` picks layer l). maps, offsets: z_L = M x + c on
    each region, (region, component, input) and (region, component).
    """

    domain: np.ndarray
    widths: tuple[int, ...]
    cells: tuple[np.ndarray, ...]
    patterns: np.ndarray
    maps: np.ndarray
    offsets: np.ndarray

    @property
    def count(self) -> int:
        return len(self.cells)

    def layer_patterns(self, l: int) -> np.ndarray:
        """(region, n_l) patterns of hidden layer l = 1 … L."""
        if not 1 <= l <= len(self.widths):
            raise ValueError(f"layer {l} out of range: choose 1 … {len(self.widths)}")
        start = sum(self.widths[: l - 1])
        return self.patterns[:, start : start + self.widths[l - 1]]

    def measures(self) -> np.ndarray:
        """(region,) lengths (interval) or areas (box, shoelace formula)."""
        if self.domain.shape[0] == 1:
            return np.array([abs(c[1, 0] - c[0, 0]) for c in self.cells])
        out = []
        for c in self.cells:
            x, y = c[:, 0], c[:, 1]
            out.append(0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
        return np.array(out)

    def linear_pieces(self, *, atol: float = 1e-9) -> int:
        """On an interval: the number of maximal pieces on which x ↦ z_L is affine (adjacent
        activation regions with the same map merged). Only for 1-D domains."""
        if self.domain.shape[0] != 1:
            raise ValueError("linear_pieces merges intervals: it needs a 1-D domain")
        order = np.argsort([c[0, 0] for c in self.cells])
        pieces = 1
        for i, j in itertools.pairwise(order):
            same = np.allclose(self.maps[i], self.maps[j], atol=atol) and np.allclose(
                self.offsets[i], self.offsets[j], atol=atol
            )
            pieces += not same
        return pieces

    def padded_cells(self) -> np.ndarray:
        """(region, vertex, input) with NaN padding: the cells as one array for storage."""
        m = max(len(c) for c in self.cells)
        out = np.full((self.count, m, self.domain.shape[0]), np.nan)
        for i, c in enumerate(self.cells):
            out[i, : len(c)] = c
        return out


def _split(P: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cut the convex cell P (vertex, input) by {s = 0}; s: (vertex,) affine values, near-zeros
    already snapped to 0. Returns the pieces with s ≥ 0 and s ≤ 0."""
    if P.shape[1] == 1:  # an interval [P0, P1] with s changing sign inside
        x = P[0] + (s[0] / (s[0] - s[1])) * (P[1] - P[0])
        lo, hi = np.vstack([P[0], x]), np.vstack([x, P[1]])
        return (hi, lo) if s[1] > 0 else (lo, hi)
    pos: list[np.ndarray] = []
    neg: list[np.ndarray] = []
    m = len(P)
    for i in range(m):  # Sutherland–Hodgman against both half-planes at once
        sp, sq = s[i], s[(i + 1) % m]
        if sp >= 0:
            pos.append(P[i])
        if sp <= 0:
            neg.append(P[i])
        if sp * sq < 0:
            x = P[i] + (sp / (sp - sq)) * (P[(i + 1) % m] - P[i])
            pos.append(x)
            neg.append(x)
    return np.array(pos), np.array(neg)


def linear_regions(
    net: Network | ReluNet | Sequence[tuple[np.ndarray, np.ndarray]],
    domain: Sequence[float] | Sequence[Sequence[float]],
    *,
    member: int = 0,
) -> Regions:
    """Every activation region of a ReLU network on an interval (1 input) or a box (2 inputs),
    found exactly by splitting cells layer by layer (thesis App. C; Serra et al. 2018).

    Args:
        net: a ReLU :class:`~deepdyn.Network` (``map`` or ``euler``), a :class:`ReluNet`, or
            (W, b) pairs of an MLP.
        domain: ``(lo, hi)`` for 1 input, ``((x_lo, x_hi), (y_lo, y_hi))`` for 2.
        member: which ensemble member to analyse.
    """
    rn = relu_net(net, member=member)  # type: ignore[arg-type]
    d = rn.in_features
    if d not in (1, 2):
        raise ValueError(
            f"exact region counting needs 1 or 2 inputs (an interval or a box), got "
            f"in_features={d}: for more inputs count distinct activation_patterns on samples"
        )
    box = check_domain(domain, d)
    if d == 1:
        V0 = box.T.copy()  # (2, 1)
    else:
        (x0, x1), (y0, y1) = box
        V0 = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    radius = float(np.abs(box).max())
    P, p = rn.lift
    cells: list[tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]] = [(V0, P, p, [])]
    for l, (W, b) in enumerate(rn.layers):
        h = rn.steps[l] if rn.scheme == "euler" else 1.0
        nxt = []
        for V, M, c, pats in cells:
            A, a = W @ M, W @ c + b  # pre-activations on this cell: A x + a, (unit, input)
            tol = _REL_TOL * (np.abs(A).sum(1) * radius + np.abs(a))  # (unit,)
            vals = V @ A.T + a  # (vertex, unit)
            crossing = np.flatnonzero((vals > tol).any(0) & (vals < -tol).any(0))
            pieces = [V]
            for j in crossing:
                out: list[np.ndarray] = []
                for Q in pieces:
                    s = Q @ A[j] + a[j]
                    s[np.abs(s) <= tol[j]] = 0.0
                    if (s > 0).any() and (s < 0).any():
                        out.extend(_split(Q, s))
                    else:
                        out.append(Q)
                pieces = out
            for Q in pieces:
                on = (Q.mean(0) @ A.T + a) > 0  # (unit,) the pattern inside Q
                Dm = on.astype(np.float64)
                if rn.scheme == "map":
                    M2, c2 = Dm[:, None] * A, Dm * a
                else:
                    M2, c2 = M + h * Dm[:, None] * A, c + h * Dm * a
                nxt.append((Q, M2, c2, [*pats, on]))
        cells = nxt
    return Regions(
        domain=box,
        widths=rn.widths,
        cells=tuple(c[0] for c in cells),
        patterns=np.array([np.concatenate(c[3]) for c in cells], dtype=bool),
        maps=np.array([c[1] for c in cells]),
        offsets=np.array([c[2] for c in cells]),
    )


def count_linear_regions(
    net: Network | ReluNet | Sequence[tuple[np.ndarray, np.ndarray]],
    domain: Sequence[float] | Sequence[Sequence[float]],
    *,
    member: int = 0,
) -> int:
    """The exact number of activation regions on the domain (see :func:`linear_regions`)."""
    return linear_regions(net, domain, member=member).count


def activation_patterns(
    net: Network | ReluNet | Sequence[tuple[np.ndarray, np.ndarray]],
    x: np.ndarray | torch.Tensor,
    *,
    member: int = 0,
) -> np.ndarray:
    """(sample, unit) on/off pattern of every hidden unit at the points x: (sample, input)."""
    rn = relu_net(net, member=member)  # type: ignore[arg-type]
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != rn.in_features:
        raise ValueError(f"x must be (sample, {rn.in_features}), got shape {x.shape}")
    z = x @ rn.lift[0].T + rn.lift[1]
    pats = []
    for l, (W, b) in enumerate(rn.layers):
        pre = z @ W.T + b
        on = pre > 0
        pats.append(on)
        act = np.where(on, pre, 0.0)
        z = act if rn.scheme == "map" else z + rn.steps[l] * act
    return np.concatenate(pats, axis=1)


def count_patterns(patterns: np.ndarray) -> int:
    """Number of distinct rows of a (sample, unit) boolean pattern array."""
    return len(np.unique(np.packbits(patterns, axis=1), axis=0))


def zaslavsky(hyperplanes: int, dim: int) -> int:
    """Σ_{j=0}^{dim} C(n, j): regions of n hyperplanes in general position in R^dim (Zaslavsky
    1975) — the exact count of one hidden ReLU layer of n units on R^dim
    (docs/thesis-notes.md §6)."""
    n = _checks.integer("hyperplanes", hyperplanes, minimum=0)
    dim = _checks.integer("dim", dim)
    return sum(math.comb(n, j) for j in range(dim + 1))


def serra_bound(in_features: int, widths: Sequence[int]) -> int:
    """Serra, Tjandraatmadja & Ramalingam (2018), thesis Thm C.1.1: at most
    Σ_{(j_1…j_L) ∈ J} ∏_l C(n_l, j_l) regions, J = {0 ≤ j_l ≤ min(n_0, n_1 − j_1, …,
    n_{l−1} − j_{l−1}, n_l)}. Computed exactly by dynamic programming on the running minimum.
    For n_0 = 1 and all n_l ≥ 2 it equals ∏(n_l + 1)."""
    n0 = _checks.integer("in_features", in_features)
    ws = [_checks.integer("width", w) for w in widths]
    states = {n0: 1}  # running min(n_0, n_k − j_k, …) → summed weight
    for n in ws:
        new: dict[int, int] = {}
        for m, weight in states.items():
            for j in range(min(m, n) + 1):
                key = min(m, n - j)
                new[key] = new.get(key, 0) + weight * math.comb(n, j)
        states = new
    return sum(states.values())


def tent_map_layers(depth: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W, b) pairs of an MLP of ``depth`` hidden layers of width 2 whose readout 2z₁ − 4z₂ is
    the L-fold tent map t(x) = 2x on [0, ½], 2 − 2x on [½, 1] (Telgarsky 2016): 2^L pieces on
    [0, 1], the most a width-2 chain can reach on an interval."""
    L = _checks.integer("depth", depth)
    first = (np.array([[1.0], [1.0]]), np.array([0.0, -0.5]))
    rest = (np.array([[2.0, -4.0], [2.0, -4.0]]), np.array([0.0, -0.5]))
    return [first] + [rest] * (L - 1)
