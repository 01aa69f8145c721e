"""Vector fields f(z; θ_l): one set of parameters θ_l (the control) per layer l = 0 … L−1.

Every parameter carries a leading ``ensemble`` axis (1 for a single network).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import cast

import torch
from torch import nn

from deepdyn import _budget, _checks
from deepdyn.dynamics._activations import activation as _activation
from deepdyn.dynamics._affine import affine
from deepdyn.dynamics._invariant import is_batch_invariant

Layout = list[tuple[int, int, str, bool]]  # sub-layers (in, out, activation, has bias)


@dataclass(frozen=True, eq=False)
class FieldKind:
    """A family of layer fields: how layer l's sub-layers S_1 … S_q are laid out.

    ``layout(c_in, c_out, hidden, q, activation)`` lists each sub-layer's
    (in, out, activation, has bias); ``hidden`` is the inner width (C_l when not given).
    """

    name: str
    layout: Callable[[int, int, int, int, str], Layout]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.name == other
        return isinstance(other, FieldKind) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __str__(self) -> str:
        return self.name


def _perceptron(c_in: int, c_out: int, m: int, q: int, act: str) -> Layout:
    return [(c_in, c_out, act, True)]


def _bottleneck(c_in: int, c_out: int, m: int, q: int, act: str) -> Layout:
    return [(c_in, m, act, True), (m, c_out, "identity", False)]


def _block(c_in: int, c_out: int, m: int, q: int, act: str) -> Layout:
    dims = [c_in] + [m] * (q - 1) + [c_out]
    return [(dims[i], dims[i + 1], act, True) for i in range(q)]


def _mlp(c_in: int, c_out: int, m: int, q: int, act: str) -> Layout:
    dims = [c_in] + [m] * (q - 1) + [c_out]
    return [(dims[i], dims[i + 1], act if i < q - 1 else "identity", True) for i in range(q)]


FIELDS: dict[str, FieldKind] = {}


def register_field(kind: FieldKind) -> FieldKind:
    """Add a field family to :data:`FIELDS` (under ``kind.name``) and return it."""
    FIELDS[kind.name] = kind
    return kind


for _k in (
    FieldKind("perceptron", _perceptron),
    FieldKind("bottleneck", _bottleneck),
    FieldKind("block", _block),
    FieldKind("mlp", _mlp),
):
    register_field(_k)


class _Sublayer(nn.Module):
    """z ↦ σ(A z + b) with A: (ensemble, out, in), b: (ensemble, out) (b optional)."""

    def __init__(
        self, n_in: int, n_out: int, act: str, *, bias: bool, ensemble: int, dtype: torch.dtype
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(ensemble, n_out, n_in, dtype=dtype))
        self.bias = nn.Parameter(torch.zeros(ensemble, n_out, dtype=dtype)) if bias else None
        record = _activation(act)
        self.act = record.fn  # the bare function: one call less on the hot path
        self.act_inplace = record.inplace
        self.act_name = record.name

    def pre(self, z: torch.Tensor) -> torch.Tensor:
        return affine(z, self.weight, self.bias)

    def parameter_pairs(self) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
        return [(self.weight, self.bias)]


class Field(nn.Module):
    """A family of layer fields f_l(z) = S_q ∘ … ∘ S_1(z), each S_i(g) = σ_i(A_i g + b_i).

    * ``perceptron``  f_l(z) = σ(A_l z + b_l)                     (thesis eq. 5.1)
    * ``bottleneck``  f_l(z) = A_{l,2} σ(A_{l,1} z + b_l)          (thesis eq. 5.5)
    * ``block``       a q-layer perceptron σ(A_q … σ(A_1 z + b_1) … + b_q), the residual
                      branch 𝒢 of a general skip connection (thesis Def. 8.2.1)
    * ``mlp``         a q-layer fully connected network whose last layer is affine,
                      A_q σ(… σ(A_1 z + b_1) …) + b_q: the field of the neural-ODE
                      literature (q = 3, hidden 32, ReLU in augmented neural ODEs)

    ``widths`` are the state widths C_0 … C_L (they may vary only for the ``map`` scheme).
    """

    def __init__(
        self,
        kind: str,
        widths: Sequence[int],
        *,
        activation: str,
        hidden: int | None = None,
        q: int = 2,
        ensemble: int = 1,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        self.kind = FIELDS[_checks.choice("field", str(kind), FIELDS)]
        self.activation = _activation(activation)
        self.widths = tuple(int(w) for w in widths)
        self.depth = len(self.widths) - 1
        layers, count = [], 0
        for l in range(self.depth):
            c_in, c_out = self.widths[l], self.widths[l + 1]
            m = hidden if hidden is not None else c_in
            spec = self.kind.layout(c_in, c_out, m, q, self.activation.name)
            count += sum((a + bias) * b for a, b, _, bias in spec)  # refuse what cannot fit
            _budget.check_network(count, widths=self.widths, ensemble=ensemble, dtype=dtype)
            layers.append(
                nn.ModuleList(
                    _Sublayer(a, b, s, bias=bias, ensemble=ensemble, dtype=dtype)
                    for a, b, s, bias in spec
                )
            )
        self.layers = nn.ModuleList(layers)
        # the sub-layers of every layer as plain lists: the flow reads them at every evaluation
        # (an adaptive solver: tens per step), and nn.Module's children() walk costs more than
        # a small layer's arithmetic
        self._subs: list[list[_Sublayer]] = [
            cast(list[_Sublayer], list(cast(nn.ModuleList, m).children())) for m in self.layers
        ]
        # one network's (weight, bias) without the ensemble axis, made once per solve while
        # ``pinned()`` holds them: one view per parameter and solve, not per evaluation
        self._pins: list[list[tuple[torch.Tensor, torch.Tensor | None]]] | None = None

    @contextlib.contextmanager
    def pinned(self) -> Iterator[None]:
        """While it is open, a single network's field takes (sample, component) states and reads
        its parameters through views made once (a solver evaluates the field tens of times per
        step with θ fixed: per-evaluation views were autograd nodes the backward pass walked
        one by one). For one network, outside ``batch_invariant()``: ``run_ode`` opens it."""
        if self._pins is not None:  # nested: the outer views serve
            yield
            return
        self._pins = [
            [
                (sub.weight.squeeze(0), None if sub.bias is None else sub.bias.squeeze(0))
                for sub in subs
            ]
            for subs in self._subs
        ]
        try:
            yield
        finally:
            self._pins = None

    def sublayers(self, l: int) -> list[_Sublayer]:
        """The sub-layers S_1 … S_q of layer l."""
        return list(self._subs[l])

    def forward(self, l: int, z: torch.Tensor) -> torch.Tensor:
        """f_l(z). z: (ensemble, sample, C_l) → (ensemble, sample, C_{l+1})."""
        subs = self._subs[l]
        if z.dim() == 2:  # a pinned solve's states (Field.pinned): one network, no ensemble axis
            assert self._pins is not None, "2-D states are for a pinned solve (Field.pinned)"
            for sub, (w, b) in zip(subs, self._pins[l], strict=True):
                z = sub.act(nn.functional.linear(z, w, b))
            return z
        if z.shape[0] == 1 and len(subs) > 1 and not is_batch_invariant():
            # one network, several sub-layers: drop the ensemble axis once, not per sub-layer
            # (fewer autograd nodes on a solver's many evaluations)
            u = z.squeeze(0)  # views, not selects: their backward is a reshape, not a scatter
            for sub in subs:
                b = None if sub.bias is None else sub.bias.squeeze(0)
                u = sub.act(nn.functional.linear(u, sub.weight.squeeze(0), b))
            return u.unsqueeze(0)
        if torch.is_grad_enabled():
            for sub in subs:
                z = sub.act(sub.pre(z))
            return z
        for sub in subs:  # no autograd: σ may overwrite the fresh output of the affine map
            p = sub.pre(z)
            z = sub.act(p) if sub.act_inplace is None else sub.act_inplace(p)
        return z

    def evaluate(self, l: int, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """f_l(z) and its hidden pre-activations (ensemble, sample, hidden units of layer l).

        The hidden units are those of every sub-layer with a non-identity σ, concatenated.
        """
        pres = []
        subs = self.sublayers(l)
        for sub in subs:
            p = sub.pre(z)
            if sub.act_name != "identity" or len(subs) == 1:
                pres.append(p)
            z = sub.act(p)
        return z, torch.cat(pres, dim=-1) if len(pres) > 1 else pres[0]

    def layer_parameters(self, l: int) -> list[nn.Parameter]:
        """θ_l: the parameters of layer l (each with a leading ensemble axis)."""
        return list(self.layers[l].parameters())

    def parameter_pairs(self) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
        """(weight, bias) of every sub-layer, layer by layer: the order of initialization."""
        return [pair for l in range(self.depth) for sub in self.sublayers(l)
                for pair in sub.parameter_pairs()]  # fmt: skip
