"""deepdyn.train.fit: optimizers, ensembles, Newton's method, snapshots, validation."""

import math

import pytest
import torch

import deepdyn as dd
from deepdyn.train import compute_loss, fit

D = torch.float64


def _rings(n=120, seed=0):
    """A disk (class 0, r < 0.5) inside an annulus (class 1, 0.7 < r < 1), thesis §10.1."""
    g = torch.Generator().manual_seed(seed)
    inner = torch.rand(n // 2, generator=g, dtype=D).sqrt() * 0.5
    outer = (0.49 + torch.rand(n - n // 2, generator=g, dtype=D) * 0.51).sqrt()
    r = torch.cat([inner, outer])
    a = torch.rand(n, generator=g, dtype=D) * 2 * math.pi
    X = torch.stack([r * torch.cos(a), r * torch.sin(a)], dim=1)
    y = torch.cat([torch.zeros(n // 2), torch.ones(n - n // 2)]).long()
    return X, y


def _resnet(**kw):
    return dd.ResNet(2, 3, 3, dtype=D, **kw)


# --------------------------------------------------------------------------- optimizers
@pytest.mark.parametrize(
    "optimizer, lr, steps",
    [("sgd", 3.0, 60), ("adam", 0.05, 60), ("adagrad", 0.1, 60), ("rmsprop", 0.01, 60),
     ("lbfgs", 1.0, 30), ("newton", 1e-2, 10)],
)  # fmt: skip
def test_fit_lowers_the_loss(optimizer, lr, steps):
    X, y = _rings()
    net = _resnet(seed=0)
    h = fit(net, X, y, optimizer=optimizer, lr=lr, steps=steps)
    assert h.loss.shape == (steps,)
    final = compute_loss(net, X, y).item()
    assert final < 0.85 * h.loss[0].item()
    assert h.ensemble is None and h.states is None and h.test_loss is None


def test_optimizer_instance_and_callable():
    X, y = _rings()
    net = _resnet(seed=0)
    opt = torch.optim.SGD(net.parameters(), lr=0.5, momentum=0.9)
    h = fit(net, X, y, optimizer=opt, steps=30)
    assert h.loss[-1] < h.loss[0]
    net2 = _resnet(seed=0)
    h2 = fit(net2, X, y, optimizer=lambda p: torch.optim.Adam(p, lr=0.05), steps=30)
    assert h2.loss[-1] < h2.loss[0]
    with pytest.raises(ValueError, match="not the network's"):
        fit(_resnet(seed=1), X, y, optimizer=torch.optim.SGD(net.parameters(), lr=0.1), steps=1)


def test_losses_by_readout():
    X, y = _rings(60)
    sig = _resnet(seed=0)
    soft = _resnet(seed=0, out_features=2, readout="softmax")
    ident = _resnet(seed=0, readout="identity")
    # auto: bce for sigmoid, cross_entropy for softmax, mse otherwise
    p = sig(X)[:, 0]
    bce = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    assert torch.allclose(compute_loss(sig, X, y), bce, atol=1e-12)
    assert torch.allclose(compute_loss(sig, X, y.double()[:, None], "bce"), bce, atol=1e-12)
    q = soft(X)
    ce = -q[torch.arange(len(y)), y].log().mean()
    assert torch.allclose(compute_loss(soft, X, y), ce, atol=1e-12)
    t = y.double()[:, None]
    assert torch.allclose(compute_loss(ident, X, t), ((ident(X) - t) ** 2).mean(), atol=1e-12)
    assert torch.allclose(compute_loss(sig, X, t, "mse"), ((sig(X) - t) ** 2).mean(), atol=1e-12)


# --------------------------------------------------------------------------- ensembles
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("batch_size", [None, 16])
def test_ensemble_equals_members_alone(optimizer, batch_size):
    X, y = _rings(60)
    E, s = 3, 5
    ens = dd.ResNet(2, 3, 3, dtype=D, ensemble=E, seed=s, field="bottleneck", hidden=4)
    kw = dict(optimizer=optimizer, lr=0.1, steps=20, batch_size=batch_size, seed=7)
    h = fit(ens, X, y, **kw)
    assert h.loss.shape == (20, E)
    for k in range(E):
        alone = dd.ResNet(2, 3, 3, dtype=D, seed=s + k, field="bottleneck", hidden=4)
        hk = fit(alone, X, y, **kw)
        assert (h.loss[:, k] - hk.loss).abs().max() <= 1e-10
        for (name, p), q in zip(ens.named_parameters(), alone.parameters()):
            assert (p.detach()[k] - q.detach()[0]).abs().max() <= 1e-10, name


def test_ensemble_with_per_member_inputs():
    X, y = _rings(40)
    E = 2
    Xe = torch.stack([X, -X])  # (ensemble, sample, input)
    ye = torch.stack([y, y])
    ens = _resnet(ensemble=E, seed=0)
    h = fit(ens, Xe, ye, steps=5)
    alone = _resnet(seed=1)
    h1 = fit(alone, -X, y, steps=5)
    assert torch.allclose(h.loss[:, 1], h1.loss, atol=1e-10)


def test_lbfgs_and_newton_run_on_ensembles():
    X, y = _rings(40)
    for opt in ["lbfgs", "newton"]:
        ens = _resnet(ensemble=2, seed=0)
        h = fit(ens, X, y, optimizer=opt, lr=1.0, steps=3)
        assert h.loss.shape == (3, 2)
        assert bool((h.loss[-1] < h.loss[0]).all())
    # newton: members are independent (block-diagonal Hessian)
    ens = _resnet(ensemble=2, seed=0)
    h = fit(ens, X, y, optimizer="newton", steps=3)
    alone = _resnet(seed=1)
    h1 = fit(alone, X, y, optimizer="newton", steps=3)
    assert torch.allclose(h.loss[:, 1], h1.loss, atol=1e-9)


# --------------------------------------------------------------------------- Newton
def test_newton_step_reaches_least_squares_optimum():
    """A one-layer linear map z₁ = A x + b with mse is quadratic in θ: one (nearly undamped)
    Newton step lands on the least-squares solution (thesis eq. A.14)."""
    g = torch.Generator().manual_seed(3)
    X = torch.randn(50, 3, generator=g, dtype=D)
    Y = torch.randn(50, 2, generator=g, dtype=D)
    net = dd.MLP(3, 2, 1, activation="identity", readout=None, dtype=D, init="normal")
    fit(net, X, Y, loss="mse", optimizer="newton", steps=1, newton_damping=1e-12)
    A1 = torch.cat([X, torch.ones(50, 1, dtype=D)], dim=1)
    W = torch.linalg.lstsq(A1, Y).solution  # (input + 1, output)
    A, b = net.field.layers[0][0].weight[0], net.field.layers[0][0].bias[0]
    assert (A - W[:3].T).abs().max() <= 1e-6
    assert (b - W[3]).abs().max() <= 1e-6


def test_newton_refuses_large_networks():
    net = dd.ResNet(2, 40, 4, dtype=D)
    X, y = _rings(10)
    with pytest.raises(ValueError, match=r"newton.*6[0-9]{3} parameters.*lbfgs"):
        fit(net, X, y, optimizer="newton", steps=1)


# --------------------------------------------------------------------------- snapshots
def test_snapshots_record_the_probe_trajectories():
    X, y = _rings(60)
    probe = X[:7]
    net = _resnet(seed=0)
    init = net.trajectory(probe).states.detach().clone()
    h = fit(net, X, y, steps=10, probe=probe, snapshots=4, X_test=X[:20], y_test=y[:20])
    assert h.snapshot_steps == [0, 4, 8, 10]
    assert h.states.shape == (4, 4, 7, 3)  # (step, layer, sample, component)
    assert torch.equal(h.states[0], init)
    assert torch.allclose(h.states[-1], net.trajectory(probe).states, atol=1e-14)
    assert torch.equal(h.times, net.times)
    assert h.test_loss.shape == (10,)
    ds = h.to_xarray()
    assert ds["states"].dims == ("step", "layer", "sample", "component")
    assert ds["loss"].dims == ("iteration",)
    assert list(ds["step"].values) == [0, 4, 8, 10]
    assert h.trajectory(1).states.shape == (4, 7, 3)


def test_snapshots_of_an_ensemble_and_default_schedule():
    X, y = _rings(40)
    ens = _resnet(ensemble=2, seed=0)
    h = fit(ens, X, y, steps=3, probe=X[:5], snapshots=[1])
    assert h.snapshot_steps == [1]
    assert h.states.shape == (1, 4, 2, 5, 3)  # (step, layer, ensemble, sample, component)
    assert h.to_xarray()["states"].dims == ("step", "layer", "ensemble", "sample", "component")
    h = fit(_resnet(), X, y, steps=3, probe=X[:5])
    assert h.snapshot_steps == [0, 3]


def test_test_loss_is_the_held_out_loss_before_each_step():
    X, y = _rings(60)
    net = _resnet(seed=0)
    first = compute_loss(net, X[40:], y[40:]).item()
    h = fit(net, X[:40], y[:40], steps=5, X_test=X[40:], y_test=y[40:])
    assert h.test_loss[0].item() == pytest.approx(first, abs=1e-14)


# --------------------------------------------------------------------------- regularizer
def test_float_regularizer_adds_l2():
    X, y = _rings(40)
    lam = 0.01
    net = _resnet(seed=0)
    data = compute_loss(net, X, y).item()
    sq = sum((p**2).sum().item() for p in net.parameters())
    h = fit(net, X, y, steps=2, regularizer=lam)
    assert h.loss[0].item() == pytest.approx(data + lam * sq, abs=1e-12)
    ens = _resnet(ensemble=2, seed=0)
    sq1 = sum((p[1] ** 2).sum().item() for p in ens.parameters())
    d1 = compute_loss(ens, X, y)[1].item()
    h = fit(ens, X, y, steps=1, regularizer=lam)
    assert h.loss[0, 1].item() == pytest.approx(d1 + lam * sq1, abs=1e-12)


def test_callable_regularizer():
    X, y = _rings(40)
    net = _resnet(seed=0)
    data = compute_loss(net, X, y).item()
    reg = lambda n: 0.5 * n.readout.weight.pow(2).sum()  # noqa: E731
    expected = data + reg(net).item()
    h = fit(net, X, y, steps=2, regularizer=reg)
    assert h.loss[0].item() == pytest.approx(expected, abs=1e-12)
    ens = _resnet(ensemble=2, seed=0)
    per = lambda n: n.readout.weight.pow(2).sum(dim=(1, 2))  # noqa: E731
    h = fit(ens, X, y, steps=1, regularizer=per)
    assert h.loss.shape == (1, 2)
    with pytest.raises(ValueError, match="shape"):
        fit(ens, X, y, steps=1, regularizer=lambda n: torch.zeros(3))


# --------------------------------------------------------------------------- progress
def test_progress_and_callback():
    X, y = _rings(40)
    seen, calls = [], []
    fit(_resnet(), X, y, steps=4, progress=lambda d, t, m: seen.append((d, t, m)),
        callback=lambda s, loss: calls.append((s, loss.shape)))  # fmt: skip
    assert [s[:2] for s in seen] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert calls == [(0, ()), (1, ()), (2, ()), (3, ())]


def test_online_learning_visits_every_sample_each_epoch():
    X, y = _rings(12)
    order = []
    net = _resnet(seed=0)
    fit(net, X, y, steps=24, batch_size=1, callback=lambda s, loss: order.append(loss.item()))
    assert len(order) == 24


# --------------------------------------------------------------------------- failures
def test_diverging_loss_names_the_step_and_learning_rate():
    X, y = _rings(40)
    X = X * 1e3  # unnormalized
    net = dd.MLP(2, 4, 2, activation="relu", readout="identity", dtype=D)
    with pytest.raises(ValueError, match=r"step \d+.*learning rate \(lr=1000000.0\)") as e:
        fit(net, X, y.double(), optimizer="sgd", lr=1e6, steps=50)
    assert "\n" not in str(e.value)
    assert all(torch.isfinite(p).all() for p in net.parameters())
    ens = dd.MLP(2, 4, 2, activation="relu", readout="identity", dtype=D, ensemble=2)
    with pytest.raises(ValueError, match=r"at step \d+ \(member \d\)"):
        fit(ens, X, y.double(), optimizer="sgd", lr=1e6, steps=50)


def _bad(**kw):
    X, y = _rings(20)
    args = dict(net=_resnet(), X=X, y=y)
    args.update(kw)
    net, X, y = args.pop("net"), args.pop("X"), args.pop("y")
    return lambda: fit(net, X, y, **args)


NAN_X = _rings(20)[0].clone()
NAN_X[3, 1] = float("nan")
INF_Y = torch.ones(20, 1, dtype=D)
INF_Y[5] = float("inf")


@pytest.mark.parametrize(
    "kwargs, text",
    [
        (dict(loss="hinge"), 'loss "hinge" unknown'),
        (dict(optimizer="adamw"), 'optimizer "adamw" unknown'),
        (dict(optimizer=3), "optimizer 3 unknown"),
        (dict(X=torch.zeros(20)), "X must be (sample, input), got shape (20,)"),
        (dict(X=torch.zeros(20, 3)), "X has 3 features, expected 2"),
        (dict(X=NAN_X), "X contains NaN at sample 3: clean the data"),
        (dict(y=INF_Y, loss="mse"), "y contains inf at sample 5"),
        (dict(y=torch.full((20,), 2)), 'y contains 2: loss "bce" needs labels in {0, 1}'),
        (dict(net=_resnet(out_features=3, readout="softmax"), y=torch.arange(20) % 4),
         "y contains label 3: class labels must be in 0 … 2"),
        (dict(net=_resnet(out_features=3, readout="softmax"), y=torch.arange(20) - 1),
         "y contains label -1"),
        (dict(y=torch.zeros(19)), "X has 20 samples but y has 19"),
        (dict(steps=0), "steps must be ≥ 1, got 0"),
        (dict(batch_size=0), "batch_size must be ≥ 1, got 0"),
        (dict(batch_size=21), "batch_size must be between 1 and n (20), got 21"),
        (dict(lr=-1.0), "lr must be a finite number > 0, got -1.0"),
        (dict(regularizer="l2"), "regularizer must be None, a float λ or a callable"),
        (dict(snapshots=2), "snapshots need a probe"),
        (dict(probe=torch.zeros(3, 2), snapshots=[0, 11], steps=10),
         "snapshot step 11 out of range"),
        (dict(X_test=torch.zeros(3, 2)), "pass X_test and y_test together"),
        (dict(X_test=torch.zeros(3, 2), y_test=torch.zeros(4)), "X has 3 samples but y_test"),
        (dict(loss="cross_entropy"), 'loss "cross_entropy" does not fit a sigmoid readout'),
        (dict(net=dd.NeuralODE(2, 2, 1), optimizer="newton", newton_damping=0.0),
         "newton_damping must be a finite number > 0, got 0.0"),
    ],
)  # fmt: skip
def test_bad_inputs_raise_one_line_errors(kwargs, text):
    with pytest.raises(ValueError) as e:
        _bad(**kwargs)()
    msg = str(e.value)
    assert text in msg
    assert "\n" not in msg


def test_newton_with_l2_reaches_the_ridge_optimum():
    """With λΣ‖θ‖² the quadratic minimizer solves (AᵀA/(n k) + λI) W = AᵀY/(n k)."""
    g = torch.Generator().manual_seed(4)
    X = torch.randn(40, 2, generator=g, dtype=D)
    Y = torch.randn(40, 2, generator=g, dtype=D)
    lam = 0.1
    ens = dd.MLP(2, 2, 1, activation="identity", readout=None, dtype=D, ensemble=2)
    fit(ens, X, Y, loss="mse", optimizer="newton", steps=1, newton_damping=1e-12,
        regularizer=lam)  # fmt: skip
    A1 = torch.cat([X, torch.ones(40, 1, dtype=D)], dim=1)
    nk = 40 * 2
    W = torch.linalg.solve(A1.T @ A1 / nk + lam * torch.eye(3, dtype=D), A1.T @ Y / nk)
    sub = ens.field.layers[0][0]
    for k in range(2):
        assert (sub.weight[k] - W[:2].T).abs().max() <= 1e-6
        assert (sub.bias[k] - W[2]).abs().max() <= 1e-6


def test_newton_on_an_adaptive_neural_ode():
    """torch.func cannot transform torchdiffeq's adaptive solvers: Newton falls back to autograd."""
    X, y = _rings(20)
    net = dd.NeuralODE(2, 2, 1, dtype=D, rtol=1e-5, atol=1e-7)
    h = fit(net, X, y, optimizer="newton", steps=2)
    assert h.loss[-1] < h.loss[0]
