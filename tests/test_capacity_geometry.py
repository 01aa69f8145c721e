"""The layers-geometry catalogue entry (thesis §7): quick run, the counterexample flagged,
the inverse exact, the stored metric a pullback of the last layer's."""

import dataclasses

import numpy as np
import pytest
import torch

import deepdyn.experiments.capacity_geometry as entry


def test_quick_run_figure_and_numbers(tmp_path):
    cfg = dataclasses.replace(entry.Config(), **entry.EXPERIMENT.quick)
    ds = entry.run(cfg, None)
    nums = entry.numbers(ds)
    assert nums["fold_not_injective"] == 1.0
    assert nums["inverse_error"] < 1e-6
    assert float(ds["fold_lipschitz"]) == 2.0
    # the fold maps 2 and −2 to −2; the stored curve is z − 2·ReLU(z)
    z = ds["z"].values
    np.testing.assert_allclose(ds["fold"].values, z - 2 * np.maximum(z, 0), atol=1e-15)
    for name in entry.MODELS:
        g = ds[f"metric_{name}"].values  # (point, 2, 2): symmetric, positive semi-definite
        np.testing.assert_allclose(g, g.transpose(0, 2, 1), atol=1e-12)
        assert np.linalg.eigvalsh(g).min() > -1e-12
    assert ds["lyapunov"].dims == ("model", "stat", "layer", "component")
    fig = entry.figure(ds)
    fig.savefig(tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 10_000


def test_metric_ratio_numbers_from_closed_form_eigenvalues():
    # λ± = (tr ± √(tr² − 4 det)) / 2 of each 2 × 2 metric, independent of eigvalsh
    cfg = dataclasses.replace(entry.Config(), **entry.EXPERIMENT.quick)
    ds = entry.run(cfg, None)
    nums = entry.numbers(ds)
    ratio = {}
    for name in entry.MODELS:
        g = ds[f"metric_{name}"].values
        tr, det = g[:, 0, 0] + g[:, 1, 1], g[:, 0, 0] * g[:, 1, 1] - g[:, 0, 1] * g[:, 1, 0]
        root = np.sqrt(np.maximum(tr**2 - 4 * det, 0.0))
        ratio[name] = np.maximum((tr - root) / 2, 0.0) / ((tr + root) / 2)
    assert nums["metric_ratio_max_mlp"] == pytest.approx(ratio["mlp"].max(), abs=1e-10)
    assert nums["metric_ratio_median_resnet"] == pytest.approx(
        np.median(ratio["resnet"]), rel=1e-6, abs=1e-10
    )
    assert nums["metric_ratio_min_resnet"] == pytest.approx(ratio["resnet"].min(), abs=1e-10)
    assert 0 <= nums["metric_ratio_min_resnet"] <= nums["metric_ratio_median_resnet"] <= 1


def test_metric_is_the_pullback_of_the_trained_flow():
    # independent check on the stored arrays' recipe: g^(0) = Jᵀ J with J the Jacobian of the
    # whole flow x ↦ z_L by reverse-mode autograd
    from deepdyn.analysis.geometry import pullback_metrics

    net = entry._nets(entry.Config(depth=3))["resnet"]
    x = torch.tensor([[0.3, -0.2], [1.0, 0.5]], dtype=torch.float64)
    g = pullback_metrics(net, x)[0]
    for i in range(2):
        J = torch.autograd.functional.jacobian(lambda u: net.flow(u[None])[0], x[i])
        torch.testing.assert_close(g[i], J.T @ J, rtol=1e-12, atol=1e-14)


def test_config_errors():
    with pytest.raises(ValueError, match=r"kappa must be in \(0, 1\)"):
        entry.Config(kappa=1.0)
    with pytest.raises(ValueError, match="grid must be ≥ 2"):
        entry.Config(grid=1)
