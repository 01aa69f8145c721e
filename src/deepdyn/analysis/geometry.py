"""Layers as coordinate transformations (thesis §7): Jacobians, the pullback metric, Lyapunov
exponents along depth.

Every layer of a one-step scheme is a map z_{l+1} = Φ_l(z_l) (``map``: σ(A_l z + b_l),
``euler``: z + h_l f_l(z), ``heun``, ``rk4``: their stages), the scheme's own step. Its
Jacobian J_l = ∂z_{l+1}/∂z_l at the states of a trajectory is the push-forward φ_* of thesis
Fig 7.2; the metric of the last layer pulled back through the layers is the pullback metric
g^(l) = J_lᵀ g^(l+1) J_l of Hauser & Ray (2017), and the growth of the product J_{l−1} ⋯ J_0
along depth gives finite-time Lyapunov exponents.

Shapes use the DESIGN.md vocabulary; ``[ensemble,]`` is present only for an ensemble. Networks
whose widths change with depth (``map`` with a width sequence) have their matrices zero-padded to
the widest state, as :class:`deepdyn.Trajectory` pads its states.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.collections import EllipseCollection

from deepdyn.dynamics import SCHEMES, Network


def jacobian_schemes() -> list[str]:
    """The registered schemes whose layers are one-step maps z_l ↦ z_{l+1}."""
    return [name for name, s in SCHEMES.items() if s.one_step]


def check_scheme(net: Network) -> None:
    """A ValueError unless every layer of ``net`` is a one-step map of its input state."""
    if not isinstance(net, Network):
        raise ValueError(f"net must be a deepdyn Network, got {type(net).__name__}")
    if not net.scheme.one_step:
        raise ValueError(
            f"layer Jacobians need a one-step scheme ({', '.join(jacobian_schemes())}), got "
            f'"{net.scheme}": leapfrog layers depend on two states and ode layers are flows '
            '(read the θ under "euler" with net.with_scheme("euler") to study its steps)'
        )


def step(net: Network, l: int, z: torch.Tensor) -> torch.Tensor:
    """Layer l as a map: z_l ↦ z_{l+1} (the scheme's own step, ``net.layer_step``).
    z: (ensemble, sample, C_l) → (ensemble, sample, C_{l+1})."""
    return net.layer_step(l, z)


def _layer_jacobian(net: Network, l: int, z: torch.Tensor) -> torch.Tensor:
    """∂Φ_l/∂z at every sample by one forward-mode pass carrying the C_l unit tangents.

    z: (ensemble, sample, C_l) → (ensemble, sample, C_{l+1}, C_l).
    """
    e, s, c = z.shape
    zr = z.unsqueeze(1).expand(e, c, s, c).reshape(e, c * s, c).contiguous()
    # zr: (ensemble, tangent·sample, C_l), one copy of the samples per unit tangent
    eye = torch.eye(c, dtype=z.dtype, device=z.device)
    tangents = eye[:, None, :].expand(c, s, c).reshape(1, c * s, c).expand(e, -1, -1)
    out = torch.func.jvp(lambda u: step(net, l, u), (zr,), (tangents.contiguous(),))[1]
    return out.reshape(e, c, s, -1).permute(0, 2, 3, 1)  # (ensemble, sample, C_{l+1}, C_l)


def _states(net: Network, x: torch.Tensor) -> list[torch.Tensor]:
    """z_0 … z_L, unpadded, each (ensemble, sample, C_l) (the ensemble axis always present)."""
    with torch.no_grad():
        tr = net.trajectory(x)
    out = []
    for l in range(net.depth + 1):
        z = tr.state(l)
        out.append(z if net.ensemble is not None else z.unsqueeze(0))
    return out


def _squeeze(net: Network, t: torch.Tensor, axis: int) -> torch.Tensor:
    return t if net.ensemble is not None else t.squeeze(axis)


def jacobians(net: Network, x: torch.Tensor) -> torch.Tensor:
    """J_l = ∂z_{l+1}/∂z_l at the states of the trajectory of x, for l = 0 … L−1 (thesis Fig 7.2,
    the push-forward φ_*^(l)).

    x: (sample, input) or (ensemble, sample, input).
    Returns (layer, [ensemble,] sample, component, component) with J_l in the block
    [:C_{l+1}, :C_l] and zeros elsewhere when the widths vary.
    """
    check_scheme(net)
    zs = _states(net, x)
    cmax = max(z.shape[-1] for z in zs)
    out = zs[0].new_zeros(net.depth, *zs[0].shape[:2], cmax, cmax)
    for l in range(net.depth):
        j = _layer_jacobian(net, l, zs[l])
        out[l, ..., : j.shape[-2], : j.shape[-1]] = j.detach()
    return _squeeze(net, out, 1)


def singular_values(net: Network, x: torch.Tensor) -> torch.Tensor:
    """Singular values of each J_l, descending: (layer, [ensemble,] sample, component).

    Zero-padded layers contribute zeros beyond min(C_l, C_{l+1}).
    """
    return torch.linalg.svdvals(jacobians(net, x))


def determinants(net: Network, x: torch.Tensor) -> torch.Tensor:
    """det J_l: (layer, [ensemble,] sample). Needs square layers, C_l = C_{l+1} for every l."""
    check_scheme(net)
    if len(set(net.field.widths)) != 1:
        raise ValueError(
            f"determinants need square layers (all widths equal), got widths {net.field.widths}: "
            "use singular_values for rectangular layers"
        )
    return torch.linalg.det(jacobians(net, x))


def pullback_metrics(
    net: Network, x: torch.Tensor, *, metric: torch.Tensor | None = None
) -> torch.Tensor:
    """The pullback metric g^(l) = J_lᵀ g^(l+1) J_l, l = L … 0 (Hauser & Ray 2017; thesis §7.2):
    the metric of the last layer expressed in the coordinates z_l of every layer.

    Args:
        net, x: as :func:`jacobians`.
        metric: g^(L), a symmetric (C_L, C_L) matrix; the Euclidean metric (identity) by default.

    Returns:
        (layer, [ensemble,] sample, component, component) for l = 0 … L; g^(L) is ``metric``.
    """
    jac = jacobians(net, x)
    jac = jac if net.ensemble is not None else jac.unsqueeze(1)  # (layer, ensemble, sample, C, C)
    c_last = net.field.widths[-1]
    cmax = jac.shape[-1]
    g = jac.new_zeros(jac.shape[1:])
    if metric is None:
        g[..., range(c_last), range(c_last)] = 1.0
    else:
        m = torch.as_tensor(metric, dtype=jac.dtype)
        if m.shape != (c_last, c_last) or not torch.allclose(m, m.T):
            raise ValueError(
                f"metric must be a symmetric ({c_last}, {c_last}) matrix (C_L = {c_last}), "
                f"got shape {tuple(m.shape)}"
            )
        g[..., :c_last, :c_last] = m
    out = [g]
    for l in reversed(range(net.depth)):
        g = jac[l].transpose(-1, -2) @ g @ jac[l]
        out.append(g)
    res = torch.stack(out[::-1])  # (layer, ensemble, sample, C, C)
    assert res.shape[-1] == cmax
    return _squeeze(net, res, 1)


def lyapunov_exponents(net: Network, x: torch.Tensor) -> torch.Tensor:
    """Finite-time Lyapunov exponents along depth: λ_i(l) = log σ_i(J_{l−1} ⋯ J_0) / t_l for
    l = 1 … L, where t_l is the layer time (l for ``map``, Σ h for residual schemes).

    The product is renormalized at every layer and its scale carried in logarithms, so deep
    products neither overflow nor underflow (directions contracted beyond float precision
    relative to the leading one come out as −inf).

    Returns (layer, [ensemble,] sample, component): layer l − 1 holds λ(l), descending in i.
    """
    jac = jacobians(net, x)
    jac = jac if net.ensemble is not None else jac.unsqueeze(1)  # (layer, ensemble, sample, C, C)
    prod = torch.eye(jac.shape[-1], dtype=jac.dtype).expand(jac.shape[1:]).clone()
    log_scale = jac.new_zeros(jac.shape[1:-2])  # (ensemble, sample)
    times = net.times.to(jac.dtype)
    out = []
    for l in range(net.depth):
        prod = jac[l] @ prod
        norm = torch.linalg.matrix_norm(prod, ord=2).clamp_min(torch.finfo(jac.dtype).tiny)
        prod = prod / norm[..., None, None]
        log_scale = log_scale + norm.log()
        sv = torch.linalg.svdvals(prod)  # (ensemble, sample, C)
        out.append((sv.log() + log_scale[..., None]) / (times[l + 1] - times[0]))
    return _squeeze(net, torch.stack(out), 1)


def metric_ellipses(metrics: torch.Tensor | np.ndarray) -> tuple[np.ndarray, ...]:
    """Axes of the ellipse of each 2 × 2 metric g: semi-axes √λ₁ ≥ √λ₂ of g along its
    eigenvectors — a circle of radius r around the point is mapped to an ellipse with semi-axes
    r√λ₁, r√λ₂ in the last layer.

    metrics: (..., 2, 2). Returns (major, minor, angle_degrees), each of shape (...).
    """
    g = torch.as_tensor(metrics, dtype=torch.float64)
    if g.dim() < 2 or g.shape[-2:] != (2, 2):
        raise ValueError(
            f"metric ellipses need 2 × 2 metrics (..., 2, 2), got shape {tuple(g.shape)}: "
            "take the block of two components, e.g. g[..., :2, :2]"
        )
    lam, vec = torch.linalg.eigh(0.5 * (g + g.transpose(-1, -2)))  # ascending
    lam = lam.clamp_min(0.0)
    major, minor = lam[..., 1].sqrt(), lam[..., 0].sqrt()
    angle = torch.rad2deg(torch.atan2(vec[..., 1, 1], vec[..., 0, 1]))
    return major.numpy(), minor.numpy(), angle.numpy()


def draw_metric_ellipses(
    ax: Axes,
    points: torch.Tensor | np.ndarray,
    metrics: torch.Tensor | np.ndarray,
    *,
    scale: float | None = None,
    color: str = "tab:blue",
    values: torch.Tensor | np.ndarray | None = None,
    cmap: str = "viridis",
    alpha: float = 0.6,
) -> EllipseCollection:
    """Draw the ellipse of the metric g at each point (see :func:`metric_ellipses`).

    points: (sample, 2); metrics: (sample, 2, 2). ``scale`` multiplies every semi-axis; by
    default the largest ellipse is sized to 0.45 of the smallest spacing between points.
    ``values`` (sample,) colours the ellipses through ``cmap`` instead of one ``color`` (the
    collection is then a mappable for ``fig.colorbar``).
    """
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"points must be (sample, 2), got shape {p.shape}")
    major, minor, angle = metric_ellipses(metrics)
    if major.shape != (p.shape[0],):
        raise ValueError(
            f"metrics must be (sample, 2, 2) with sample = {p.shape[0]}, got {major.shape} ellipses"
        )
    if scale is None:
        spacing = math.inf
        for k in range(2):
            d = np.diff(np.unique(p[:, k]))
            if d.size:
                spacing = min(spacing, float(d.min()))
        if not math.isfinite(spacing):
            spacing = 1.0
        biggest = float(major.max()) if major.size and major.max() > 0 else 1.0
        scale = 0.45 * spacing / biggest
    coll = EllipseCollection(
        2 * scale * major,
        2 * scale * minor,
        angle,
        units="xy",
        offsets=p,
        offset_transform=ax.transData,
        facecolors=color,
        edgecolors="k",
        linewidths=0.4,
        alpha=alpha,
    )
    if values is not None:
        v = np.asarray(values, dtype=np.float64)
        if v.shape != (p.shape[0],):
            raise ValueError(f"values must be (sample,) = ({p.shape[0]},), got shape {v.shape}")
        coll.set_array(v)
        coll.set_cmap(cmap)
        coll.set_edgecolor("face")  # flat (rank-one) ellipses are drawn as coloured segments
        coll.set_linewidth(1.0)
    ax.add_collection(coll)
    ax.update_datalim(p)
    ax.autoscale_view()
    return coll
