"""From and to plain PyTorch: ``deepdyn.from_torch(module)`` and ``Network.to_torch()``.

A researcher's network is usually a ``torch.nn`` model trained elsewhere. Two shapes of model
are read, with the same θ, as a :class:`~deepdyn.Network` and its :class:`~deepdyn.NetworkSpec`:

* **an MLP**: an ``nn.Sequential`` of ``Linear`` layers, each followed by one supported
  activation (the same one in every hidden layer; widths may vary), and optionally a last
  ``Linear`` (the readout W z + μ), optionally followed by ``Sigmoid`` or ``Softmax(dim=-1)``;
* **a residual stack**: an optional lift (``Linear`` d → C, or ``ConstantPad1d((0, C − d), 0)``),
  then blocks z ↦ z + h f(z) with f a chain ``Linear–σ`` (perceptron field, thesis eq. 5.1),
  ``Linear–σ–Linear`` (bottleneck, eq. 5.5; with a bias on the second Linear the field
  ``mlp`` with q = 2, or ``bottleneck_bias`` where there is no ``mlp``) or
  ``Linear–σ–Linear–σ …`` (a q-layer block, Def. 8.2.1), then the readout as for an MLP. The
  blocks are :class:`ResidualBlock` (what :meth:`Network.to_torch` writes) or the user's own
  class, described by an adapter: ``residual={MyBlock: lambda b: (b.h, [b.lin, "tanh"])}``
  returns the step h and the chain (modules, or activation names for an activation applied in
  ``forward``).

A module it cannot read gets a one-line ValueError naming the layer and what is supported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from deepdyn.dynamics._fields import FIELDS, FieldKind, Layout, register_field
from deepdyn.dynamics._schemes import SCHEMES
from deepdyn.dynamics._spec import NetworkSpec


def _bottleneck_bias(c_in: int, c_out: int, m: int, q: int, act: str) -> Layout:
    return [(c_in, m, act, True), (m, c_out, "identity", True)]


# A₂σ(A₁z + b₁) + b₂: the residual MLP block as PyTorch users write it (nn.Linear has a bias).
# Where the library has the field "mlp" (q affine maps, the last without σ) it is that field with
# q = 2; otherwise it is registered here as "bottleneck_bias".
AFFINE_BOTTLENECK = "mlp" if "mlp" in FIELDS else "bottleneck_bias"
if AFFINE_BOTTLENECK not in FIELDS:
    register_field(FieldKind("bottleneck_bias", _bottleneck_bias))

# torch activation modules deepdyn reads, and the deepdyn activation each one is
_ACTIVATION_MODULES: dict[type[nn.Module], str] = {
    nn.ReLU: "relu",
    nn.Tanh: "tanh",
    nn.Sigmoid: "sigmoid",
    nn.Softplus: "softplus",
    nn.LeakyReLU: "leaky_relu",
    nn.Identity: "identity",
}
SUPPORTED = (
    "Linear, ReLU, Tanh, Sigmoid, Softplus (beta 1, threshold 20), LeakyReLU (slope 0.01), "
    "Identity, Softmax(dim=-1) after the last Linear, ConstantPad1d((0, p), 0) as a lift, "
    "nested Sequential, ResidualBlock or a residual block class given in residual="
)
Adapter = Callable[[nn.Module], tuple[float, Sequence[nn.Module | str]]]


class ResidualBlock(nn.Module):
    """z ↦ F(z) = z + h f(z) (``euler``), or the step of another one-step residual scheme
    (``heun``, ``rk4``) of the field f: a plain ``nn.Module`` around an ``nn.Sequential`` f."""

    def __init__(self, f: nn.Module, h: float, scheme: str = "euler") -> None:
        super().__init__()
        if scheme not in SCHEMES or not SCHEMES[scheme].one_step or not SCHEMES[scheme].residual:
            raise ValueError(f'ResidualBlock scheme "{scheme}" unknown: choose euler, heun or rk4')
        self.f, self.h, self.scheme = f, float(h), scheme

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return SCHEMES[self.scheme].step(self.f, z, self.h)

    def extra_repr(self) -> str:
        return f"h={self.h!r}, scheme={self.scheme}"


# ------------------------------------------------------------------------------- reading
def _activation_name(m: nn.Module | str, where: str) -> str | None:
    """The deepdyn activation of ``m`` (a module or a name), None if ``m`` is not one."""
    from deepdyn.dynamics._activations import ACTIVATIONS, LEAKY_SLOPE

    if isinstance(m, str):
        if m not in ACTIVATIONS:
            raise ValueError(
                f'{where}: activation "{m}" unknown: choose one of {", ".join(ACTIVATIONS)}'
            )
        return m
    name = _ACTIVATION_MODULES.get(type(m))
    if name == "softplus" and (m.beta != 1 or m.threshold != 20):  # type: ignore[union-attr]
        raise ValueError(f"{where}: Softplus with beta ≠ 1 or threshold ≠ 20 is not supported")
    if name == "leaky_relu" and m.negative_slope != LEAKY_SLOPE:  # type: ignore[union-attr]
        raise ValueError(
            f"{where}: LeakyReLU with negative_slope {m.negative_slope} is not supported "  # type: ignore[union-attr]
            f"(deepdyn's leaky_relu has slope {LEAKY_SLOPE})"
        )
    return name


def _flatten(module: nn.Module) -> list[tuple[str, nn.Module]]:
    if isinstance(module, nn.Sequential):
        out: list[tuple[str, nn.Module]] = []
        for name, child in module.named_children():
            out.extend((f"{name}.{n}" if n else name, m) for n, m in _flatten(child))
        return out
    return [("", module)]


def _unsupported(where: str, m: Any) -> ValueError:
    return ValueError(f"{where}: {type(m).__name__} is not supported; deepdyn reads {SUPPORTED}")


def _linear(m: Any) -> nn.Linear | None:
    return m if isinstance(m, nn.Linear) else None


def _readout(
    items: list[tuple[str, nn.Module]], i: int
) -> tuple[nn.Linear | None, str | None, int]:
    """The readout at items[i:]: (Linear or None, terminal or None, items used)."""
    rest = items[i:]
    if not rest:
        return None, None, 0
    where, m = rest[0]
    if not isinstance(m, nn.Linear):
        raise _unsupported(f"layer {where}", m)
    if len(rest) == 1:
        return m, "identity", 1
    w2, m2 = rest[1]
    if isinstance(m2, nn.Sigmoid):
        terminal = "sigmoid"
    elif isinstance(m2, nn.Softmax):
        if m2.dim not in (-1, 1):
            raise ValueError(f"layer {w2}: Softmax must act on the last dim (dim=-1)")
        terminal = "softmax"
    else:
        raise ValueError(
            f"layer {w2}: {type(m2).__name__} after the readout Linear {where}; deepdyn reads "
            "a readout Linear followed by nothing, Sigmoid or Softmax(dim=-1)"
        )
    if len(rest) > 2:
        w3, m3 = rest[2]
        raise ValueError(
            f"layer {w3}: {type(m3).__name__} after the terminal {type(m2).__name__}"
            "; the readout must end the network"
        )
    return m, terminal, 2


def _dtype(module: nn.Module) -> str:
    ps = list(module.parameters())
    if not ps:
        raise ValueError("the module has no parameters: deepdyn reads Linear layers")
    dtypes = {p.dtype for p in ps}
    if len(dtypes) > 1:
        raise ValueError(f"the module mixes dtypes {sorted(map(str, dtypes))}: use one")
    d = ps[0].dtype
    names = {torch.float32: "float32", torch.float64: "float64"}
    if d not in names:
        raise ValueError(f"dtype {d} is not supported: convert the module to float32 or float64")
    return names[d]


def _copy(target: nn.Module, linear: nn.Linear) -> None:
    """θ of ``linear`` into member 0 of a deepdyn sub-layer, lift or readout."""
    w: torch.Tensor = target.weight  # type: ignore[assignment]
    b: torch.Tensor | None = getattr(target, "bias", None)
    with torch.no_grad():
        w[0] = linear.weight.detach().to(w.dtype)
        if b is not None:
            if linear.bias is None:
                b.zero_()
            else:
                b[0] = linear.bias.detach().to(b.dtype)


def from_torch(
    module: nn.Module,
    *,
    residual: Mapping[type, Adapter] | None = None,
) -> Any:
    """A :class:`~deepdyn.Network` with the θ of a plain PyTorch ``module`` (see the module
    docstring for what is read), and its spec (``net.spec``).

    Args:
        module: an ``nn.Sequential`` MLP or residual stack (float32 or float64).
        residual: adapters for the user's own residual block classes: ``{cls: fn}`` where
            ``fn(block)`` returns ``(h, chain)``, the step h and the chain of f as modules
            (``nn.Linear``, activation modules) or activation names (``"tanh"``).

    Returns:
        the Network; ``net(x)`` equals ``module(x)`` to rounding.
    """
    from deepdyn.dynamics._network import Network

    if not isinstance(module, nn.Module):
        raise ValueError(f"from_torch needs a torch.nn.Module, got {type(module).__name__}")
    adapters: dict[type, Adapter] = {ResidualBlock: _own_block}
    for cls, fn in (residual or {}).items():
        if not isinstance(cls, type) or not callable(fn):
            raise ValueError("residual= maps a block class to a function block -> (h, chain)")
        adapters[cls] = fn
    dtype = _dtype(module)
    items = _flatten(module)
    is_block = [any(isinstance(m, c) for c in adapters) for _, m in items]
    if any(is_block):
        spec, fill = _read_residual(items, is_block, adapters, dtype)
    else:
        spec, fill = _read_mlp(items, dtype)
    net = Network(spec)
    fill(net)
    return net


def _own_block(b: nn.Module) -> tuple[float, Sequence[nn.Module | str]]:
    assert isinstance(b, ResidualBlock)
    chain = [m for _, m in _flatten(b.f)]
    return b.h, chain


def _read_mlp(
    items: list[tuple[str, nn.Module]], dtype: str
) -> tuple[NetworkSpec, Callable[[Any], None]]:
    hidden: list[tuple[nn.Linear, str]] = []
    i = 0
    acts: set[str] = set()
    while i < len(items):
        where, m = items[i]
        if not isinstance(m, nn.Linear):
            raise _unsupported(f"layer {where}", m)
        nxt = items[i + 1][1] if i + 1 < len(items) else None
        act = _activation_name(nxt, f"layer {items[i + 1][0]}") if nxt is not None else None
        terminal_next = isinstance(nxt, nn.Sigmoid | nn.Softmax) and i + 2 == len(items)
        if nxt is None or (terminal_next and hidden):
            break  # the readout
        if isinstance(nxt, nn.Linear):
            act = "identity"
            i += 1
        elif act is None:
            raise _unsupported(f"layer {items[i + 1][0]}", nxt)
        else:
            i += 2
        hidden.append((m, act))
        acts.add(act)
    if not hidden:
        raise ValueError("the module has no hidden layer (Linear followed by an activation)")
    if len(acts) > 1:
        raise ValueError(
            f"the hidden layers use different activations ({', '.join(sorted(acts))}): deepdyn "
            "networks have one activation σ in every layer"
        )
    lin, terminal, used = _readout(items, i)
    del used
    for k in range(1, len(hidden)):
        if hidden[k][0].in_features != hidden[k - 1][0].out_features:
            raise ValueError(
                f"Linear {k} takes {hidden[k][0].in_features} inputs, Linear {k - 1} gives "
                f"{hidden[k - 1][0].out_features}"
            )
    widths = [h.out_features for h, _ in hidden]
    if lin is not None and lin.in_features != widths[-1]:
        raise ValueError(
            f"the readout Linear takes {lin.in_features} inputs, the last hidden "
            f"layer gives {widths[-1]}"
        )
    spec = NetworkSpec(
        hidden[0][0].in_features,
        widths[0] if len(set(widths)) == 1 else tuple(widths),
        len(hidden),
        lin.out_features if lin is not None else 1,
        scheme="map",
        activation=acts.pop(),
        readout=terminal,
        dtype=dtype,
    )

    def fill(net: Any) -> None:
        for l, (m, _) in enumerate(hidden):
            (sub,) = net.field.sublayers(l)
            _copy(sub, m)
        if lin is not None:
            _copy(net.readout, lin)

    return spec, fill


def _field_of(chain: Sequence[nn.Module | str], where: str) -> tuple[str, int | None, int, str]:
    """(field kind, hidden, q, activation) of a block's chain f."""
    pattern, lins, acts = [], [], set()
    for j, m in enumerate(chain):
        if isinstance(m, nn.Linear):
            pattern.append("Linear")
            lins.append(m)
        else:
            act = _activation_name(m, f"{where}, item {j} of f")
            if act is None:
                raise _unsupported(f"{where}, item {j} of f", m)
            pattern.append("σ")
            acts.add(act)
    shape = (
        "deepdyn reads f = Linear–σ (perceptron), Linear–σ–Linear (bottleneck) or "
        "Linear–σ–Linear–σ… (block), one σ"
    )
    if len(acts) != 1 or not lins:
        raise ValueError(
            f"{where}: f is {'–'.join(pattern) or 'empty'} with activations {sorted(acts)}; {shape}"
        )
    act = acts.pop()
    c = lins[0].in_features
    if pattern == ["Linear", "σ"]:
        return "perceptron", None, 2, act
    if pattern == ["Linear", "σ", "Linear"]:
        w = lins[0].out_features
        b = lins[1].bias
        kind = "bottleneck" if b is None or not bool((b != 0).any()) else AFFINE_BOTTLENECK
        return kind, (w if w != c else None), 2, act
    if pattern == ["Linear", "σ"] * len(lins) and len(lins) >= 2:
        inner = {lin.out_features for lin in lins[:-1]}
        if len(inner) != 1:
            raise ValueError(f"{where}: the inner widths of f differ ({sorted(inner)}); {shape}")
        w = inner.pop()
        return "block", (w if w != c else None), len(lins), act
    raise ValueError(f"{where}: f is {'–'.join(pattern)}; {shape}")


