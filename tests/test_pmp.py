"""Costates, Hamiltonians and the PMP residual against autograd (float64, thesis ch. 3–4)."""

import math

import pytest
import torch
import torch.nn.functional as F

import deepdyn
from deepdyn import dynamics as _schemes
from deepdyn.dynamics import MLP, NeuralODE, ResNet
from deepdyn.train.pmp import PMPHistory, costates, msa, ode_costates
from deepdyn.train.pmp import _costates as C

D = torch.float64
LAM = 1e-2


def _data(n=9, d=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=D)
    return X, g


def _nets():
    """(net, y) pairs covering every fixed scheme, each terminal/loss, lifts and ensembles."""
    X, g = _data()
    labels = (X[:, 0] * X[:, 1] > 0).long()
    reg = torch.randn(X.shape[0], 2, generator=g, dtype=D)
    return X, [
        (MLP(2, 3, 4, activation="tanh", dtype=D, seed=1), labels),  # map, bce
        (
            MLP(
                2,
                [3, 4, 2],
                3,
                activation="softplus",
                readout="softmax",
                out_features=3,
                dtype=D,
                seed=2,
            ),
            labels,
        ),  # map, varying widths, cross_entropy
        (
            ResNet(
                2,
                3,
                5,
                readout="identity",
                out_features=2,
                lift="affine",
                dtype=D,
                seed=3,
                init="normal",
                ensemble=2,
            ),
            reg,
        ),  # euler, affine lift, mse, ensemble
        (
            ResNet(
                2,
                3,
                6,
                scheme="leapfrog",
                h=[0.3, 0.2, 0.4, 0.1, 0.3, 0.2],
                dtype=D,
                seed=4,
                ensemble=3,
            ),
            labels,
        ),  # leapfrog, uneven steps
        (
            ResNet(2, 2, 4, scheme="heun", field="bottleneck", hidden=5, dtype=D, seed=5),
            labels,
        ),
    ]


def _autograd_costates(net, X, y):
    """−∂J/∂z_l from autograd: the library's own forward (run_fixed), an independent loss."""
    Xe = X.unsqueeze(0).expand(net.members, -1, -1)
    z0 = net.lift(Xe).detach().requires_grad_(True) if net.lift.kind != "affine" else None
    if z0 is None:
        z0 = net.lift(Xe)
    states, _ = _schemes.run_fixed(net.scheme, net.field, z0, net.h)
    for s in states:
        s.retain_grad()
    logits = net.readout.logits(states[-1])  # (ensemble, sample, output)
    term = net.readout.terminal
    if term == "sigmoid":
        J = F.binary_cross_entropy_with_logits(
            logits[..., 0], y.to(D).expand(net.members, -1), reduction="none"
        ).mean(1)
    elif term == "softmax":
        J = torch.stack([F.cross_entropy(lg, y) for lg in logits])
    else:
        J = ((logits - y) ** 2).mean(dim=(1, 2))
    J.sum().backward()
    return [-s.grad for s in states], J.detach()


@pytest.mark.parametrize("case", range(5))
def test_costates_equal_minus_dloss_dz(case):
    X, nets = _nets()
    net, y = nets[case]
    cs = costates(net, X, y, regularizer=LAM)
    expected, data_loss = _autograd_costates(net, X, y)
    assert len(cs.costates) == net.depth + 1
    for p, q in zip(cs.costates, expected):
        assert p.shape == q.shape
        assert torch.allclose(p, q, rtol=0, atol=1e-8 * max(1.0, q.abs().max().item()))
    assert float(q.abs().max()) > 1e-4  # the test compares something that is not zero
    # J carries the regularizer λ Σ‖θ‖² per member
    theta2 = sum((p_**2).reshape(net.members, -1).sum(1) for p_ in net.parameters())
    assert torch.allclose(cs.loss, data_loss + LAM * theta2, atol=1e-12)
    # states are the network's own trajectory
    ref = net.trajectory(X).states
    ref = ref if net.ensemble is not None else ref.unsqueeze(1)
    assert torch.allclose(cs.stacked("states"), ref, atol=1e-12)


