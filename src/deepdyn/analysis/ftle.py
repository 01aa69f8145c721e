"""Finite-time Lyapunov exponent (FTLE) fields over input space (Storm, Linander, Bec,
Gustavsson & Mehlig, PRL 132, 057301, 2024).

The FTLE of the map x ↦ z_l at the input x is

    λ_l(x) = log σ_max(∂z_l/∂x) / (t_l − t_0),

the growth rate, per unit layer time, of the most stretched direction of an infinitesimal ball
around x (t_l = l for ``map``, Σ h for residual schemes). Ridges of λ_L(x) over a 2-D input
grid separate the classes of a narrow trained network; for wide networks the contrast fades.

The Jacobian ∂z_l/∂x (C_l × d) is carried forward layer by layer: its d columns are the tangents
of the unit input directions, pushed through each layer's step by forward-mode differentiation
(``torch.func.jvp``, batched over the tangents; for ``map`` and ``euler`` perceptron layers the
tangent map σ' ⊙ A T is written out), renormalized at every layer with the scale
carried in logarithms (deep products neither overflow nor underflow). σ_max² is the largest
eigenvalue of the d × d Gram matrix (closed form for d ≤ 2). Cost: about (1 + d) forward passes.
Schemes whose layers are not one-step maps (``leapfrog``, ``ode``) are differentiated through
the whole flow instead, by reverse mode, one backward pass per state component.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import xarray as xr
from matplotlib.axes import Axes

from deepdyn import _checks
from deepdyn.dynamics import Network
from deepdyn.dynamics._activations import LEAKY_SLOPE


def _top_eig(G: torch.Tensor) -> torch.Tensor:
    """Largest eigenvalue of symmetric PSD Gram matrices (..., d, d), in float64."""
    G = G.to(torch.float64)
    d = G.shape[-1]
    if d == 1:
        return G[..., 0, 0]
    if d == 2:
        a, b, c = G[..., 0, 0], G[..., 0, 1], G[..., 1, 1]
        return 0.5 * (a + c) + torch.sqrt((0.5 * (a - c)) ** 2 + b * b)
    return torch.linalg.eigvalsh(G)[..., -1]


def _prepare(net: Network, x: torch.Tensor) -> torch.Tensor:
    """x → (ensemble, sample, input), validated, contiguous (forward-mode AD writes into it)."""
    return net._prepare(x).contiguous()


def _layers(net: Network, layers: Sequence[int] | None) -> list[int]:
    if layers is None:
        return list(range(1, net.depth + 1))
    out = []
    for l in layers:
        if isinstance(l, bool) or not isinstance(l, int) or not 1 <= l <= net.depth:
            raise ValueError(f"FTLE layer {l!r} out of range: choose 1 … {net.depth} (z_l, l ≥ 1)")
        out.append(int(l))
    return out


def _push(
    fn: Callable[[torch.Tensor], torch.Tensor], z: torch.Tensor, T: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(fn(z), ∂fn(z)·T) for the tangents T (tangent, ensemble, sample, C)."""
    out, tang = torch.func.vmap(lambda t: torch.func.jvp(fn, (z,), (t,)))(T)  # type: ignore[misc]
    return out[0], tang  # the primal does not depend on the tangent: vmap only expands it


# σ'(pre) from the pre-activation p and the output y = σ(p), for the fast path
_DERIVATIVES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "tanh": lambda p, y: 1 - y * y,
    "sigmoid": lambda p, y: y * (1 - y),
    "relu": lambda p, y: (p > 0).to(p.dtype),
    "leaky_relu": lambda p, y: torch.where(p > 0, 1.0, LEAKY_SLOPE).to(p.dtype),
    "softplus": lambda p, y: torch.sigmoid(p),
    "identity": lambda p, y: torch.ones_like(p),
}