def _read_residual(
    items: list[tuple[str, nn.Module]],
    is_block: list[bool],
    adapters: Mapping[type, Adapter],
    dtype: str,
) -> tuple[NetworkSpec, Callable[[Any], None]]:
    first = is_block.index(True)
    last = len(is_block) - 1 - is_block[::-1].index(True)
    for j in range(first, last + 1):
        if not is_block[j]:
            where, m = items[j]
            raise ValueError(
                f"layer {where}: {type(m).__name__} between residual blocks; deepdyn reads "
                "a lift, then residual blocks only, then the readout"
            )
    lift_items = items[:first]
    lift_lin: nn.Linear | None = None
    lift = "identity"
    pad = 0
    if len(lift_items) > 1:
        where, m = lift_items[1]
        raise ValueError(
            f"layer {where}: {type(m).__name__} before the residual blocks; deepdyn "
            "reads one lift there (Linear or ConstantPad1d((0, p), 0))"
        )
    if lift_items:
        where, m = lift_items[0]
        if isinstance(m, nn.Linear):
            lift, lift_lin = "affine", m
        elif isinstance(m, nn.ConstantPad1d):
            p = tuple(m.padding)
            if p[0] != 0 or m.value != 0:
                raise ValueError(f"layer {where}: ConstantPad1d must append zeros: (0, p), 0")
            lift, pad = "pad", int(p[1])
        else:
            raise _unsupported(f"layer {where}", m)
    blocks = []
    schemes: set[str] = set()
    for j in range(first, last + 1):
        where, m = items[j]
        fn = next(fn for cls, fn in adapters.items() if isinstance(m, cls))
        h, chain = fn(m)
        chain = list(chain)
        kind = _field_of(chain, f"block {where}")
        blocks.append((where, float(h), [c for c in chain if isinstance(c, nn.Linear)], kind))
        schemes.add(m.scheme if isinstance(m, ResidualBlock) else "euler")
    kinds = {b[3] for b in blocks}
    if len(kinds) > 1:
        raise ValueError(
            f"the residual blocks have different fields {sorted(map(str, kinds))}: "
            "deepdyn networks have one field family and one σ"
        )
    field, hidden, q, act = kinds.pop()
    if len(schemes) > 1:
        raise ValueError(f"the residual blocks use different schemes {sorted(schemes)}: use one")
    C = blocks[0][2][0].in_features
    for where, _, lins, _ in blocks:
        if lins[0].in_features != C or lins[-1].out_features != C:
            raise ValueError(
                f"block {where}: f maps {lins[0].in_features} → "
                f"{lins[-1].out_features}, expected {C} → {C}"
            )
    if lift == "affine":
        assert lift_lin is not None
        d = lift_lin.in_features
        if lift_lin.out_features != C:
            raise ValueError(f"the lift Linear gives {lift_lin.out_features}, the blocks take {C}")
    elif lift == "pad":
        d = C - pad
    else:
        d = C
    lin, terminal, _ = _readout(items, last + 1)
    if lin is not None and lin.in_features != C:
        raise ValueError(f"the readout Linear takes {lin.in_features} inputs, the blocks give {C}")
    spec = NetworkSpec(
        d,
        C,
        len(blocks),
        lin.out_features if lin is not None else 1,
        scheme=schemes.pop(),
        field=field,
        hidden=hidden,
        q=q,
        activation=act,
        h=tuple(b[1] for b in blocks),
        lift=lift,
        readout=terminal,
        dtype=dtype,
    )

    def fill(net: Any) -> None:
        if lift_lin is not None:
            _copy(net.lift, lift_lin)
        for l, (_, _, lins, _) in enumerate(blocks):
            for sub, m in zip(net.field.sublayers(l), lins, strict=True):
                _copy(sub, m)
        if lin is not None:
            _copy(net.readout, lin)

    return spec, fill


