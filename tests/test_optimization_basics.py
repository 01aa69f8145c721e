"""optimization-basics (thesis App. A): the step-size regimes against their closed form, Newton
against steepest descent, the epoch costs; seeded claims on the quick config, full under slow."""

import math

import numpy as np
import pytest
from matplotlib.figure import Figure

import deepdyn.experiments.optimization_basics as entry


@pytest.mark.parametrize("nu", [1e-3, 0.01, 0.05, 0.099, 0.1, 0.15, 0.19, 0.2, 0.21])
def test_iterations_are_the_closed_form(nu):
    """λ = 1, 10: the measured count equals max_i ⌈log ε / log|1 − νλᵢ|⌉ exactly (integers);
    ν = 0.1 = 1/λ_max zeroes the fast component; ν ≥ 2/λ_max = 0.2 never converges."""
    lam = np.array([1.0, 10.0])
    n, _ = entry.iterations_measured(nu, lam, 1e-6, 100000)
    assert n == entry.iterations_closed_form(nu, lam, 1e-6)
    assert entry.iterations_all(np.array([nu]), lam, 1e-6, 100000)[0] == n
    if nu >= 0.2:
        assert math.isinf(n)


def test_small_steps_need_order_one_over_nu():
    lam = np.array([1.0, 10.0])
    n1 = entry.iterations_closed_form(1e-3, lam, 1e-6)
    n2 = entry.iterations_closed_form(1e-4, lam, 1e-6)
    assert n2 / n1 == pytest.approx(10, rel=1e-3)
    assert n1 == pytest.approx(math.log(1e6) / 1e-3, rel=1e-3)  # log(1/ε)/(ν λ_min)


def test_quick_claims():
    ds = entry.run(entry.Config(**entry.EXPERIMENT.quick), None)
    n = entry.numbers(ds)
    assert n["closed_form_mismatches"] == 0
    assert n["diverging_step_sizes_not_above_2_over_lambda_max"] == 0
    assert n["smallest_diverging_step_times_lambda_max"] > 2
    # oscillation: in the middle regime the λ_max component changes sign every step
    osc = ds["path"].sel(regime="oscillating").values[:10, 1]
    assert np.all(osc[1:] * osc[:-1] < 0)
    smooth = ds["path"].sel(regime="smooth").values[:10, 1]
    assert np.all(smooth > 0) and np.all(np.diff(smooth) < 0)
    # Newton's 6 steps reach a lower loss than 60 gradient steps (0.528 against 0.674)
    assert n["newton_final_loss"] < n["gd_final_loss"]
    assert (ds["epoch_seconds"].values > 0).all()
    assert isinstance(entry.figure(ds), Figure)


@pytest.mark.slow
def test_full_claims():
    ds = entry.run(entry.Config(), None)
    n = entry.numbers(ds)
    assert n["closed_form_mismatches"] == 0
    assert n["iterations_times_nu_spread_small_nu"] < 0.05  # O(1/ν): 0.4 % spread measured
    assert n["newton_final_loss"] < n["gd_final_loss"]  # 15 Newton steps beat 400 GD steps


def test_config_errors():
    with pytest.raises(ValueError, match=r"tolerance must be in \(0, 1\)"):
        entry.Config(tolerance=2.0)