@pytest.mark.parametrize("case", range(5))
@pytest.mark.parametrize("regularizer", [None, LAM, "callable"])
def test_hamiltonian_gradient_is_minus_dJ_dtheta(case, regularizer):
    """Eq. 4.17: Σ_samples ∂H_l/∂θ_l = −∂J/∂θ_l, per layer, to 1e-8."""
    X, nets = _nets()
    net, y = nets[case]
    if regularizer == "callable":

        def regularizer(n):  # (ensemble,), not of the λ‖θ‖² form
            return sum((q.abs() ** 3).reshape(n.members, -1).sum(1) for q in n.parameters())

    pb = C.problem(net, X, y, "auto", regularizer, schemes=C.fixed_schemes())
    states = C.forward(net, pb.Xe)
    p = C.backward(net, states, pb)
    obj = deepdyn.train.compute_loss(net, X, y)
    obj = (obj if net.ensemble is not None else obj.unsqueeze(0)).sum()
    if regularizer is not None:
        r = (
            regularizer(net)
            if callable(regularizer)
            else regularizer * sum((q**2).sum() for q in net.parameters())
        )
        obj = obj + r.sum()
    norms = []
    for l in range(net.depth):
        params = net.field.layer_parameters(l)
        dJ = torch.autograd.grad(obj, params, retain_graph=True)
        dH = torch.autograd.grad(C.hamiltonian(net, l, states, p, pb).sum(), params)
        for a, b in zip(dH, dJ):
            assert torch.allclose(a, -b, rtol=0, atol=1e-8 * max(1.0, b.abs().max().item()))
        norms.append(C.member_norm(dJ, net.members))
    cs = costates(net, X, y, regularizer=regularizer)
    assert torch.allclose(cs.gradient_norm, torch.stack(norms), atol=1e-10)
    assert torch.allclose(cs.residual, torch.stack(norms).max(0).values, atol=1e-10)
    assert float(cs.residual.min()) > 1e-6


def test_hamiltonian_value_closed_form():
    """H_l = Σ p·(z + h tanh(A z + b)) − λ(‖A‖² + ‖b‖²) for an Euler ResNet, by hand."""
    X, _ = _data()
    y = (X[:, 0] > 0).long()
    net = ResNet(2, 2, 3, T=0.9, dtype=D, seed=7, init="normal")
    cs = costates(net, X, y, regularizer=LAM)
    for l in range(3):
        (sub,) = net.field.sublayers(l)
        A, b = sub.weight[0].detach(), sub.bias[0].detach()
        z, p = cs.states[l][0], cs.costates[l + 1][0]
        H = (p * (z + 0.3 * torch.tanh(z @ A.T + b))).sum() - LAM * (
            A.pow(2).sum() + b.pow(2).sum()
        )
        assert abs(float(cs.hamiltonian[l, 0]) - float(H)) < 1e-12
        # the forward equation z_{l+1} = ∇_p H (eq. 4.7)
        assert torch.allclose(cs.states[l + 1][0], z + 0.3 * torch.tanh(z @ A.T + b), atol=1e-13)


