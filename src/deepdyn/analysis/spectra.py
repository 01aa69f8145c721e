"""Spectra along depth: the full Lyapunov spectrum by repeated QR, and the singular values of the
input–output Jacobian (dynamical isometry: Pennington, Schoenholz & Ganguli 2017).

* :func:`lyapunov_spectrum`: the tangent basis Q_0 = I is pushed through the layer Jacobians and
  re-orthonormalized at every layer, J_l Q_l = Q_{l+1} R_l (QR, the diagonal of R made
  positive); the exponents up to layer l are λ_i(l) = Σ_{m<l} log R_m,ii / (t_l − t_0). Unlike
  the singular values of the renormalized product (``geometry.lyapunov_exponents``), every
  exponent stays finite while the directions it measures are not exactly collapsed, and their
  sum is log |det(J_{l−1} ⋯ J_0)| / t_l exactly.
* :func:`jacobian_singular_values`: σ_i of ∂z_L/∂z_0 = J_{L−1} ⋯ J_0, the state-to-state
  Jacobian (lift and readout excluded), at each input.
* :func:`fuss_catalan_moments`: the limit spectrum of a product of L Gaussian matrices with
  entries N(0, 1/N): the k-th moment of the squared singular values is the Fuss–Catalan number
  C((L+1)k, k)/(Lk + 1) (Catalan numbers for L = 1, the Marchenko–Pastur law).
"""

from __future__ import annotations

import math

import torch

from deepdyn import _checks
from deepdyn.analysis.geometry import _squeeze, jacobians
from deepdyn.dynamics import Network


def _jac(net: Network, x: torch.Tensor) -> torch.Tensor:
    """(layer, ensemble, sample, C, C): the layer Jacobians, the ensemble axis always there."""
    j = jacobians(net, x)
    return j if net.ensemble is not None else j.unsqueeze(1)


def lyapunov_spectrum(net: Network, x: torch.Tensor) -> torch.Tensor:
    """The full finite-time Lyapunov spectrum along depth by repeated QR (module docstring).

    x: (sample, input) or (ensemble, sample, input). Returns (layer, [ensemble,] sample, k),
    float64, row l − 1 holding λ(l) for l = 1 … L, with k = min over layers of the widths (the
    directions that survive every layer); the exponents come in the order of the QR basis
    (largest first for long products, not sorted).
    """
    J = _jac(net, x).to(torch.float64)
    widths = net.field.widths
    k = min(widths)
    E, S = J.shape[1], J.shape[2]
    Q = torch.eye(widths[0], k, dtype=J.dtype).expand(E, S, -1, -1)
    logs = J.new_zeros(E, S, k)
    times = net.times.to(torch.float64)
    out = []
    for l in range(net.depth):
        A = J[l][..., : widths[l + 1], : widths[l]] @ Q  # (ensemble, sample, C_{l+1}, k)
        Q, R = torch.linalg.qr(A)
        d = torch.diagonal(R, dim1=-2, dim2=-1)
        sign = torch.where(d < 0, -1.0, 1.0).to(d.dtype)
        Q = Q * sign[..., None, :]
        logs = logs + d.abs().log()
        t = times[..., l + 1] - times[..., 0]  # () or (ensemble,)
        t = t if t.dim() == 0 else t[:, None, None]
        out.append(logs / t)
    return _squeeze(net, torch.stack(out), 1)


def jacobian_singular_values(net: Network, x: torch.Tensor) -> torch.Tensor:
    """Singular values of ∂z_L/∂z_0 = J_{L−1} ⋯ J_0 at every input, descending:
    ([ensemble,] sample, min(C_0, C_L)), float64."""
    J = _jac(net, x).to(torch.float64)
    w = net.field.widths
    P = torch.eye(w[0], dtype=J.dtype).expand(*J.shape[1:3], -1, -1)
    for l in range(net.depth):
        P = J[l][..., : w[l + 1], : w[l]] @ P
    sv = torch.linalg.svdvals(P)
    return sv if net.ensemble is not None else sv[0]


def fuss_catalan_moments(depth: int, orders: int = 4) -> list[float]:
    """E[σ^{2k}], k = 1 … ``orders``, of the limit (N → ∞) spectrum of a product of ``depth``
    N × N Gaussian matrices with N(0, 1/N) entries: C((L+1)k, k) / (Lk + 1)."""
    L = _checks.integer("depth", depth)
    K = _checks.integer("orders", orders)
    return [math.comb((L + 1) * k, k) / (L * k + 1) for k in range(1, K + 1)]


def moments(values: torch.Tensor, orders: int = 4) -> list[float]:
    """The empirical moments E[σ^{2k}], k = 1 … ``orders``, of singular values (any shape)."""
    s2 = values.to(torch.float64).flatten() ** 2
    return [float((s2**k).mean()) for k in range(1, _checks.integer("orders", orders) + 1)]
