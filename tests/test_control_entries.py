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


def test_control_msa_new_numbers_on_a_made_up_history():
    """max_loss_over_start and iterations_to_target on loss curves whose answers are known:
    per seed the target is 1.01 × the least loss of any method on that seed."""
    import xarray as xr

    nan = np.nan
    loss = np.array(
        [  # (case, method, ensemble, iteration): 2 methods, 2 seeds, 4 iterations
            [
                [[2.0, 1.0, 0.5, 0.5], [4.0, 8.0, 1.0, nan]],  # A: seed 1 hits 1.0 at k = 2
                [[2.0, 3.0, 0.504, 0.6], [4.0, 2.0, 2.0, 2.0]],  # B: seed 0 within 1%, k = 2
            ]
        ]
    )
    ds = xr.Dataset(
        {
            "loss": (("case", "method", "ensemble", "iteration"), loss),
            "seconds": (("case", "method", "ensemble", "iteration"), np.ones_like(loss)),
            "test_loss": (("case", "method", "ensemble"), np.zeros((1, 2, 2))),
        },
        coords={"case": ["toy"], "method": ["A", "B"], "iteration": np.arange(4)},
    )
    n = msa_entry.numbers(ds)
    assert n["toy_A_max_loss_over_start"] == pytest.approx(np.median([1.0, 2.0]))
    assert n["toy_B_max_loss_over_start"] == pytest.approx(np.median([1.5, 1.0]))
    assert n["toy_A_iterations_to_target"] == pytest.approx(np.median([2, 2]))
    assert "toy_B_iterations_to_target" not in n  # seed 1 never: median of (2, inf)


def test_control_msa_costates_are_negative_gradients_by_finite_differences():
    """The costate checks of the entry are ≈ 0, and the costates they compare match central
    finite differences of J in the states (independent of autograd)."""
    from deepdyn.train.pmp import costates

    cfg = msa_entry.Config(cases=("rings",), seeds=(0,), pmp_steps=3, rings_depth=3,
                           rings_points=30)  # fmt: skip
    dev_p, dev_h, gap = msa_entry._costate_checks(cfg, "rings", 0)
    assert dev_p < 1e-10 and dev_h < 1e-10 and gap < 1e-10
    X, y, _, _ = msa_entry._data(cfg, "rings", 0)
    net = msa_entry._net(cfg, "rings", 0)
    c = costates(net, X, y)
    l, i, j, eps = 1, 4, 2, 1e-6
    with torch.no_grad():

        def J(z):  # the data loss as a function of z_l, running layers l … L − 1
            for m in range(l, net.depth):
                z = net.layer_step(m, z, None)
            p = net.readout(z)[0, :, 0]
            t = y.to(p.dtype)
            return float(-(t * torch.log(p) + (1 - t) * torch.log(1 - p)).mean())

        z = c.states[l].clone()
        z[0, i, j] += eps
        up = J(z)
        z[0, i, j] -= 2 * eps
        fd = (up - J(z)) / (2 * eps)
    assert abs(float(c.costates[l][0, i, j]) + fd) < 1e-8 * max(1.0, abs(fd))


def test_control_msa_isotonic_bound_by_pool_adjacent_violators():
    """toy_isotonic_bound against a hand-written pool-adjacent-violators fit."""
    cfg = msa_entry.Config(cases=("toy",), seeds=(0,))
    X, Y, _, _ = msa_entry._toy_data(cfg, 0)
    x, t = X[:, 0].numpy(), Y[:, 0].numpy()
    blocks: list[list[float]] = []  # [mean, count]
    for v in t[np.argsort(x)]:
        blocks.append([v, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            (m2, c2), (m1, c1) = blocks.pop(), blocks.pop()
            blocks.append([(m1 * c1 + m2 * c2) / (c1 + c2), c1 + c2])
    fit_ = np.repeat([b[0] for b in blocks], [int(b[1]) for b in blocks])
    mse = float(np.mean((fit_ - t[np.argsort(x)]) ** 2))
    assert msa_entry._isotonic_bound(cfg, 0) == pytest.approx(mse, abs=1e-12)
    assert 0.02 < mse < 0.15  # far below the zero initialization's basin (≈ 0.19–0.22)


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