def test_gradient_form_equals_gradient_descent():
    """Eq. 4.11 = eq. 4.12: one gradient-form MSA step is one SGD step of deepdyn.fit."""
    X, g = _data()
    y = torch.randn(X.shape[0], 2, generator=g, dtype=D)
    a = ResNet(
        2,
        3,
        4,
        readout="identity",
        out_features=2,
        lift="affine",
        init="normal",
        dtype=D,
        ensemble=2,
        seed=3,
    )
    with torch.no_grad():
        for q in a.lift.parameters():
            q.copy_(0.5 * torch.randn(q.shape, generator=g, dtype=D))
    b = ResNet(
        2,
        3,
        4,
        readout="identity",
        out_features=2,
        lift="affine",
        init="normal",
        dtype=D,
        ensemble=2,
        seed=3,
    )
    b.load_state_dict(a.state_dict())
    before = {k: v.clone() for k, v in a.state_dict().items()}
    h = msa(a, X, y, method="gradient", lr=0.05, steps=3, regularizer=LAM)
    hf = deepdyn.fit(b, X, y, optimizer="sgd", lr=0.05, steps=3, regularizer=LAM)
    assert isinstance(h, PMPHistory) and isinstance(h, deepdyn.History)
    assert torch.allclose(h.loss, hf.loss, rtol=0, atol=1e-13)
    after = b.state_dict()
    for name, pa in a.state_dict().items():
        assert torch.allclose(pa, after[name], rtol=0, atol=1e-12), name
        assert float((pa - before[name]).abs().max()) > 1e-4, name  # every control moved
    assert bool((h.loss[-1] < h.loss[0]).all())
    ds = h.to_xarray()
    assert ds["residual"].dims == ("iteration", "ensemble") and ds.sizes["iteration"] == 3


def test_ode_adjoint_costates_match_backprop():
    """Optimize-then-discretize (adjoint) vs discretize-then-optimize, within the tolerance."""
    X, _ = _data(n=12)
    y = (X[:, 0] > 0).long()
    gaps = {}
    for rtol in (1e-4, 1e-10):
        net = NeuralODE(2, 3, 3, dtype=D, rtol=rtol, atol=rtol, init="normal", seed=2, lift="pad")
        a = ode_costates(net, X, y, regularizer=LAM)
        b = ode_costates(net, X, y, regularizer=LAM, adjoint=False)
        scale = max(float(t.abs().max()) for t in b.costates)
        gaps[rtol] = max(float((s - t).abs().max()) for s, t in zip(a.costates, b.costates))
        gaps[rtol] /= scale
        assert torch.allclose(a.gradient_norm, b.gradient_norm, rtol=100 * rtol, atol=0)
        assert a.hamiltonian is None and a.costates[0].shape == (1, 12, 3)
    assert gaps[1e-10] < 1e-7
    assert gaps[1e-10] < gaps[1e-4]
    # the costate at t_0 is −∂J/∂z_0 of the network's own forward pass
    net = NeuralODE(2, 3, 3, dtype=D, rtol=1e-10, atol=1e-10, init="normal", seed=2, lift="pad")
    z0 = torch.cat([X, torch.zeros(12, 1, dtype=D)], 1).unsqueeze(0).requires_grad_(True)
    zT = _schemes.run_ode(
        net.field,
        z0,
        [float(t) for t in net.times],
        solver="dopri5",
        rtol=1e-10,
        atol=1e-10,
        adjoint=False,
    )[0][-1]
    J = F.binary_cross_entropy_with_logits(net.readout.logits(zT)[0, :, 0], y.to(D))
    (g0,) = torch.autograd.grad(J, z0)
    cs = costates(net, X, y)
    assert torch.allclose(cs.costates[0], -g0, atol=1e-8)


def _toy(n=100):
    x = torch.linspace(-math.pi, math.pi, n, dtype=D)[:, None]
    return x.repeat(1, 5), torch.sin(x).repeat(1, 5)


def _toy_net():
    return ResNet(5, 5, 20, h=0.25, readout=None, init="zero", dtype=D)


def test_emsa_lowers_the_toy_loss():
    """Li et al.'s toy problem (sin on [−π, π], 5 components, 20 tanh layers, δ = 0.25,
    λ = 1e-3, zero weights): E-MSA (ρ = 1) lowers the loss at every one of its first steps."""
    X, y = _toy()
    h = msa(_toy_net(), X, y, method="emsa", rho=1.0, inner_steps=3, steps=4, regularizer=1e-3)
    loss = h.loss
    assert float(loss[0]) == pytest.approx(1.872, abs=1e-3)  # measured at θ = 0: z_L = x
    assert bool((loss[1:] < 0.25 * loss[0]).all()), loss
    # with a larger ρ the decrease is monotone (the penalty keeps each step near the iterate)
    h20 = msa(_toy_net(), X, y, method="emsa", rho=20.0, inner_steps=3, steps=4, regularizer=1e-3)
    assert bool((h20.loss[1:] < h20.loss[:-1]).all()), h20.loss
    assert h.residual is not None and h.hamiltonian is not None and h.seconds is not None
    assert bool((h.seconds[1:] > h.seconds[:-1]).all())


