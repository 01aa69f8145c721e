"""scikit-learn estimators over :class:`deepdyn.Network`: a flow as a classifier or regressor.

``FlowClassifier`` and ``FlowRegressor`` build an MLP, ResNet or neural ODE (float64), train it
with :func:`deepdyn.train.fit` and follow the estimator contract: parameters stored as given,
learned attributes ending in ``_``, ``fit`` returning ``self``. They work in ``Pipeline``,
``GridSearchCV``, ``cross_val_score`` and with ``clone``. The trained network is ``network_``,
its :class:`deepdyn.History` ``history_`` — so every analysis of the package applies to it.

>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> clf = make_pipeline(StandardScaler(), FlowClassifier(width=4, depth=6, steps=300))
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from deepdyn import _checks
from deepdyn.dynamics import (
    FIXED_GRID_SOLVERS,
    SOLVERS,
    Network,
    NetworkSpec,
    ODEOptions,
    build,
    residual_fixed,
)
from deepdyn.train import fit as _fit

ARCHITECTURES = ("mlp", "resnet", "ode")
# torchdiffeq's fixed-grid solvers step with h = T / (4·depth) under architecture="ode"

__all__ = ["FlowClassifier", "FlowRegressor"]


class _FlowEstimator(BaseEstimator):
    """Shared parameters and plumbing of :class:`FlowClassifier` and :class:`FlowRegressor`.

    Parameters:
        architecture: ``mlp`` (z_{l+1} = σ(A z_l + b), thesis eq. 3.7), ``resnet``
            (z_{l+1} = z_l + h f(z_l), eq. 3.21) or ``ode`` (dz/dt = f(z; θ(t)), eq. 5.7).
        width, depth: C neurons per layer, L layers.
        activation: relu, tanh, sigmoid, softplus, leaky_relu or identity.
        scheme: for ``resnet`` a residual scheme (euler, heun, rk4, leapfrog, …); for ``ode``
            the torchdiffeq solver (fixed-grid solvers such as euler or rk4 take 4 steps per
            layer interval, adaptive ones such as dopri5 rtol 1e-6); unused by ``mlp``.
        T: time horizon of ``resnet``/``ode`` (step h = T / depth).
        lift: identity, pad, affine or auto (``resnet``/``ode``).
        init, scale: initializer of θ and its scale (see :class:`deepdyn.MLP`).
        optimizer, lr, steps, batch_size: as in :func:`deepdyn.train.fit`; a batch_size larger
            than the training set is clipped to it.
        alpha: L2 penalty α Σ‖θ‖² over all parameters (biases included). The default 1e-4
            makes ``FlowClassifier()`` at least as accurate as ``LogisticRegression()`` on
            iris, wine, breast cancer and digits (a 75/25 split; with α = 0 iris fell short).
        random_state: seed of the initialization and the mini-batches (int, None or a
            ``numpy.random.RandomState``).
    """

    def __init__(
        self,
        architecture: str = "resnet",
        width: int = 8,
        depth: int = 8,
        activation: str = "tanh",
        scheme: str = "euler",
        T: float = 1.0,
        lift: str = "auto",
        init: str = "glorot",
        scale: float = 1.0,
        optimizer: str = "adam",
        lr: float = 1e-2,
        steps: int = 500,
        batch_size: int | None = None,
        alpha: float = 1e-4,
        random_state: int | np.random.RandomState | None = 0,
    ) -> None:
        self.architecture = architecture
        self.width = width
        self.depth = depth
        self.activation = activation
        self.scheme = scheme
        self.T = T
        self.lift = lift
        self.init = init
        self.scale = scale
        self.optimizer = optimizer
        self.lr = lr
        self.steps = steps
        self.batch_size = batch_size
        self.alpha = alpha
        self.random_state = random_state

    # ------------------------------------------------------------------ building
    def _seed(self) -> int:
        rs = self.random_state
        if isinstance(rs, numbers.Integral) and not isinstance(rs, bool) and rs >= 0:
            return int(rs)
        return int(check_random_state(rs).randint(np.iinfo(np.int32).max))

    def network_spec(self, d: int, k: int, readout: str, seed: int) -> NetworkSpec:
        """The :class:`deepdyn.NetworkSpec` these parameters describe for d inputs, k outputs."""
        arch = _checks.choice("architecture", self.architecture, ARCHITECTURES)
        common: dict[str, Any] = dict(
            activation=self.activation, readout=readout, init=self.init, scale=self.scale,
            seed=seed, dtype="float64",
        )  # fmt: skip
        if arch == "mlp":
            return NetworkSpec(d, self.width, self.depth, k, scheme="map", **common)
        if arch == "resnet":
            choices = residual_fixed()
            scheme = _checks.choice("scheme", self.scheme, choices)
            return NetworkSpec(d, self.width, self.depth, k, scheme=scheme, T=self.T,
                               lift=self.lift, **common)  # fmt: skip
        solver = _checks.choice("scheme (the ODE solver)", self.scheme, SOLVERS)
        depth = _checks.integer("depth", self.depth)
        step = self.T / (4 * depth) if solver in FIXED_GRID_SOLVERS else None
        return NetworkSpec(d, self.width, depth, k, scheme="ode", T=self.T, lift=self.lift,
                           ode=ODEOptions(solver, step_size=step), **common)  # fmt: skip

    def _network(self, d: int, k: int, readout: str, seed: int) -> Network:
        return build(self.network_spec(d, k, readout, seed))

    def _train(self, X: np.ndarray, y: torch.Tensor, k: int, readout: str) -> None:
        seed = self._seed()
        net = self._network(X.shape[1], k, readout, seed)
        batch = self.batch_size
        if batch is not None and isinstance(batch, numbers.Integral) and batch > X.shape[0]:
            batch = X.shape[0]
        history = _fit(
            net,
            torch.tensor(X),
            y,
            optimizer=self.optimizer,
            lr=self.lr,
            steps=self.steps,
            batch_size=batch,
            regularizer=_checks.positive("alpha", self.alpha, allow_zero=True) or None,
            seed=seed,
        )
        self.network_ = net
        self.history_ = history
        self.loss_curve_ = history.loss.numpy()
        self.n_iter_ = int(self.steps)

    def _logits(self, X: Any) -> torch.Tensor:
        """(sample, output) pre-terminal outputs of the trained network."""
        check_is_fitted(self)
        Xv = validate_data(self, X, reset=False, dtype=np.float64)
        with torch.no_grad():
            return self.network_.logits(torch.tensor(Xv))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.non_deterministic = self.random_state is None
        return tags


class FlowClassifier(ClassifierMixin, _FlowEstimator):
    """A network as a dynamical system, trained as a classifier.

    Two classes: a sigmoid readout with one output and binary cross-entropy; k > 2 classes: a
    softmax readout with k outputs and cross-entropy. Parameters: see :class:`_FlowEstimator`.

    Attributes:
        classes_: (class,) the class labels seen in ``fit``.
        n_features_in_: d, the input dimension.
        network_: the trained :class:`deepdyn.Network`.
        history_: its :class:`deepdyn.History`; ``loss_curve_`` is ``history_.loss`` as numpy.
    """

    def fit(self, X: Any, y: Any) -> FlowClassifier:
        """Build and train the network on (X, y); returns self."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        classes, encoded = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"FlowClassifier needs samples of at least 2 classes, got 1 class ({classes[0]!r})"
            )
        self.classes_ = classes
        k, readout = (1, "sigmoid") if len(classes) == 2 else (len(classes), "softmax")
        self._train(X, torch.from_numpy(encoded.astype(np.int64)), k, readout)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """The logits W z_L + μ: (sample,) for two classes, (sample, class) otherwise."""
        logits = self._logits(X).numpy()
        return logits[:, 0] if len(self.classes_) == 2 else logits

    def predict_proba(self, X: Any) -> np.ndarray:
        """(sample, class) class probabilities g(W z_L + μ)."""
        logits = self._logits(X)
        if len(self.classes_) == 2:
            p = torch.sigmoid(logits[:, 0]).numpy()
            return np.column_stack([1.0 - p, p])
        return torch.softmax(logits, dim=1).numpy()

    def predict(self, X: Any) -> np.ndarray:
        """(sample,) the most probable class."""
        logits = self._logits(X)
        if len(self.classes_) == 2:
            idx = (logits[:, 0] > 0).long().numpy()
        else:
            idx = logits.argmax(dim=1).numpy()
        return np.asarray(self.classes_[idx])


class FlowRegressor(RegressorMixin, _FlowEstimator):
    """A network as a dynamical system, trained as a regressor: identity readout with one
    output per target, mean squared error. Parameters: see :class:`_FlowEstimator`.

    Attributes:
        n_features_in_, network_, history_, loss_curve_: as for :class:`FlowClassifier`.
        n_outputs_: the number of targets.
    """

    def fit(self, X: Any, y: Any) -> FlowRegressor:
        """Build and train the network on (X, y); returns self."""
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True)
        y = np.asarray(y, dtype=np.float64)
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        self._train(X, torch.tensor(y.reshape(len(y), -1)), self.n_outputs_, "identity")
        return self

    def predict(self, X: Any) -> np.ndarray:
        """(sample,) for one target, (sample, target) otherwise."""
        out = self._logits(X).numpy()
        return out[:, 0] if self.n_outputs_ == 1 else out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