def _fast_step(net: Network, l: int) -> Callable[..., tuple[torch.Tensor, torch.Tensor]] | None:
    """Layer l of a ``map`` or ``euler`` perceptron network with its tangent map written out
    (z' = σ(Az + b) or z + h σ(Az + b); T' = σ' ⊙ AT or T + h σ' ⊙ AT), or None when the layer
    is of another kind (then forward-mode differentiation does it)."""
    if net.scheme.name not in ("map", "euler") or net.field.kind != "perceptron":
        return None
    (sub,) = net.field.sublayers(l)
    deriv = _DERIVATIVES.get(sub.act_name)
    if deriv is None:
        return None
    W = sub.weight.transpose(1, 2).unsqueeze(0)  # (1, ensemble, in, out)
    h = net._h[l]

    def step(z: torch.Tensor, T: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        p = sub.pre(z)
        y = sub.act(p)
        AT = torch.matmul(T, W) * deriv(p, y)  # (tangent, ensemble, sample, out)
        if net.scheme.name == "map":
            return y, AT
        c = h if isinstance(h, float) else h.to(z.dtype)  # (ensemble, 1, 1) per member
        return z + c * y, T + c * AT

    return step


def _chunk_ftle(net: Network, xe: torch.Tensor, want: list[int], whole: bool) -> torch.Tensor:
    """(rows, ensemble, sample) float64: log σ_max of ∂z_l/∂x for l in ``want`` (and of
    ∂logits/∂x last when ``whole``), not yet divided by the horizon."""
    E, n, d = xe.shape
    eye = torch.eye(d, dtype=xe.dtype, device=xe.device)
    T0 = eye[:, None, None, :].expand(d, E, n, d).contiguous()  # (tangent, ensemble, sample, d)
    rows: list[torch.Tensor] = []
    log_scale = torch.zeros(E, n, dtype=torch.float64, device=xe.device)
    tiny = torch.finfo(xe.dtype).tiny

    def record(T: torch.Tensor) -> None:
        G = torch.einsum("iesc,jesc->esij", T, T)
        rows.append(0.5 * _top_eig(G).clamp_min(0).log() + log_scale)

    if net.scheme.one_step:
        z, T = _push(net.lift, xe, T0)
        last = max(want) if want else net.depth
        for l in range(last if not whole else net.depth):
            fast = _fast_step(net, l)
            if fast is not None:
                z, T = fast(z, T)
            else:

                def layer(u: torch.Tensor, l: int = l) -> torch.Tensor:
                    return net.layer_step(l, u)

                z, T = _push(layer, z, T)
            scale = T.pow(2).sum(dim=(0, 3)).sqrt().clamp_min(tiny)  # (ensemble, sample)
            T = T / scale[None, :, :, None]
            log_scale = log_scale + scale.to(torch.float64).log()
            if l + 1 in want:
                record(T)
        if whole:
            assert net.readout is not None
            _, T = _push(net.readout.logits, z, T)
            record(T)
        return torch.stack(rows)

    # not one-step maps (leapfrog, ode): reverse mode through the whole flow, one backward
    # pass per output component (the samples are independent, so Σ_samples z_l,i gives row i)
    with torch.enable_grad():
        u = xe.detach().requires_grad_(True)
        tr = net.trajectory(u if net.ensemble is not None else u[0])
        outs = [tr.state(l) for l in want]
        if whole:
            outs.append(net.logits(u if net.ensemble is not None else u[0]))
        for o in outs:
            o = o if net.ensemble is not None else o.unsqueeze(0)
            J = torch.stack(
                [
                    torch.autograd.grad(o[..., i].sum(), u, retain_graph=True)[0]
                    for i in range(o.shape[-1])
                ]
            )  # (component, ensemble, sample, input): row i of ∂z/∂x
            record(J.permute(3, 1, 2, 0))  # columns J e_j as tangents
    return torch.stack(rows)


def ftle(
    net: Network,
    x: torch.Tensor,
    *,
    layers: Sequence[int] | None = None,
    whole: bool = False,
    chunk: int | None = None,
) -> torch.Tensor:
    """λ_l(x) = log σ_max(∂z_l/∂x) / (t_l − t_0) at every input x (see the module docstring).

    Args:
        net: any deepdyn Network (an ensemble: every member).
        x: (sample, input) or (ensemble, sample, input).
        layers: the layers l (1 … L) of the maps x ↦ z_l; all by default.
        whole: append the FTLE of the whole network x ↦ W z_L + μ (the logits, before the
            terminal g) over the horizon t_L − t_0.
        chunk: samples per batch (memory); by default about 65 536 rows (ensemble × sample).

    Returns:
        (layer, [ensemble,] sample) float64, one row per entry of ``layers`` (+ the whole
        network). A direction contracted to zero gives −inf (a dead ReLU layer).
    """
    if not isinstance(net, Network):
        raise ValueError(f"net must be a deepdyn Network, got {type(net).__name__}")
    want = _layers(net, layers)
    if whole and net.readout is None:
        raise ValueError("whole=True needs a readout: this network has readout=None")
    if not want and not whole:
        raise ValueError("no layers asked for: pass layers or whole=True")
    xe = _prepare(net, x)
    E, n, _ = xe.shape
    size = max(1, 65536 // E) if chunk is None else _checks.integer("chunk", chunk)
    times = net.times.to(torch.float64)
    if times.dim() == 1:
        times = times.expand(E, -1)
    horizon = torch.stack(
        [times[:, l] - times[:, 0] for l in want] + ([times[:, -1] - times[:, 0]] if whole else [])
    )  # (row, ensemble)
    out = []
    with torch.no_grad():
        for start in range(0, n, size):
            out.append(_chunk_ftle(net, xe[:, start : start + size], want, whole))
    lam = torch.cat(out, dim=-1) / horizon[..., None]
    return lam if net.ensemble is not None else lam[:, 0]


@dataclass(frozen=True)
class FTLEField:
    """λ over a 2-D grid of inputs, per layer and member, with the network's output there.

    Attributes:
        gx, gy: (gx,), (gy,) the grid coordinates.
        values: (layer, ensemble, gy, gx) the FTLE of x ↦ z_l for each of ``layers`` (and of the
            whole network last when ``whole``).
        layers: the layers l of the rows (0 marks the whole network's row).
        output: (ensemble, gy, gx, output) the network's output ŷ on the grid (its class
            boundary is drawn over the field).
    """

    gx: np.ndarray
    gy: np.ndarray
    values: np.ndarray
    layers: tuple[int, ...]
    output: np.ndarray

    def row(self, layer: int | str = -1) -> int:
        """The row of ``layer`` (an l in ``layers``, ``"whole"``, or -1 for the deepest z_l)."""
        if layer == "whole":
            if 0 not in self.layers:
                raise ValueError("this field has no whole-network row: compute it with whole=True")
            return self.layers.index(0)
        if layer == -1:
            return max(i for i, l in enumerate(self.layers) if l > 0)
        if layer not in self.layers or layer == 0:
            raise ValueError(
                f"layer {layer!r} not in this field: choose one of "
                f"{[l for l in self.layers if l > 0]} or 'whole'"
            )
        return self.layers.index(layer)  # type: ignore[arg-type]

    def labels(self) -> np.ndarray:
        """(ensemble, gy, gx) predicted class on the grid."""
        o = self.output
        return (o[..., 0] > 0.5).astype(np.int64) if o.shape[-1] == 1 else o.argmax(-1)

    def boundary_contrast(self, layer: int | str = -1, *, member: int | None = None) -> float:
        """Mean λ on grid cells next to the class boundary minus the mean λ elsewhere, in units
        of λ's standard deviation: > 0 when the ridges follow the boundary (NaN without one)."""
        r = self.row(layer)
        lab = self.labels()
        vals = self.values[r]
        members = range(vals.shape[0]) if member is None else [member]
        out = []
        for k in members:
            edge = np.zeros(lab[k].shape, dtype=bool)
            dx = lab[k][:, 1:] != lab[k][:, :-1]
            dy = lab[k][1:, :] != lab[k][:-1, :]
            edge[:, 1:] |= dx
            edge[:, :-1] |= dx
            edge[1:, :] |= dy
            edge[:-1, :] |= dy
            v = vals[k]
            ok = np.isfinite(v)
            if not (edge & ok).any() or not (~edge & ok).any():
                continue
            sd = v[ok].std()
            out.append((v[edge & ok].mean() - v[~edge & ok].mean()) / (sd if sd > 0 else 1.0))
        return float(np.mean(out)) if out else float("nan")

    def plot(
        self, ax: Axes, *, layer: int | str = -1, member: int = 0, cmap: str = "magma"
    ) -> object:
        """Draw λ of one layer and member as a colour map, with the class boundary over it;
        returns the mappable (for ``fig.colorbar``)."""
        r = self.row(layer)
        v = self.values[r, member]
        mesh = ax.pcolormesh(self.gx, self.gy, v, cmap=cmap, shading="auto")
        lab = self.labels()[member]
        if lab.min() != lab.max():
            ax.contour(
                self.gx, self.gy, lab, levels=np.arange(lab.max()) + 0.5, colors="c", linewidths=1.0
            )
        ax.set_aspect("equal")
        name = "whole network" if self.layers[r] == 0 else f"x ↦ z_{self.layers[r]}"
        ax.set_title(f"FTLE of {name}")
        return mesh

    def to_xarray(self) -> xr.Dataset:
        return xr.Dataset(
            {
                "ftle": (("layer", "ensemble", "gy", "gx"), self.values),
                "output": (("ensemble", "gy", "gx", "output"), self.output),
            },
            coords={"layer": list(self.layers), "gx": self.gx, "gy": self.gy},
        )


def ftle_field(
    net: Network,
    box: Sequence[Sequence[float]] = ((-1.0, 1.0), (-1.0, 1.0)),
    resolution: int | tuple[int, int] = 100,
    *,
    layers: Sequence[int] | None = None,
    whole: bool = True,
    chunk: int | None = None,
) -> FTLEField:
    """The FTLE field λ_l(x) on a ``resolution`` grid over the box ((x_lo, x_hi), (y_lo, y_hi))
    of a network with two inputs, for every member (see :func:`ftle`), with the output there.
    ``whole`` (default on when the network has a readout) adds the whole network's row."""
    if not isinstance(net, Network):
        raise ValueError(f"net must be a deepdyn Network, got {type(net).__name__}")
    if net.in_features != 2:
        raise ValueError(
            f"an FTLE field is drawn over 2 inputs, this network has {net.in_features}: use "
            "ftle(net, x) at your own points"
        )
    b = np.asarray(box, dtype=np.float64)
    if b.shape != (2, 2) or not np.isfinite(b).all() or (b[:, 1] <= b[:, 0]).any():
        raise ValueError(f"box must be ((x_lo, x_hi), (y_lo, y_hi)) with lo < hi, got {box!r}")
    nx, ny = (resolution, resolution) if isinstance(resolution, int) else resolution
    nx, ny = (
        _checks.integer("resolution", nx, minimum=2),
        _checks.integer("resolution", ny, minimum=2),
    )
    gx, gy = np.linspace(b[0, 0], b[0, 1], nx), np.linspace(b[1, 0], b[1, 1], ny)
    X, Y = np.meshgrid(gx, gy)  # (gy, gx)
    dtype = next(net.parameters()).dtype
    pts = torch.from_numpy(np.stack([X.ravel(), Y.ravel()], 1)).to(dtype)
    whole = whole and net.readout is not None
    want = _layers(net, layers)
    lam = ftle(net, pts, layers=want, whole=whole, chunk=chunk)
    lam = lam if net.ensemble is not None else lam[:, None]
    with torch.no_grad():
        out = net(pts)
    out = out if net.ensemble is not None else out[None]
    E = lam.shape[1]
    return FTLEField(
        gx=gx,
        gy=gy,
        values=lam.reshape(lam.shape[0], E, ny, nx).numpy(),
        layers=(*want, *([0] if whole else [])),
        output=out.reshape(E, ny, nx, -1).detach().to(torch.float64).numpy(),
    )
