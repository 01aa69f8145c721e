"""Solver statistics of ode networks: the NFE deepdyn reports equals an independent counter
(a forward pre-hook on the field), forward and backward; steps obey each solver's formula."""

import warnings

import pytest
import torch

import deepdyn
from deepdyn.dynamics import SolveStats
from deepdyn.dynamics._solver_stats import totals

D = torch.float64


class Hook:
    """Counts calls of net.field (every evaluation of f_l), independently of deepdyn's counts."""

    def __init__(self, net):
        self.n = 0
        net.field.register_forward_pre_hook(self._hook)

    def _hook(self, *_):
        self.n += 1


def _data(n=40):
    return deepdyn.data.rings(n, seed=0, dtype=D)


@pytest.mark.parametrize("adjoint", [False, True])
@pytest.mark.parametrize(("solver", "tol"), [("dopri5", 1e-6), ("dopri5", 1e-3), ("bosh3", 1e-5)])
def test_nfe_equals_hook_forward_and_backward(solver, tol, adjoint):
    net = deepdyn.NeuralODE(
        2,
        3,
        3,
        T=2.0,
        solver=solver,
        rtol=tol,
        atol=tol,
        adjoint=adjoint,
        init="normal",
        scale=2.0,
        dtype=D,
        seed=1,
    )
    hook = Hook(net)
    X, _ = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torchdiffeq warns about callbacks a solver lacks
        loss = net(X).sum()
    forward = hook.n
    t = totals(net.solver_stats)
    assert len(net.solver_stats) == 3 and all(isinstance(s, SolveStats) for s in net.solver_stats)
    assert t["nfe_forward"] == forward > 0
    assert t["nfe_backward"] == 0
    loss.backward()
    t = totals(net.solver_stats)  # live: the backward solve has added its counts
    assert t["nfe_backward"] == hook.n - forward
    assert (t["nfe_backward"] > 0) == adjoint
    for s in net.solver_stats:
        for phase in ("forward", "backward"):
            steps = getattr(s, f"steps_{phase}")
            assert steps == getattr(s, f"accepted_{phase}") + getattr(s, f"rejected_{phase}")
        if solver == "dopri5":  # 2 evaluations to start (f0, initial step), 6 per step (FSAL)
            assert s.nfe_forward == 2 + 6 * s.steps_forward
            if adjoint:
                assert s.nfe_backward == 2 + 6 * s.steps_backward


def test_rejected_steps_are_counted():
    """A strongly nonlinear field (large weights) makes dopri5 reject steps; each rejected
    step still costs its 6 evaluations."""
    net = deepdyn.NeuralODE(
        2, 4, 1, T=4.0, rtol=1e-4, atol=1e-4, init="normal", scale=10.0, dtype=D, seed=3
    )
    X, _ = _data(100)
    net(X)
    (s,) = net.solver_stats
    assert s.rejected_forward > 0
    assert s.nfe_forward == 2 + 6 * (s.accepted_forward + s.rejected_forward)


def test_fixed_grid_steps():
    net = deepdyn.NeuralODE(2, 3, 2, T=1.0, solver="rk4", step_size=0.05, adjoint=True, dtype=D)
    hook = Hook(net)
    X, _ = _data()
    net(X).sum().backward()
    for s in net.solver_stats:
        assert s.steps_forward == s.accepted_forward == 10 and s.rejected_forward == 0
        assert s.nfe_forward == 4 * 10
        assert s.steps_backward == 10 and s.nfe_backward == 40
    t = totals(net.solver_stats)
    assert t["nfe_forward"] + t["nfe_backward"] == hook.n


def test_trajectory_and_history_carry_the_counts():
    net = deepdyn.NeuralODE(2, 3, 2, rtol=1e-5, atol=1e-7, dtype=D, adjoint=True)
    X, y = _data()
    hook = Hook(net)
    tr = net.trajectory(X, times=[0.25, 0.75])
    assert len(tr.solver_stats) == 2 and sum(s.nfe_forward for s in tr.solver_stats) == hook.n
    assert deepdyn.ResNet(2, 3, 2).trajectory(X.float()).solver_stats is None
    hook.n = 0
    hist = deepdyn.fit(net, X, y, steps=4, X_test=X, y_test=y)
    fwd, bwd = hist.metrics["nfe_forward"], hist.metrics["nfe_backward"]
    assert fwd.shape == (4,) and bwd.shape == (4,)
    assert (bwd > 0).all()
    # the hook also saw the test-loss solves, which are not training cost: count them apart
    test_nfe = hook.n - int(fwd.sum() + bwd.sum())
    assert test_nfe > 0
    with torch.no_grad():
        before = hook.n
        net(X)
        one = hook.n - before
    assert test_nfe == pytest.approx(4 * one, rel=0.5)
    assert "nfe_forward" not in deepdyn.fit(deepdyn.ResNet(2, 3, 2), X.float(), y, steps=2).metrics
