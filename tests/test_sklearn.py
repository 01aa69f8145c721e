"""deepdyn.sklearn: the estimator contract, pipelines, model selection, and fits that work."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_blobs, make_moons
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import (
    check_classifiers_train,
    check_regressors_train,
    parametrize_with_checks,
)

import deepdyn as dd
from deepdyn.sklearn import FlowClassifier, FlowRegressor

SMALL = dict(steps=20, width=3, depth=2)
# 20 Adam steps of a width-3, depth-2 net cannot reach sklearn's score thresholds (accuracy > 0.83,
# R² > 0.5); the same checks pass with steps=200 (test_train_checks_pass_with_enough_steps).
TOO_FEW_STEPS = "20 steps of a width-3 depth-2 net are too few for the score threshold"


def _expected_failures(estimator):
    if isinstance(estimator, FlowClassifier):
        return {"check_classifiers_train": TOO_FEW_STEPS}
    return {"check_regressors_train": TOO_FEW_STEPS}


@parametrize_with_checks(
    [FlowClassifier(**SMALL), FlowRegressor(**SMALL)], expected_failed_checks=_expected_failures
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "est, check",
    [(FlowClassifier, check_classifiers_train), (FlowRegressor, check_regressors_train)],
)
def test_train_checks_pass_with_enough_steps(est, check):
    check(est.__name__, est(steps=200, width=3, depth=2))


def _moons():
    return make_moons(n_samples=200, noise=0.1, random_state=0)


def test_pipeline_on_moons():
    X, y = _moons()
    pipe = Pipeline([("scale", StandardScaler()),
                     ("flow", FlowClassifier(width=4, depth=4, steps=300, lr=0.05))])  # fmt: skip
    pipe.fit(X, y)
    assert pipe.score(X, y) > 0.9
    clf = pipe.named_steps["flow"]
    assert isinstance(clf.network_, dd.Network)
    assert clf.network_.readout.terminal == "sigmoid"
    assert clf.loss_curve_.shape == (300,)
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert list(clf.classes_) == [0, 1]
    assert clf.n_features_in_ == 2
    proba = pipe.predict_proba(X)
    assert proba.shape == (200, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.array_equal(pipe.predict(X), clf.classes_[proba.argmax(axis=1)])


def test_string_labels_and_architectures():
    X, y = _moons()
    labels = np.array(["left", "right"])[y]
    for arch, scheme in [("mlp", "euler"), ("resnet", "leapfrog"), ("ode", "rk4")]:
        clf = FlowClassifier(architecture=arch, scheme=scheme, width=4, depth=2, steps=10)
        clf.fit(X, labels)
        assert set(clf.predict(X)) <= {"left", "right"}
    with pytest.raises(ValueError, match='architecture "cnn" unknown'):
        FlowClassifier(architecture="cnn").fit(X, y)


def test_grid_search_and_cross_val():
    X, y = _moons()
    grid = GridSearchCV(FlowClassifier(depth=2, steps=30), {"width": [2, 4]}, cv=2)
    grid.fit(X, y)
    assert grid.best_params_["width"] in (2, 4)
    scores = cross_val_score(FlowClassifier(width=3, depth=2, steps=30), X, y, cv=3)
    assert scores.shape == (3,)
    assert np.all((scores >= 0) & (scores <= 1))


def test_clone_and_pickle():
    X, y = _moons()
    clf = FlowClassifier(width=5, lr=0.03, steps=10, alpha=1e-3)
    c = clone(clf)
    assert c.get_params() == clf.get_params()
    clf.fit(X, y)
    assert not hasattr(clone(clf), "network_")
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    # same random_state, same model
    np.testing.assert_array_equal(clone(clf).fit(X, y).predict_proba(X), clf.predict_proba(X))


def test_regressor_fits_sine():
    x = np.linspace(-np.pi, np.pi, 200)[:, None]
    y = np.sin(x[:, 0])
    reg = FlowRegressor(width=8, depth=4, steps=400, lr=0.02)
    reg.fit(x, y)
    assert reg.predict(x).shape == (200,)
    assert reg.score(x, y) > 0.9
    # two targets
    Y = np.column_stack([np.sin(x[:, 0]), np.cos(x[:, 0])])
    reg2 = FlowRegressor(width=4, depth=2, steps=10).fit(x, Y)
    assert reg2.n_outputs_ == 2
    assert reg2.predict(x).shape == (200, 2)


def test_multiclass_blobs():
    X, y = make_blobs(n_samples=150, centers=3, random_state=0)
    clf = FlowClassifier(width=4, depth=3, steps=200, lr=0.05).fit(X, y)
    assert clf.network_.readout.terminal == "softmax"
    proba = clf.predict_proba(X)
    assert proba.shape == (150, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    assert clf.decision_function(X).shape == (150, 3)
    assert clf.score(X, y) > 0.9