# ------------------------------------------------------------------------------- writing
_MODULE_OF = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "softplus": nn.Softplus,
    "identity": nn.Identity,
}


def _act_module(name: str) -> nn.Module:
    from deepdyn.dynamics._activations import LEAKY_SLOPE

    if name == "leaky_relu":
        return nn.LeakyReLU(LEAKY_SLOPE)
    if name not in _MODULE_OF:
        raise ValueError(
            f'activation "{name}" has no torch module: to_torch writes '
            f"{', '.join([*_MODULE_OF, 'leaky_relu'])}"
        )
    return _MODULE_OF[name]()


def _as_linear(w: torch.Tensor, b: torch.Tensor | None) -> nn.Linear:
    lin = nn.Linear(w.shape[1], w.shape[0], bias=b is not None, dtype=w.dtype, device=w.device)
    with torch.no_grad():
        lin.weight.copy_(w)
        if b is not None:
            lin.bias.copy_(b)
    return lin


def to_torch(net: Any, *, member: int | None = None) -> nn.Sequential:
    """``net`` (or member ``member`` of an ensemble) as a plain ``nn.Sequential`` with the same
    θ: Linear and activation modules for ``map``, :class:`ResidualBlock` s for ``euler``,
    ``heun`` and ``rk4``; the lift (Linear or ConstantPad1d) first, the readout (Linear, then
    Sigmoid or Softmax) last. ``from_torch(net.to_torch())`` gives the network back."""
    if net.ensemble is not None:
        if member is None:
            raise ValueError(
                f"this is an ensemble of {net.members} networks: pass member=k (0 … "
                f"{net.members - 1}) to write one of them"
            )
        net = net.member(member)
    elif member not in (None, 0):
        raise ValueError(f"member {member} out of range: this is one network (member 0)")
    sch = net.scheme
    if sch.name != "map" and not (sch.residual and sch.one_step):
        raise ValueError(
            f'to_torch writes the schemes map, euler, heun and rk4, not "{sch.name}": read the '
            'θ under another scheme first (net.with_scheme("euler"))'
        )
    mods: list[nn.Module] = []
    if net.lift.kind == "affine":
        mods.append(_as_linear(net.lift.weight[0].detach(), net.lift.bias[0].detach()))
    elif net.lift.kind == "pad":
        mods.append(nn.ConstantPad1d((0, net.lift.width - net.lift.d), 0.0))
    steps = [float(s) for s in net.steps[0]]
    for l in range(net.depth):
        chain: list[nn.Module] = []
        for sub in net.field.sublayers(l):
            w = sub.weight[0].detach()
            b = None if sub.bias is None else sub.bias[0].detach()
            chain.append(_as_linear(w, b))
            if sub.act_name != "identity" or sch.name == "map":
                chain.append(_act_module(sub.act_name))
        if sch.name == "map":
            mods.extend(chain)
        else:
            mods.append(ResidualBlock(nn.Sequential(*chain), steps[l], sch.name))
    r = net.readout
    if r is not None:
        mods.append(_as_linear(r.weight[0].detach(), r.bias[0].detach()))
        if r.terminal == "sigmoid":
            mods.append(nn.Sigmoid())
        elif r.terminal == "softmax":
            mods.append(nn.Softmax(dim=-1))
    return nn.Sequential(*mods)
