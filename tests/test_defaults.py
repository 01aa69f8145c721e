"""Defaults that work: the public API's defaults, with no arguments, on the problems they are
for (issue: front door). Each test fails with the defaults the project had before."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

from deepdyn import ResNet
from deepdyn.data import moons
from deepdyn.train import msa

D = torch.float64


def _toy():
    """Li et al.'s toy (sin on [−π, π], 5 components, 20 tanh layers, δ = 0.25, zero weights)."""
    x = torch.linspace(-math.pi, math.pi, 100, dtype=D)[:, None]
    net = ResNet(5, 5, 20, h=0.25, readout=None, init="zero", dtype=D)
    return net, x.repeat(1, 5), torch.sin(x).repeat(1, 5)


def _moons():
    """The moons as the control-msa entry sets up its rings (width 3, padded, δ = 0.25)."""
    X, y = moons(200, seed=1000, dtype=D)
    net = ResNet(2, 3, 10, h=0.25, lift="pad", init="uniform", scale=0.5, seed=0, dtype=D)
    return net, X, y


@pytest.mark.parametrize(
    ("make", "final"),
    [(_toy, 0.3), (_moons, 0.4)],  # measured with ρ = 30: 0.278 and 0.346
    ids=["li-toy", "moons"],
)
def test_emsa_default_rho_descends(make, final):
    """E-MSA with its default ρ: the loss never rises above its start and falls by half in 10
    iterations (ρ = 1, the old default, ends at 0.50 on the toy and 3.8 on the moons)."""
    net, X, y = make()
    loss = msa(net, X, y, steps=10, regularizer=1e-3).loss
    assert bool((loss <= loss[0]).all()), loss
    assert float(loss[-1]) < final, loss


def _versus_logistic(load):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    from deepdyn.sklearn import FlowClassifier

    X, y = load(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LogisticRegression's ConvergenceWarning on raw data
        baseline = LogisticRegression().fit(Xtr, ytr).score(Xte, yte)
    return FlowClassifier().fit(Xtr, ytr).score(Xte, yte), baseline


def test_flow_classifier_default_matches_logistic_regression_on_iris():
    """FlowClassifier() with no arguments: as accurate as LogisticRegression() (1.0 here; with
    the old default alpha = 0 it scored 0.947)."""
    from sklearn.datasets import load_iris

    flow, baseline = _versus_logistic(load_iris)
    assert flow >= baseline, (flow, baseline)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["wine", "breast_cancer", "digits"])
def test_flow_classifier_default_matches_logistic_regression(name):
    """Measured: wine 0.933 = 0.933, breast cancer 0.937 > 0.930, digits 0.958 = 0.958."""
    import sklearn.datasets

    flow, baseline = _versus_logistic(getattr(sklearn.datasets, f"load_{name}"))
    assert flow >= baseline, (flow, baseline)


@pytest.mark.parametrize(("depth", "T"), [(10, 1.0), (3, 1.0), (7, 2.0), (100, 1.0)])
def test_layer_times_end_at_T(depth, T):
    """t_L = T exactly for the default uniform steps (a running float sum gave 0.9999999999999999
    for T = 1, L = 10)."""
    net = ResNet(2, 2, depth, T=T)
    assert float(net.times[-1]) == T
    assert float(net.times[0]) == 0.0
    uneven = ResNet(2, 2, 3, h=[0.5, 0.25, 0.25])
    assert uneven.times.tolist() == [0.0, 0.5, 0.75, 1.0]


@pytest.mark.slow
def test_flow_regressor_default_matches_linear_regression_on_diabetes():
    """FlowRegressor() with no arguments: R² at least LinearRegression()'s (measured 0.3602 vs
    0.3594 on a 75/25 split)."""
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import train_test_split

    from deepdyn.sklearn import FlowRegressor

    X, y = load_diabetes(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
    baseline = LinearRegression().fit(Xtr, ytr).score(Xte, yte)
    assert FlowRegressor().fit(Xtr, ytr).score(Xte, yte) >= baseline
