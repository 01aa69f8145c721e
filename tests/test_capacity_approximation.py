"""The capacity-approximation catalogue entry (thesis §6.1): quick run, stored arrays, the
fitted rate against an independent regression, and the error falling with width."""

import dataclasses
import math

import numpy as np
import pytest
import torch

import deepdyn.experiments.capacity_approximation as entry


def _quick(**over):
    return dataclasses.replace(entry.Config(), **{**entry.EXPERIMENT.quick, **over})


def test_quick_run_figure_and_numbers(tmp_path):
    calls = []
    ds = entry.run(_quick(), lambda done, total, msg: calls.append((done, total)))
    assert calls[-1] == (4, 4)  # 1 activation × 2 targets × 2 widths
    np.testing.assert_array_equal(ds["best_rms"].values, ds["rms"].min("ensemble").values)
    assert bool((ds["sup"] >= ds["rms"]).all())  # sup |e| ≥ RMS |e| on the same grid
    # the slope is the least-squares line through (log N, log best error), recomputed here
    logn = np.log(ds["width"].values.astype(float))
    for t in ds["target"].values:
        y = np.log(ds["best_rms"].sel(activation="tanh", target=t).values)
        design = np.stack([logn, np.ones_like(logn)], axis=1)
        (slope, _), *_ = np.linalg.lstsq(design, y, rcond=None)
        assert abs(float(ds["slope"].sel(activation="tanh", target=t)) - slope) < 1e-9
    nums = entry.numbers(ds)
    assert set(nums) == {
        "slope_tanh_sin1d",
        "rms_tanh_sin1d_N8",
        "slope_tanh_sincos2d",
        "rms_tanh_sincos2d_N8",
        "rms_tanh_sin1d_N2",
        "rms_tanh_sincos2d_N2",
        "sup_tanh_sin1d_N8",
        "sup_tanh_sincos2d_N8",
    }
    assert all(math.isfinite(v) for v in nums.values())
    fig = entry.figure(ds)
    fig.savefig(tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 10_000


def test_narrow_rms_and_wide_sup_numbers_against_networks_trained_alone():
    # the key numbers rms_…_N2 and sup_…_N8 of the padded joint fit, recomputed from each
    # width's ensemble trained on its own and evaluated on the test grid here
    cfg = _quick()
    nums = entry.numbers(entry.run(cfg, None))
    x, xt = entry._grid("sin1d", cfg.train_1d), entry._grid("sin1d", cfg.test_1d)
    y, yt = entry.target("sin1d", x), entry.target("sin1d", xt)
    err = {}
    for k, width in enumerate(cfg.widths):
        net = entry.MLP(1, width, 1, activation="tanh", readout="identity", init="he",
                        bias_init="normal", ensemble=cfg.seeds,
                        seed=cfg.seed + 1000 * k)  # fmt: skip
        entry.fit(net, x, y, loss="mse", optimizer="adam", lr=cfg.lr, steps=cfg.steps)
        with torch.no_grad():
            err[width] = (net(xt) - yt).abs()[..., 0]  # (ensemble, sample)
    rms_narrow = float(err[2].pow(2).mean(-1).sqrt().min())
    sup_wide = float(err[8].max(-1).values.min())
    assert nums["rms_tanh_sin1d_N2"] == pytest.approx(rms_narrow, rel=1e-3)
    assert nums["sup_tanh_sin1d_N8"] == pytest.approx(sup_wide, rel=1e-3)
    assert nums["sup_tanh_sin1d_N8"] >= nums["rms_tanh_sin1d_N8"]


def test_targets_closed_form():
    x = torch.tensor([[0.25, 0.0], [0.5, 1.0], [-0.5, 0.5]])
    torch.testing.assert_close(
        entry.target("sin1d", x)[:, 0], torch.tensor([1.0, 0.0, 0.0]), atol=1e-6, rtol=0
    )
    torch.testing.assert_close(
        entry.target("sincos2d", x)[:, 0],
        torch.tensor([math.sqrt(0.5), -1.0, 0.0]),
        atol=1e-6,
        rtol=0,
    )


def test_error_falls_with_width():
    ds = entry.run(_quick(widths=(2, 16), steps=600, seeds=2), None)
    best = ds["best_rms"].sel(activation="tanh", target="sin1d").values
    assert best[1] < best[0] / 3, best
    assert float(ds["slope"].sel(activation="tanh", target="sin1d")) < -0.5


def test_config_errors():
    with pytest.raises(ValueError, match="at least two values"):
        entry.Config(widths=(4,))
    with pytest.raises(ValueError, match="increase strictly"):
        entry.Config(widths=(8, 4))
    with pytest.raises(ValueError, match='activation "rleu" unknown'):
        entry.Config(activations=("rleu",))
    with pytest.raises(ValueError, match="seeds must be ≥ 1, got 0"):
        entry.Config(seeds=0)


@pytest.mark.slow
def test_full_run_rates():
    # default config: N = 2 … 32, 4 seeds, 2000 Adam steps; every fitted rate is a decay
    ds = entry.run(entry.Config(), None)
    assert bool((ds["slope"] < -0.5).all()), ds["slope"].values
    assert float(ds["best_rms"].sel(activation="tanh", target="sin1d", width=32)) < 0.02
