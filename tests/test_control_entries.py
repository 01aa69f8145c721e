"""The control-* catalogue entries in quick mode: measured behaviour, figures, config errors."""

import math

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

import deepdyn.experiments.control_adjoint as adjoint_entry
import deepdyn.experiments.control_msa as msa_entry
import deepdyn.experiments.control_risk as risk_entry


def _quick(module, **overrides):
    return module.Config(**{**module.EXPERIMENT.quick, **overrides})


def test_control_msa_quick():
    cfg = _quick(msa_entry)
    ds = msa_entry.run(cfg, None)
    methods = list(ds["method"].values)
    assert methods == ["E-MSA rho=5", "MSA", "SGD", "Adagrad", "Adam"]
    # every method starts at θ = 0 on the toy, where z_L = x: J = mean((x − sin x)²) exactly
    X, _, _, _ = msa_entry._toy_data(cfg, 0)
    x = X[:, 0].numpy()
    expected = np.mean((x - np.sin(x)) ** 2)
    start = ds["loss"].sel({"case": "toy"}).values[:, 0, 0]
    assert np.allclose(start, expected, rtol=0, atol=1e-12)
    toy = ds["loss"].sel({"case": "toy", "method": "E-MSA rho=5"}).values[0]
    assert np.nanmin(toy[1:]) < 0.5 * toy[0]
    for m in ("SGD", "Adagrad", "Adam"):
        lo = ds["loss"].sel({"case": "rings", "method": m}).values[0]
        assert lo[cfg.gradient_steps - 1] < lo[0]
    sec = ds["seconds"].values
    assert np.all(np.diff(sec, axis=-1)[np.isfinite(np.diff(sec, axis=-1))] > 0)
    n = msa_entry.numbers(ds)
    assert all(math.isfinite(v) for v in n.values())
    assert n["toy_E-MSA_rho5_seconds_per_iteration"] > n["toy_Adam_seconds_per_iteration"]
    fig = msa_entry.figure(ds)
    assert isinstance(fig, Figure) and len(fig.axes) == 4


def test_control_adjoint_quick():
    ds = adjoint_entry.run(_quick(adjoint_entry), None)
    gap = ds["gap"].values  # tolerances (1e-2, 1e-4)
    assert gap[1] < gap[0] < 0.1
    nfe_b = ds["nfe_backward"]
    assert float(nfe_b.sel({"method": "backprop"}).max()) == 0  # autograd replays, no solve
    assert float(nfe_b.sel({"method": "adjoint"}).min()) > 0
    n = adjoint_entry.numbers(ds)
    assert n["memory_slope_backprop"] > 0.8  # saved activations grow with the steps
    assert abs(n["memory_slope_adjoint"]) < 0.05  # the adjoint keeps only endpoints
    assert n["memory_ratio_most_steps"] > 5
    # with the same fixed-step rk4 grid both ways, the gradients differ by O(h⁴) only
    assert n["step_gap_most_steps"] < 1e-5
    assert isinstance(adjoint_entry.figure(ds), Figure)


def test_control_risk_groups_repeat_draws_evenly():
    groups = risk_entry._groups([25, 50, 100, 200, 400, 1600])
    assert groups == [[1600, 400, 200], [100, 50, 25]]
    for g in groups:
        assert all(max(g) % n == 0 and max(g) // n <= 8 for n in g)


@pytest.mark.slow
def test_control_risk_full_rates():
    """Thm 9.1.2 where θ* is stable, and where it is not (measured slopes in the comments)."""
    ds = risk_entry.run(risk_entry.Config(), None)
    n = risk_entry.numbers(ds)
    assert -0.8 < n["T1_noise0.1_distance_slope"] < -0.35  # −0.56: N^(−1/2)
    assert n["T1_noise0.1_excess_slope"] < -0.8  # −1.18: second order, faster than eq. 9.17
    assert n["T1_noise0.1_gap_slope"] < -0.8  # −1.10
    assert n["T2_noise0.1_distance_median_N400"] > 1.0  # 4.5: no convergence to θ^ref
    assert n["T2_noise0.1_population_risk_median_N400"] < 0.45  # 0.37: it learns


def test_control_risk_quick():
    cfg = _quick(risk_entry)
    ds = risk_entry.run(cfg, None)
    gap = np.median(ds["gap"].values[0, 0], axis=1)  # (regime, noise, N, ensemble)
    assert gap[0] > gap[1] > 0  # N = 25 overfits more than N = 100 (measured 0.014, 0.009)
    assert ds["gap_slope"].values[0, 0] < 0
    n = risk_entry.numbers(ds)
    assert all(math.isfinite(v) for v in n.values())
    assert isinstance(risk_entry.figure(ds), Figure)


@pytest.mark.parametrize(
    ("module", "overrides", "message"),
    [
        (msa_entry, {"cases": ("toy", "spiral")}, 'case "spiral" unknown: choose one of toy'),
        (msa_entry, {"lrs": (0.1,)}, "lrs has 1 values, expected one per gradient method"),
        (msa_entry, {"rhos": (-1.0,)}, "rho must be a finite number ≥ 0"),
        (adjoint_entry, {"steps": (10, 30)}, "steps 10 is not a multiple of intervals = 4"),
        (adjoint_entry, {"tolerances": (1e-3, 2.0)}, r"tolerance must be in \(0, 1\)"),
        (risk_entry, {"sizes": (16,)}, "sizes needs at least two values"),
        (risk_entry, {"label_noise": (0.5,)}, r"label_noise must be in \[0, 0.5\), got 0.5"),
        (risk_entry, {"regularizers": (1e-3,)}, "horizons and regularizers pair up into regimes"),
    ],
)
def test_control_config_errors(module, overrides, message):
    with pytest.raises(ValueError, match=message) as err:
        module.Config(**overrides)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("case", ["toy", "rings"])
def test_control_msa_gradient_ensemble_equals_each_seed_alone(case):
    """The gradient methods train the seeds as one ensemble: each member's loss curve and test
    loss equal a single network trained alone on that seed's data (float64, 1e-10)."""
    import deepdyn
    from deepdyn.experiments import control_msa as cm

    cfg = cm.Config(cases=(case,), seeds=(0, 3), gradient_steps=15, toy_depth=4, rings_depth=3,
                    rings_points=40)  # fmt: skip
    for method, lr in (("SGD", 0.1), ("Adam", 0.005)):
        curves, stamps, tests = cm._train_gradient(cfg, case, method, cfg.seeds)
        assert curves.shape == stamps.shape == (2, 15)
        for k, seed in enumerate(cfg.seeds):
            X, y, Xt, yt = cm._data(cfg, case, seed)
            net = cm._net(cfg, case, seed)
            hist = deepdyn.fit(net, X, y, optimizer=method.lower(), lr=lr, steps=15,
                               regularizer=cfg.regularizer)  # fmt: skip
            assert np.allclose(curves[k], hist.loss.numpy(), rtol=0, atol=1e-10)
            with torch.no_grad():
                alone = float(deepdyn.train.compute_loss(net, Xt, yt))
            assert abs(tests[k] - alone) < 1e-10
