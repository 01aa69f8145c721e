"""When is a layer a homeomorphism? (thesis Thm 7.1.1, Lemma 7.2.1 and their corrections)

* A perceptron layer z ↦ σ(A z + b) is a homeomorphism onto its image when A is square and
  non-singular and σ is continuous, injective with a continuous inverse on its range: tanh,
  sigmoid, softplus, leaky ReLU, identity — not ReLU (thesis Thm 7.1.1, docs/thesis-notes.md §3).
* A residual step z ↦ z + h f(z) is invertible when h·Lip(f) < 1, and the inverse of y is the
  limit of the contraction w ← y − h f(w) (Behrmann et al. 2019). "A residual network is
  bijective, even with ReLU" (thesis Lemma 7.2.1) is false: z ↦ z − 2·ReLU(z) sends 2 and −2 to
  −2 (docs/thesis-notes.md §1).
* A certificate of non-injectivity on samples: a continuous injective map of a connected open
  set has a constant local degree ±1, which equals sign det J wherever J is non-singular; so
  det J of both signs proves the layer is not injective. For a piecewise-linear σ (ReLU, leaky
  ReLU, identity) a sample with det J = 0 lies, almost surely, in an open linear region on which
  the layer is affine and singular, hence not injective.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from deepdyn import _checks
from deepdyn.analysis import geometry
from deepdyn.dynamics import ACTIVATIONS, SCHEMES, Network


def _residual_schemes() -> list[str]:
    """Registered one-step residual schemes that bound Lip(F − id) (certifiable steps)."""
    one = torch.ones(1, dtype=torch.float64)
    return [n for n, s in SCHEMES.items()
            if s.residual and s.one_step and s.increment_lipschitz(one) is not None]  # fmt: skip


@dataclass(frozen=True)
class LayerCheck:
    """The conditions of each layer, per member: arrays are (layer, ensemble).

    Attributes:
        square: (layer,) C_l = C_{l+1}.
        bijective_activation: σ is a homeomorphism of ℝ onto its range.
        min_singular: σ_min(A_l) of perceptron layers (``map``); NaN for residual layers.
        lipschitz: an upper bound of Lip(Φ_l − id) = h_l·Lip(f_l) for ``euler`` layers
            (Lip(σ)·‖A‖₂ products); NaN for ``map`` layers.
        homeomorphism: the layer is proved a homeomorphism onto its image (Thm 7.1.1 for
            ``map``: square, σ_min > rtol·σ_max, bijective σ; h·Lip(f) < 1 for ``euler``).
        not_injective: the layer is proved not injective on the samples (see the module
            docstring); all False when no samples were given.
        det_min, det_max: the extreme det J_l over the samples (NaN without samples).
    """

    square: torch.Tensor
    bijective_activation: bool
    min_singular: torch.Tensor
    lipschitz: torch.Tensor
    homeomorphism: torch.Tensor
    not_injective: torch.Tensor
    det_min: torch.Tensor
    det_max: torch.Tensor


def step_lipschitz(net: Network) -> torch.Tensor:
    """Upper bound of Lip(f_l) for every layer and member: ∏ Lip(σ_i)·‖A_i‖₂ over the
    sub-layers of f_l. Returns (layer, ensemble)."""
    rows = []
    for l in range(net.depth):
        bound = torch.ones(net.members, dtype=torch.float64)
        for sub in net.field.sublayers(l):
            norm = torch.linalg.matrix_norm(sub.weight.detach().double(), ord=2)  # (ensemble,)
            bound = bound * ACTIVATIONS[sub.act_name].lipschitz * norm
        rows.append(bound)
    return torch.stack(rows)


def check_layers(
    net: Network, x: torch.Tensor | None = None, *, rtol: float = 1e-10, atol: float = 1e-12
) -> LayerCheck:
    """Check thesis Thm 7.1.1 (``map`` layers) or h·Lip(f) < 1 (``euler`` layers) for every
    layer and member, and look for proofs of non-injectivity at the states of x.

    Args:
        net: an MLP (``map`` scheme, perceptron field) or an ``euler`` ResNet.
        x: optional samples (sample, input) or (ensemble, sample, input) at whose states the
            layer Jacobians are evaluated.
        rtol: A counts as singular when σ_min(A) ≤ rtol·σ_max(A).
        atol: |det J| ≤ atol counts as det J = 0.
    """
    residual = _residual_schemes()
    if net.scheme != "map" and net.scheme.name not in residual:
        others = ", ".join(s for s in residual if s != "euler")
        raise ValueError(
            f'check_layers supports "map" and "euler" layers (and the residual steps {others}), '
            f'got "{net.scheme}": for "ode" the flow of a Lipschitz field is always a homeomorphism'
        )
    if net.scheme == "map" and net.field.kind != "perceptron":
        raise ValueError(f'map layers must be perceptrons, got field "{net.field.kind}"')
    rtol = _checks.positive("rtol", rtol)
    atol = _checks.positive("atol", atol, allow_zero=True)
    widths = net.field.widths
    L, E = net.depth, net.members
    square = torch.tensor([widths[l] == widths[l + 1] for l in range(L)])
    act = net.field.activation
    bijective = act.bijective
    nan = torch.full((L, E), float("nan"), dtype=torch.float64)
    if net.scheme == "map":
        smin = nan.clone()
        for l in range(L):
            (sub,) = net.field.sublayers(l)
            sv = torch.linalg.svdvals(sub.weight.detach().double())  # (ensemble, min(C_l, C_l+1))
            smin[l] = torch.where(square[l], sv[:, -1], torch.zeros(E, dtype=torch.float64))
            smin[l] = torch.where(sv[:, -1] > rtol * sv[:, 0], smin[l], torch.zeros_like(smin[l]))
        lip = nan
        homeo = square[:, None] & (smin > 0) & bijective
    else:
        smin = nan
        bound = net.scheme.increment_lipschitz(step_lipschitz(net) * net.steps.T)
        assert bound is not None  # _residual_schemes() keeps the schemes that have one
        lip = bound
        homeo = lip < 1
    not_inj = torch.zeros(L, E, dtype=torch.bool)
    dmin, dmax = nan.clone(), nan.clone()
    if x is not None:
        jac = geometry.jacobians(net, x)
        if net.ensemble is None:
            jac = jac.unsqueeze(1)  # (layer, ensemble, sample, C, C)
        for l in range(L):
            if not square[l]:
                continue
            c = widths[l]
            det = torch.linalg.det(jac[l, ..., :c, :c].double())  # (ensemble, sample)
            dmin[l], dmax[l] = det.min(-1).values, det.max(-1).values
            flip = (dmin[l] < -atol) & (dmax[l] > atol)
            flat = (det.abs() <= atol).any(-1) & act.piecewise_linear
            not_inj[l] = flip | flat
    return LayerCheck(
        square=square,
        bijective_activation=bijective,
        min_singular=smin,
        lipschitz=lip,
        homeomorphism=homeo,
        not_injective=not_inj,
        det_min=dmin,
        det_max=dmax,
    )


def invert_step(
    net: Network,
    l: int,
    y: torch.Tensor,
    *,
    tol: float = 1e-12,
    max_iter: int = 10_000,
) -> torch.Tensor:
    """The preimage z of y under the residual step F_l (``euler``: z ↦ z + h_l f_l(z)), by the
    fixed-point iteration w ← y − (F_l(w) − w) from w = y (for ``euler`` w ← y − h_l f_l(w);
    Behrmann et al. 2019).

    It converges geometrically with ratio Lip(F_l − id) (h·Lip(f) for ``euler``) when that is
    < 1. y: (ensemble, sample, C) or ([ensemble,] sample, C) as the network's states. Raises
    ValueError when the iteration has not moved less than ``tol`` after ``max_iter`` steps.
    """
    residual = _residual_schemes()
    if net.scheme.name not in residual:
        others = ", ".join(s for s in residual if s != "euler")
        raise ValueError(
            f'invert_step inverts "euler" steps (and the residual steps {others}), got scheme '
            f'"{net.scheme}"'
        )
    if not 0 <= l < net.depth:
        raise ValueError(f"layer {l} out of range: choose 0 … {net.depth - 1}")
    tol = _checks.positive("tol", tol)
    max_iter = _checks.integer("max_iter", max_iter)
    yb = y if net.ensemble is not None else y.unsqueeze(0)  # (ensemble, sample, C)
    w = yb
    with torch.no_grad():
        for _ in range(max_iter):
            w_next = yb - net.layer_increment(l, w)
            moved = float((w_next - w).abs().max())
            w = w_next
            if moved < tol:
                return w if net.ensemble is not None else w.squeeze(0)
    hlip = step_lipschitz(net)[l] * net.steps[:, l]  # (ensemble,) h·Lip(f)
    inc = net.scheme.increment_lipschitz(hlip)
    bound = float(inc.max()) if inc is not None else float("nan")
    raise ValueError(
        f"fixed-point inverse of layer {l} did not converge in {max_iter} iterations "
        f"(h·Lip(f) ≤ {float(hlip.max()):.3g}, Lip(F − id) ≤ {bound:.3g}; it converges when "
        "this is < 1): raise max_iter or tol, or the step may not be invertible"
    )


def invert(
    net: Network, z_last: torch.Tensor, *, tol: float = 1e-12, max_iter: int = 10_000
) -> torch.Tensor:
    """z_0 from z_L through every ``euler`` step, last layer first (see :func:`invert_step`).

    z_last: ([ensemble,] sample, C).
    """
    z = z_last
    for l in reversed(range(net.depth)):
        z = invert_step(net, l, z, tol=tol, max_iter=max_iter)
    return z
