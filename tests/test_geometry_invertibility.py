"""Thm 7.1.1 with its real conditions and the residual inverse
(docs/thesis-notes.md §1 and §3), float64."""

import pytest
import torch

from deepdyn import MLP, ResNet
from deepdyn.analysis.invertibility import check_layers, invert, invert_step, step_lipschitz

D = torch.float64


def _x(n=50, d=2, seed=0, spread=2.0):
    return spread * torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=D)


def _contractive_resnet(target, *, field="perceptron", ensemble=None, C=3, L=6):
    """A ResNet whose steps have h·Lip(f) bound exactly ``target`` (weights rescaled)."""
    net = ResNet(
        C,
        C,
        L,
        T=2.0,
        field=field,
        hidden=4,
        activation="tanh",
        readout=None,
        dtype=D,
        ensemble=ensemble,
        scale=1.0,
        bias_init="normal",
    )
    bound = step_lipschitz(net) * torch.tensor(net.h, dtype=D)[:, None]  # (layer, ensemble)
    with torch.no_grad():
        for l in range(L):
            subs = net.field.sublayers(l)
            factor = (target / bound[l]) ** (1 / len(subs))  # (ensemble,)
            for sub in subs:
                sub.weight.mul_(factor[:, None, None])
    return net


@pytest.mark.parametrize("field,ensemble", [("perceptron", None), ("bottleneck", 3)])
def test_residual_inverse_reconstructs_when_contractive(field, ensemble):
    net = _contractive_resnet(0.9, field=field, ensemble=ensemble)
    check = check_layers(net)
    torch.testing.assert_close(check.lipschitz, torch.full_like(check.lipschitz, 0.9))
    assert bool(check.homeomorphism.all())
    x = _x(200, 3)
    with torch.no_grad():
        z_last = net.flow(x)
    back = invert(net, z_last)
    err = (back - (x if ensemble is None else x.expand(3, -1, -1))).abs().max()
    assert float(err) < 1e-6
    # and a single step: z + h f(z) at the preimage of y gives y back
    z = invert_step(net, net.depth - 1, z_last)
    zb = z if ensemble is not None else z[None]  # (ensemble, sample, C)
    yb = z_last if ensemble is not None else z_last[None]
    with torch.no_grad():
        again = zb + net.h[-1] * net.field(net.depth - 1, zb)
    assert float((again - yb).abs().max()) < 1e-10


def _fold_net():
    """The docs/thesis-notes.md §1 counterexample z ↦ z − 2·ReLU(z) as an Euler step with h = 1:
    f(z) = A₂ ReLU(A₁ z + b), A₁ = 1, b = 0, A₂ = −2."""
    net = ResNet(
        1, 1, 1, h=1.0, field="bottleneck", hidden=1, activation="relu", readout=None, dtype=D
    )
    s1, s2 = net.field.sublayers(0)
    with torch.no_grad():
        s1.weight.fill_(1.0)
        s1.bias.zero_()
        s2.weight.fill_(-2.0)
    return net


def test_relu_residual_step_is_not_injective():
    net = _fold_net()
    with torch.no_grad():
        out = net.flow(torch.tensor([[2.0], [-2.0]], dtype=D))
    assert out.flatten().tolist() == [-2.0, -2.0]  # two inputs, one image: Lemma 7.2.1 fails
    x = torch.linspace(-3, 3, 61, dtype=D)[:, None]
    check = check_layers(net, x)
    assert float(check.lipschitz[0, 0]) == 2.0  # h·Lip(f) = 2 ≥ 1: no certificate
    assert not bool(check.homeomorphism[0, 0])
    assert bool(check.not_injective[0, 0])  # det J = +1 for z < 0 and −1 for z > 0
    assert float(check.det_min[0, 0]) == -1.0 and float(check.det_max[0, 0]) == 1.0
    # y = 1 has no preimage at all: the fixed-point iteration w ← 1 + 2 ReLU(w) diverges
    with pytest.raises(ValueError, match=r"did not converge.*h·Lip\(f\) ≤ 2"):
        invert_step(net, 0, torch.tensor([[1.0]], dtype=D), max_iter=50)


def test_contractive_step_is_not_flagged_on_samples():
    net = _contractive_resnet(0.9)
    check = check_layers(net, _x(300, 3, spread=3.0))
    assert not bool(check.not_injective.any())
    assert bool((check.det_min > 0).all())  # det(I + hJ_f) > 0 when h‖J_f‖ < 1


def test_thm_7_1_1_conditions_for_mlp_layers():
    x = _x()
    tanh = MLP(2, 2, 3, activation="tanh", readout=None, dtype=D)
    c = check_layers(tanh, x)
    assert c.bijective_activation and bool(c.homeomorphism.all())
    assert not bool(c.not_injective.any())
    for l in range(3):  # σ_min(A_l) from an independent SVD
        A = tanh.field.sublayers(l)[0].weight[0].detach()
        assert abs(float(c.min_singular[l, 0]) - float(torch.linalg.svdvals(A)[-1])) < 1e-14
    # ReLU is not bijective: no layer is certified, and inactive units give det J = 0 on an
    # open region, which proves non-injectivity
    relu = MLP(2, 2, 3, activation="relu", readout=None, dtype=D)
    c = check_layers(relu, x)
    assert not c.bijective_activation and not bool(c.homeomorphism.any())
    assert bool(c.not_injective[0, 0])
    # a singular weight breaks the theorem even for tanh; a rectangular layer is not square
    with torch.no_grad():
        tanh.field.sublayers(1)[0].weight[0, 1] = 3 * tanh.field.sublayers(1)[0].weight[0, 0]
    c = check_layers(tanh, x)
    assert c.homeomorphism[:, 0].tolist() == [True, False, True]
    assert float(c.min_singular[1, 0]) == 0.0
    rect = MLP(2, [3, 3], 2, activation="tanh", readout=None, dtype=D)
    c = check_layers(rect, x)
    assert c.square.tolist() == [False, True]
    assert c.homeomorphism[:, 0].tolist() == [False, True]
    # identity activation with a singular weight: affine and singular, hence not injective
    lin = MLP(2, 2, 1, activation="identity", readout=None, dtype=D)
    with torch.no_grad():
        lin.field.sublayers(0)[0].weight[0, 1] = 2 * lin.field.sublayers(0)[0].weight[0, 0]
    assert bool(check_layers(lin, x).not_injective[0, 0])


def test_bad_inputs():
    leap = ResNet(2, 2, 2, scheme="leapfrog", readout=None, dtype=D)
    with pytest.raises(ValueError, match='supports "map" and "euler"') as err:
        check_layers(leap)
    assert "\n" not in str(err.value)
    net = _contractive_resnet(0.5)
    with pytest.raises(ValueError, match=r"layer 9 out of range: choose 0 … 5"):
        invert_step(net, 9, _x(3, 3))
    with pytest.raises(ValueError, match='inverts "euler" steps'):
        invert_step(MLP(2, 2, 2, readout=None, dtype=D), 0, _x(3))
    with pytest.raises(ValueError, match="tol must be a finite number > 0"):
        invert_step(net, 0, _x(3, 3), tol=0)
