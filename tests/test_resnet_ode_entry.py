"""The resnet-ode catalogue entry: full config, fitted orders within ±0.1 of 1 and 2, ±0.15 of 4."""

import pytest

from deepdyn import experiments


def test_resnet_ode_orders(tmp_path):
    exp = experiments.get("resnet-ode")
    cfg = experiments.make_config(exp)
    result = experiments.run_experiment(exp, cfg, tmp_path)
    n = result.numbers
    assert abs(n["slope_euler"] + 1) < 0.1
    assert abs(n["slope_heun"] + 2) < 0.1
    assert abs(n["slope_leapfrog"] + 2) < 0.1
    assert abs(n["slope_rk4"] + 4) < 0.15  # the classical four-stage step
    # errors shrink with depth and heun/leapfrog beat euler at the deepest net
    assert n["error_heun_L512"] < n["error_euler_L512"] / 100
    assert (tmp_path / "resnet-ode" / "figure.png").stat().st_size > 10_000


def test_resnet_ode_config_errors():
    exp = experiments.get("resnet-ode")
    with pytest.raises(ValueError, match="at least two"):
        experiments.make_config(exp, overrides={"depths": "8"})
    with pytest.raises(ValueError, match="rk9"):
        experiments.make_config(exp, overrides={"schemes": "euler,rk9"})


def test_resnet_ode_width_three(tmp_path):
    # the phase portrait projects the field on the (z_1, z_2) plane for widths above 2
    exp = experiments.get("resnet-ode")
    cfg = experiments.make_config(exp, quick=True, overrides={"width": "3"})
    result = experiments.run_experiment(exp, cfg, tmp_path)
    assert abs(result.numbers["slope_leapfrog"] + 2) < 0.2


def test_resnet_ode_step_form_and_flow_gap_against_independent_computations():
    """euler_step_residual: the Euler ResNet's stored states equal the chain z ↦ z + h tanh(Az
    + b) iterated in numpy from the inputs; flow_gap_first_vs_second_order: the two limits at
    t = T solved by scipy's solve_ivp, not by torchdiffeq."""
    import numpy as np
    from scipy.integrate import solve_ivp

    from deepdyn.experiments import resnet_ode as entry

    exp = experiments.get("resnet-ode")
    cfg = experiments.make_config(exp, quick=True)
    ds = entry.run(cfg, None)
    n = entry.numbers(ds)
    A, b = (t.numpy() for t in entry._field(cfg))
    x = ds["ode_path"].values[0]  # (sample, component): the inputs
    z = [x]
    for _ in range(4):
        z.append(z[-1] + cfg.T / 4 * np.tanh(z[-1] @ A.T + b))
    assert np.abs(np.stack(z) - ds["euler_path_L4"].values).max() < 1e-12
    assert n["euler_step_residual"] < 1e-12

    def first(_t, v):
        return np.tanh(A @ v + b)

    def second(_t, v):
        return np.concatenate([v[2:], np.tanh(A @ v[:2] + b)])

    gaps = []
    for xi in x:
        kw = {"rtol": 1e-11, "atol": 1e-12, "method": "DOP853"}
        z1 = solve_ivp(first, (0, cfg.T), xi, **kw).y[:, -1]
        z2 = solve_ivp(second, (0, cfg.T), np.r_[xi, 0.0, 0.0], **kw).y[:2, -1]
        gaps.append(np.linalg.norm(z1 - z2))
    assert abs(max(gaps) - n["flow_gap_first_vs_second_order"]) < 1e-8
    assert n["flow_gap_first_vs_second_order"] > 0.5  # the limits differ by O(1)
