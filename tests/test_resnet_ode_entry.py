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
