"""control-mean-field (thesis Thm 9.1.1, 9.1.3, 9.2.1): seeded claims on the quick config, the
full config under ``slow``, the Hamiltonian against deepdyn.train.pmp, and the Bellman
recursion against a brute-force search over every control sequence."""

import math

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

import deepdyn.experiments.control_mean_field as entry
from deepdyn.data import rings
from deepdyn.dynamics import ResNet
from deepdyn.train.pmp import costates


def _run(**overrides):
    cfg = entry.Config(**{**entry.EXPERIMENT.quick, **overrides})
    return entry.run(cfg, None)


def test_quick_claims():
    ds = _run()
    n = entry.numbers(ds)
    assert all(math.isfinite(v) for v in n.values())
    # (a) at T = 0.25 the trained θ_l maximize H_l (measured 5e-6); at T = 4 they do not (0.43)
    assert n["hamiltonian_gap_trained_smallest_T"] < 1e-3
    assert n["hamiltonian_gap_trained_largest_T"] > 100 * n["hamiltonian_gap_trained_smallest_T"]
    # (c) two initializations: close at T = 0.25 (0.16 after 80 steps), apart at T = 4 (1.45)
    assert n["theta_spread_smallest_T"] < 0.3 * n["theta_spread_largest_T"]
    # (d) the grid's global minimum: no method beats it by more than the grid error, the best
    # comes within it (quick grid: control step 0.375, measured −0.013 … 0.006)
    assert abs(n["best_method_minus_bellman_min"]) < 0.03
    assert abs(n["best_method_minus_bellman_max"]) < 0.03
    assert n["dp_policy_minus_bellman_max_abs"] < 5e-3
    fig = entry.figure(ds)
    assert isinstance(fig, Figure) and len(fig.axes) == 4


@pytest.mark.slow
def test_full_claims():
    ds = entry.run(entry.Config(), None)
    n = entry.numbers(ds)
    # measured: gap 1e-13 at T = 0.25 and 0.04 at T = 8; θ unique up to T = 2, not from T = 4
    assert n["hamiltonian_gap_trained_smallest_T"] < 1e-8
    assert n["hamiltonian_gap_trained_largest_T"] > 1e-3
    assert n["theta_spread_smallest_T"] < 1e-3 < n["theta_spread_largest_T"]
    assert 0.5 <= n["largest_T_with_unique_theta"] < 8
    assert abs(n["best_method_minus_bellman_min"]) < 5e-3  # measured −1.9e-3
    assert n["adam_restarts_above_bellman_by_0.01"] < 0.5


def test_hamiltonian_is_the_one_of_the_maximum_principle():
    """H_l(θ_l) as the entry computes it equals deepdyn.train.pmp's layer Hamiltonian (1e-12),
    and the ascent never lowers it."""
    X, y = rings(50, seed=3, dtype=torch.float64)
    net = ResNet(2, 3, 4, T=[0.5, 4.0], lift="pad", ensemble=2, seed=5, dtype=torch.float64)
    gap, H, J = entry.hamiltonian_gaps(net, X, y, 1e-2, 10)
    c = costates(net, X, y, regularizer=1e-2)
    assert np.allclose(H, c.hamiltonian.numpy(), rtol=0, atol=1e-12)
    assert np.allclose(J, c.loss.numpy(), rtol=0, atol=1e-12)
    assert gap.shape == (4, 2) and (gap >= 0).all() and gap.max() > 0


@pytest.mark.parametrize(("x0", "lam"), [(-1.0, 0.05), (0.3, 0.0), (0.8, 0.5)])
def test_bellman_recursion_is_the_brute_force_minimum(x0, lam):
    """Over a discrete control set, the interpolated Bellman value at x0 equals the minimum of
    the exact cost over all 25³ control sequences, to the interpolation error (1e-4)."""
    controls = entry.control_grid(2.0, 5)
    h, L, y = 0.5, 3, 1.0
    states = np.linspace(-3.0, 3.0, 6001)
    V, policy = entry.bellman_values(y, lam, h, L, states, controls)
    value = float(np.interp(x0, states, V[0]))
    assert value == pytest.approx(entry.brute_force(x0, y, lam, h, L, controls), abs=1e-4)
    assert policy.shape == (L, len(states))
    assert np.allclose(V[L], (states - y) ** 2)


def test_bellman_zero_horizon_closed_form():
    """With h = 0 the state cannot move: V_0(x) = (x − y)² and the best control is (0, 0)."""
    controls = entry.control_grid(1.0, 3)
    states = np.linspace(-2, 2, 41)
    V, policy = entry.bellman_values(0.5, 0.1, 0.0, 2, states, controls)
    assert np.allclose(V[0], (states - 0.5) ** 2, atol=1e-15)
    assert (controls[policy[0]] == 0).all()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"inits": 1}, "inits must be ≥ 2"),
        ({"horizons": ()}, "horizons and starts need at least one value"),
        ({"state_grid": 2}, "state_grid"),
    ],
)
def test_config_errors(overrides, message):
    with pytest.raises(ValueError, match=message) as err:
        entry.Config(**overrides)
    assert "\n" not in str(err.value)
