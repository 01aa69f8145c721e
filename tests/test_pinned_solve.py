"""One network's neural-ODE solve reads its parameters through views made once per solve and
runs on (sample, component) states (``Field.pinned``); the ensemble path, which does neither,
is the independent computation it must equal — outputs, knot states, and the gradients of the
parameters and of every knot state, in float64."""

from __future__ import annotations

import pytest
import torch

import deepdyn as dd

D = torch.float64


def _pair(field: str, q: int):
    kw = dict(field=field, hidden=8, q=q, activation="tanh", lift="pad", readout=None,
              solver="rk4", step_size=0.05, T=1.0, dtype=D)  # fmt: skip
    one = dd.NeuralODE(2, 3, 3, seed=4, **kw)
    two = dd.NeuralODE(2, 3, 3, ensemble=2, seed=9, **kw)
    for l in range(one.depth):
        for i, sub in enumerate(one.field.sublayers(l)):
            w = sub.weight.detach()[0]
            b = None if sub.bias is None else sub.bias.detach()[0]
            two.layer(l).set(w, b, sublayer=i)  # both members = the single network
    return one, two


@pytest.mark.parametrize(("field", "q"), [("mlp", 3), ("bottleneck", 2), ("perceptron", 1)])
def test_the_single_network_solve_equals_the_ensemble_path(field, q):
    one, two = _pair(field, q)
    x = torch.randn(30, 2, dtype=D)
    t1, t2 = one.trajectory(x), two.trajectory(x)
    assert t1.states.shape == (4, 30, 3) and t2.states.shape == (4, 2, 30, 3)
    assert torch.allclose(t1.states, t2.states[:, 0], rtol=0, atol=1e-13)
    g1 = torch.autograd.grad(one(x).pow(2).sum(), list(one.field.parameters()))
    g2 = torch.autograd.grad(two(x)[0].pow(2).sum(), list(two.field.parameters()))
    for a, b in zip(g1, g2, strict=True):
        assert torch.allclose(a[0], b[0], rtol=0, atol=1e-12)
        assert b[1].abs().max() == 0  # the second member does not enter member 0's loss


def test_knot_states_carry_the_later_intervals_gradient():
    """Each knot state is the tensor the next interval starts from: ∂J/∂z(t_l) read there
    includes every later interval (the costates of PMP training)."""
    one, two = _pair("mlp", 3)
    x = torch.randn(20, 2, dtype=D, requires_grad=True)
    for net, pick in ((one, lambda s: s), (two, lambda s: s[0])):
        states, _, index = net._run_ode(net.lift(net._prepare(x)), None)
        loss = pick(states[index[-1]]).pow(2).sum()
        grads = torch.autograd.grad(loss, [states[i] for i in index])
        if net is one:
            ref = grads
        else:
            for a, b in zip(ref, grads, strict=True):
                assert torch.allclose(a, b[:1], rtol=0, atol=1e-12)
    assert all(g.abs().max() > 0 for g in ref)  # every knot, also the first, gets a gradient


def test_pins_last_one_solve_and_2d_states_need_them():
    one, _ = _pair("mlp", 3)
    x = torch.randn(5, 2, dtype=D)
    one(x)
    assert one.field._pins is None  # gone after the solve
    with pytest.raises(AssertionError, match="pinned solve"):
        one.field(0, torch.zeros(5, 3, dtype=D))
    with one.field.pinned():
        pins = one.field._pins
        with one.field.pinned():  # nested: the outer views serve
            assert one.field._pins is pins
        assert one.field(0, torch.zeros(5, 3, dtype=D)).shape == (5, 3)
    assert one.field._pins is None


def test_batch_invariant_solves_are_not_pinned_and_stay_bit_identical():
    """Inside ``batch_invariant()`` one network computes as an ensemble member does, so its
    solve keeps the ensemble axis (no pins): member 0 of the pair is bit-identical to it."""
    from deepdyn.dynamics import batch_invariant

    one, two = _pair("mlp", 3)
    x = torch.randn(16, 2, dtype=D)
    seen: list[int] = []
    one.field.register_forward_pre_hook(lambda m, args: seen.append(args[1].dim()))
    with batch_invariant(), torch.no_grad():
        a, b = one(x), two(x)[0]
    assert torch.equal(a, b)
    assert set(seen) == {3}  # the ensemble axis kept at every evaluation
    seen.clear()
    with torch.no_grad():
        one(x)
    assert set(seen) == {2}  # outside it: the pinned (sample, component) solve