def test_basic_msa_stalls_where_emsa_converges():
    """docs/thesis-notes.md §7, measured on the toy problem: basic MSA (eq. 4.10, L-BFGS inner
    maximization) is not a descent method: the maximizer of H_l ignores that moving θ_l moves
    the states the costates were computed on, so each step overshoots; the iterates oscillate
    (loss 0.56 ↔ 2.3–5.1 here), jump above the starting loss and never reach the level E-MSA
    (ρ = 5) gets to in the same number of iterations."""
    X, y = _toy()
    net = _toy_net()
    h = msa(net, X, y, method="msa", inner_steps=10, steps=6, regularizer=1e-3)
    he = msa(_toy_net(), X, y, method="emsa", rho=5.0, inner_steps=3, steps=6, regularizer=1e-3)
    assert float(h.loss[1:].max()) > float(h.loss[0])  # measured 5.13 > 1.87
    assert float(h.loss.min()) > 2 * float(he.loss[-1])  # measured 0.56 vs 0.216
    assert float(he.loss[-1]) < 0.22
    ups = int((h.loss[1:] > h.loss[:-1]).sum())
    assert ups >= 2  # measured: every other iteration goes up


def test_bad_input_is_one_line():
    X, y = _toy(10)
    net = ResNet(5, 5, 2, readout=None, dtype=D)
    cases = [
        (dict(method="emsa", rho=-1.0), "rho must be a finite number ≥ 0"),
        (dict(method="newton"), 'method "newton" unknown: choose one of emsa, msa, gradient'),
        (dict(inner="bfgs"), 'inner optimizer "bfgs" unknown: choose one of lbfgs, adam, sgd'),
        (dict(on_nonfinite="ignore"), "choose one of raise, stop"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message) as err:
            msa(net, X, y, steps=1, **kwargs)
        assert "\n" not in str(err.value)
    leap = ResNet(5, 5, 2, readout=None, scheme="leapfrog", dtype=D)
    one_step = r'scheme "leapfrog" not supported.*map, euler, heun, rk4$'
    with pytest.raises(ValueError, match=one_step):
        msa(leap, X, y, method="emsa", steps=1)
    ode = NeuralODE(5, 5, 2, readout=None, dtype=D)
    with pytest.raises(ValueError, match=r'scheme "ode" not supported.*map, euler, heun, leapfrog'):
        msa(ode, X, y, method="gradient", steps=1)
    ens = ResNet(5, 5, 2, readout=None, dtype=D, ensemble=2)
    with pytest.raises(ValueError, match=r'"msa" trains single networks: pass net.member\(k\)'):
        msa(ens, X, y, method="msa", steps=1)
    with pytest.raises(ValueError, match="choose a network with scheme ode"):
        ode_costates(net, X, y)


def test_divergence_raises_or_stops():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(20, 2, generator=g, dtype=D)
    y = torch.randn(20, 1, generator=g, dtype=D)

    def linear_net():
        return MLP(2, 3, 3, activation="identity", readout="identity", dtype=D)

    message = r"^loss became (nan|inf) at iteration (\d+): lower the learning rate \(lr=1000.0\)$"
    with pytest.raises(ValueError, match=message) as err:
        msa(linear_net(), X, y, method="gradient", lr=1e3, steps=20)
    k = int(str(err.value).split("iteration ")[1].split(":")[0])
    h = msa(linear_net(), X, y, method="gradient", lr=1e3, steps=20, on_nonfinite="stop")
    assert k >= 1 and h.stopped_at == k and h.loss.shape == (k,)
    assert bool(torch.isfinite(h.loss).all()) and h.to_xarray().attrs["stopped_at"] == k
