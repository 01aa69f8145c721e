"""Spectra along depth: the QR Lyapunov spectrum and the input–output Jacobian's singular
values against closed forms (float64): orthogonal linear networks are isometries, diagonal
ones have exponents log|a_i|, Gaussian products follow the Fuss–Catalan moments."""

import math

import numpy as np
import pytest
import torch

import deepdyn
from deepdyn import experiments
from deepdyn.analysis import jacobians
from deepdyn.analysis.spectra import (
    fuss_catalan_moments,
    jacobian_singular_values,
    lyapunov_spectrum,
    moments,
)

D = torch.float64


def _linear(width, depth, init, **kw):
    return deepdyn.MLP(
        width,
        width,
        depth,
        activation="identity",
        init=init,
        bias_init="zero",
        readout=None,
        dtype=D,
        **kw,
    )


def test_orthogonal_linear_network_is_an_isometry():
    net = _linear(64, 10, "orthogonal", ensemble=3, seed=2)
    x = torch.randn(2, 64, dtype=D)
    sv = jacobian_singular_values(net, x)
    assert sv.shape == (3, 2, 64)
    assert (sv - 1).abs().max() < 1e-12
    assert lyapunov_spectrum(net, x).abs().max() < 1e-12


def test_diagonal_linear_network_exponents():
    a = torch.tensor([2.0, 0.5, -3.0], dtype=D)
    net = _linear(3, 5, "zero")
    for l in range(5):
        net.layer(l).set(torch.diag(a), torch.zeros(3))
    lam = lyapunov_spectrum(net, torch.randn(4, 3, dtype=D))  # (layer, sample, 3)
    expected = torch.log(a.abs()).expand_as(lam)
    assert (lam.sort(-1).values - expected.sort(-1).values).abs().max() < 1e-12
    sv = jacobian_singular_values(net, torch.randn(1, 3, dtype=D))
    assert torch.allclose(sv[0], (a.abs() ** 5).sort(descending=True).values, rtol=1e-13)


def test_qr_spectrum_sums_to_log_det_and_starts_from_e1():
    net = deepdyn.ResNet(3, 3, 40, T=8.0, init="normal", scale=1.5, dtype=D, seed=4)
    x = torch.randn(5, 3, dtype=D)
    lam = lyapunov_spectrum(net, x)
    J = jacobians(net, x)
    P = torch.eye(3, dtype=D).expand(5, 3, 3)
    for l in range(net.depth):
        P = J[l] @ P
        t = float(net.times[l + 1] - net.times[0])
        assert torch.allclose(lam[l].sum(-1), torch.linalg.slogdet(P)[1] / t, atol=1e-10)
    T = float(net.times[-1])
    # the first QR direction is e_1 pushed through: λ_1 = log ‖P e_1‖ / T, at most the top
    # exponent log σ_max(P) / T
    assert torch.allclose(lam[-1, :, 0], P[..., 0].norm(dim=-1).log() / T, atol=1e-10)
    assert (lam[-1, :, 0] <= torch.linalg.svdvals(P)[..., 0].log() / T + 1e-12).all()


def test_gaussian_products_follow_fuss_catalan():
    """E[σ^{2k}] of a product of L N×N Gaussian matrices, N(0, 1/N) entries, against
    C((L+1)k, k)/(Lk+1). Tolerance: 4 standard errors over members, plus a finite-N bias
    allowance of k·L/N relative."""
    N, L, E = 96, 3, 12
    net = _linear(N, L, "lecun", ensemble=E, seed=0)
    sv = jacobian_singular_values(net, torch.zeros(1, N, dtype=D))  # (E, 1, N)
    per = np.array([moments(sv[k], 3) for k in range(E)])  # (member, order)
    fc = fuss_catalan_moments(L, 3)
    assert fc == [1.0, 4.0, 22.0]
    for k in range(3):
        sem = per[:, k].std(ddof=1) / math.sqrt(E)
        allowance = fc[k] * (k + 1) * L / N
        assert abs(per[:, k].mean() - fc[k]) < 4 * sem + allowance, (k, per[:, k].mean(), fc[k])
    with pytest.raises(ValueError, match="depth must be"):
        fuss_catalan_moments(0)


def test_spectra_entry_isometry_and_spread():
    e = experiments.get("beyond-spectra")
    (ds,) = e.compute([experiments.make_config(e, quick=True)])
    n = e.numbers(ds)
    assert n["orthogonal_linear_max_dev_from_1"] < 1e-10
    assert n["spread_orthogonal_tanh"] < n["spread_gaussian_tanh"]
    assert n["spread_orthogonal_identity"] < 1e-10 < n["spread_gaussian_identity"]
