"""Playground v2 in process: the new settings (problem, noise, train/test sizes, L1/L2 with
its rate, classes, periods), own data, per-unit and field views, components, divergence,
share/export (command, Python snippet, address) and the run store — each checked against an
independent computation."""

from __future__ import annotations

import json
import math
from urllib.parse import parse_qsl

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient

import deepdyn
from deepdyn import data
from deepdyn.app import Session, Settings, create_app, decode, export_config
from deepdyn.app._data import parse_points, points_csv, surface_function, training_data
from deepdyn.app._server import LOOPBACK_HOSTS

HOSTS = (*LOOPBACK_HOSTS, "testserver")
SMALL = {"points": 60, "resolution": 8, "depth": 4, "grid_lines": 3}
DIVERGES = {"problem": "regression", "dataset": "surface", "architecture": "mlp",
            "activation": "relu", "optimizer": "sgd", "lr": 10.0, "scale": 2.0, "depth": 4,
            "width": 8, "points": 100, "resolution": 8}  # fmt: skip


@pytest.fixture
def client(tmp_path) -> TestClient:
    return TestClient(create_app(max_sessions=2, chunk_seconds=0.02, allowed_hosts=HOSTS,
                                 store=tmp_path / "store"))  # fmt: skip


def _until(ws, kind: str, limit: int = 100) -> dict:
    for _ in range(limit):
        msg = json.loads(ws.receive_text())
        if msg["type"] == kind:
            return msg
    raise AssertionError(f"no {kind} message in {limit}")


# ------------------------------------------------------------------ options, errors, favicon


def test_options_describe_the_new_settings_in_plain_words(client):
    opts = client.get("/api/options").json()
    props = opts["schema"]["properties"]
    for name in ("noise", "train_fraction", "regularization", "regularization_rate", "problem"):
        assert name in props and props[name]["description"], name
    assert props["problem"]["enum"] == ["classification", "regression"]
    assert props["regularization"]["enum"] == ["none", "l1", "l2"]
    assert opts["limits"]["noise"] == [0.0, 1.0] and opts["limits"]["train_fraction"] == [0.1, 0.9]
    assert "surface" in opts["datasets"]["regression"]
    assert "rings" not in opts["datasets"]["regression"]
    text = json.dumps(opts).lower()
    for internal in ("issue", "build 1", "thesis", "prop.", "eq."):
        assert internal not in text, internal


@pytest.mark.parametrize(
    ("body", "want"),
    [
        ({"width": 17}, "width must be at most 16 (got 17)"),
        ({"noise": -1}, "noise must be at least 0.0 (got -1)"),
        ({"depth": "ten"}, "depth must be a whole number (got 'ten')"),
        ({"dataset": "mnist"}, "dataset must be one of 'rings', 'moons'"),
        ({"colour": 1}, "colour is not a setting"),
        ({"problem": "regression", "dataset": "rings"},
         "dataset rings is not a regression problem: choose one of step, oscillation"),
        ({"architecture": "ode", "depth": 30}, "depth must be at most 25 for a neural ODE"),
    ],
)  # fmt: skip
def test_bad_settings_get_a_user_facing_line(client, body, want):
    r = client.post("/api/validate", json=body)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert detail.startswith(want) and "\n" not in detail, detail
    assert "Input should" not in detail and "Value error" not in detail


def test_favicon_is_served(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in r.content
    assert 'rel="icon"' in client.get("/").text


# ------------------------------------------------------------------ data


def test_without_noise_the_data_are_the_catalogue_sets_and_noise_is_added_to_them():
    s = Settings(dataset="moons", points=50, train_fraction=0.25, seed=4)
    X, y, Xt, _ = training_data(s)
    X0, y0 = data.load("moons", n=50, seed=4)
    assert torch.equal(X, X0) and torch.equal(y, y0)
    assert len(Xt) == 150 and torch.equal(Xt, data.load("moons", n=150, seed=5)[0])
    Xn, yn, _, _ = training_data(s.model_copy(update={"noise": 0.3}))
    assert torch.equal(yn, y0)
    d = (Xn - X0).double()
    assert 0.2 < float(d.std()) < 0.4 and abs(float(d.mean())) < 0.1  # N(0, 0.3²), 100 values


def test_classes_arms_periods_and_the_surface():
    X, y, _, _ = training_data(Settings(dataset="gaussians", classes=4, points=2000))
    assert sorted(set(y.tolist())) == [0, 1, 2, 3]
    means = torch.stack([X[y == k].mean(0) for k in range(4)])
    angles = torch.tensor([2 * math.pi * k / 4 for k in range(4)])
    centres = 0.5 * torch.stack([torch.cos(angles), torch.sin(angles)], 1)
    assert float((means - centres).abs().max()) < 0.03  # 500 points per blob: 6.7 σ of a mean
    _, y3, _, _ = training_data(Settings(dataset="spirals", classes=3, points=90))
    assert torch.bincount(y3).tolist() == [30, 30, 30]
    s = Settings(problem="regression", dataset="oscillation", periods=3, points=40)
    Xo, yo, _, _ = training_data(s)
    grid = torch.linspace(-1, 1, 40, dtype=torch.float64)[:, None]  # evenly spaced, float64
    np.testing.assert_allclose(Xo, grid, atol=1e-7)
    np.testing.assert_array_equal(yo, data.oscillation_function(grid, 3))
    Xs, ys, _, _ = training_data(Settings(problem="regression", dataset="surface", points=30))
    x = Xs.double()
    want = torch.sin(math.pi * x[:, 0]) * torch.cos(math.pi * x[:, 1] / 2)
    np.testing.assert_allclose(ys[:, 0], want, atol=1e-6)
    np.testing.assert_allclose(surface_function(x)[:, 0], want, atol=1e-12)


def test_a_multiclass_network_has_a_softmax_and_a_regression_one_an_identity_readout():
    k4 = Session(Settings(dataset="gaussians", classes=4, **SMALL))
    assert k4.net.spec.readout == "softmax" and k4.net.spec.out_features == 4
    p = decode(k4.frame()["probs"])
    assert p.shape == (8, 8, 4)
    np.testing.assert_allclose(p.sum(-1), 1, atol=1e-5)
    k4.train(steps=20)
    f4 = k4.frame()
    m = np.array(f4["confusion"])  # rows true, columns predicted, on the test set
    with torch.no_grad():
        pred = k4.net(k4.Xt).argmax(-1)
    want = np.zeros((4, 4), dtype=int)
    np.add.at(want, (k4.yt.numpy(), pred.numpy()), 1)
    np.testing.assert_array_equal(m, want)
    assert np.trace(m) / m.sum() == pytest.approx(f4["accuracy"])
    reg = Session(Settings(problem="regression", dataset="surface", **SMALL))
    assert reg.net.spec.readout == "identity" and reg.net.spec.out_features == 1
    f = reg.frame()
    assert f["accuracy"] is None and f["train_accuracy"] is None and f["confusion"] is None
    with torch.no_grad():
        mse = float(((reg.net(reg.X) - reg.y) ** 2).mean())
    assert f["train_loss"] == pytest.approx(mse, rel=1e-5)


# ------------------------------------------------------------------ training


@pytest.mark.parametrize("kind", ["l1", "l2"])
def test_the_regularized_objective_is_data_loss_plus_rate_times_the_penalty(kind):
    s = Settings(regularization=kind, regularization_rate=0.05, **SMALL)
    session = Session(s)
    params = [p.detach().double() for p in session.net.parameters()]
    penalty = sum((p.abs() if kind == "l1" else p**2).sum() for p in params)
    with torch.no_grad():
        data_loss = float(deepdyn.train.compute_loss(session.net, session.X, session.y))
    first = session._train_step()
    assert first == pytest.approx(data_loss + 0.05 * float(penalty), rel=1e-5)
    plain = Session(s.model_copy(update={"regularization": "none"}))
    for _ in range(5):
        session._train_step()
        plain._train_step()
    moved = [not torch.equal(a, b) for a, b in zip(session.net.parameters(),
                                                   plain.net.parameters())]  # fmt: skip
    assert all(moved)  # what is trained differs


def test_halt_stops_training_after_the_step_in_flight():
    import threading

    session = Session(Settings(**SMALL))
    stopper = threading.Timer(0.2, session.halt.set)
    stopper.start()
    done = session.train(seconds=60.0)  # halted after 0.2 s, not after a minute
    assert session.halt.is_set() and done == session.step >= 1
    assert not session.training.is_set()
    assert session.train(seconds=10.0) == 0  # no step starts once halted


def test_divergence_is_a_notice_with_the_step_and_training_pauses(client):
    with client.websocket_connect("/ws") as ws:
        ws.send_text(json.dumps({"type": "configure", "settings": DIVERGES}))
        _until(ws, "frame")
        ws.send_text(json.dumps({"type": "start"}))
        err = _until(ws, "error")
        assert err["diverged"]["step"] == 2 and "lower the learning rate" in err["diverged"]["hint"]
        assert err["message"].startswith("the loss became non-finite at step 2")
        assert _until(ws, "frame")["step"] == 2  # the last finite state
        assert _until(ws, "state")["running"] is False
        ws.send_text(json.dumps({"type": "reset"}))  # and reset works
        _until(ws, "setup")
        assert _until(ws, "frame")["step"] == 0


# ------------------------------------------------------------------ views


def test_units_of_a_layer_match_an_independent_computation():
    s = Settings(architecture="resnet", activation="relu", width=3, depth=4, points=50,
                 horizon=1.0, scale=2.0, seed=2)  # fmt: skip
    session = Session(s)
    session.set_view(layer=3)
    f = session.frame()
    nu = f["neurons"]
    assert nu["layer"] == 3
    maps = decode(nu["maps"])  # (unit, gy, gx)
    net, h = session.net, 1.0 / 4
    with torch.no_grad():
        z = torch.cat([session.unit_mesh, torch.zeros(len(session.unit_mesh), 1)], 1).double()
        zx = torch.cat([session.X, torch.zeros(50, 1)], 1).double()
        for l in range(3):
            W, b = [p.detach().double()[0] for p in net.field.layer_parameters(l)]
            a, ax = z @ W.T + b, zx @ W.T + b
            if l < 2:
                z, zx = z + h * torch.relu(a), zx + h * torch.relu(ax)
    want = torch.relu(a).T.reshape(3, 24, 24).numpy()
    np.testing.assert_allclose(maps, want, atol=1e-5)
    np.testing.assert_allclose(nu["weights"], W.numpy(), atol=1e-6)
    np.testing.assert_allclose(nu["biases"], b.numpy(), atol=1e-6)
    assert nu["dead"] == (ax <= 0).all(0).tolist()


def test_vector_field_is_the_layer_field_on_the_plane_of_the_components():
    s = Settings(architecture="resnet", activation="tanh", width=3, depth=5, points=40, seed=1)
    session = Session(s)
    session.set_view(layer=2, components=(2, 0, 1))
    f = session.frame()
    fld = f["field"]
    n, lo, hi = fld["n"], fld["lo"], fld["hi"]
    arrows = decode(fld["arrows"]).reshape(n, n, 2)
    W, b = [p.detach().double()[0] for p in session.net.field.layer_parameters(2)]
    u = np.linspace(lo, hi, n)
    i, j = 4, 11  # row i: the second component shown (z₁) = u[i]; column j: z₃ = u[j]
    z = torch.tensor([u[i], 0.0, u[j]], dtype=torch.float64)
    want = torch.tanh(W @ z + b)
    np.testing.assert_allclose(arrows[i, j], [want[2], want[0]], atol=1e-5)
    states = decode(f["states"])  # components 3 and 1
    third = decode(f["states_z"])[..., 0]  # component 2
    full = deepdyn.viz.propagate(session.net, session.X).values
    np.testing.assert_allclose(states, full[..., [2, 0]], atol=1e-6)
    np.testing.assert_allclose(third, full[..., 1], atol=1e-6)
    assert Session(Settings(architecture="mlp", **SMALL)).frame()["field"] is None
    with pytest.raises(ValueError, match="components must be 3 different indices in 1"):
        session.set_view(components=(0, 0, 1))


# ------------------------------------------------------------------ own data


GOOD_CSV = "x,y,label\n0.1,0.2,0\n\n-0.5,0.4,1\n0.3,-0.2,1\n0.9,0.9,0\n-0.1,-0.7,0\n0.5,0.5,1\n"


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("0.1,0.2\n", "line 1: expected 3 values x,y,label, got 2"),
        ("1,2,0\n3,abc,1\n", "line 2: 'abc' is not a number"),
        ("1,2,0\n1,2,1.5\n", "line 2: the label must be a class 0 … 5, got 1.5"),
        ("1,2,0\n1,2,7\n", "line 2: the label must be a class 0 … 5, got 7"),
        ("1,inf,0\n", "line 1: values must be finite numbers"),
        ("1,2,0\n", "1 points: give at least 4 lines x,y,label"),
        ("0,0,0\n" * 2001, "more than 2000 points: keep at most 2000"),
    ],
)
def test_bad_csv_files_get_one_line_that_names_the_line(text, want):
    with pytest.raises(ValueError) as e:
        parse_points(text)
    assert str(e.value).startswith(want) and "\n" not in str(e.value)


def test_csv_points_round_trip_and_split_by_the_train_fraction():
    pts = parse_points(GOOD_CSV)
    assert pts.shape == (6, 3) and pts[1].tolist() == [-0.5, 0.4, 1.0]
    torch.testing.assert_close(parse_points(points_csv(pts)), pts)
    s = Settings(dataset="custom", train_fraction=0.5)
    X, _, Xt, _ = training_data(s, pts)
    assert len(X) == 3 and len(Xt) == 3
    assert sorted(map(tuple, torch.cat([X, Xt]).tolist())) == sorted(
        map(tuple, pts[:, :2].float().tolist()))  # fmt: skip
    reg = parse_points("0,0,0.5\n1,0,-2.25\n0,1,3\n1,1,0\n", "regression")
    assert reg[:, 2].tolist() == [0.5, -2.25, 3.0, 0.0]


def test_uploading_points_over_http_and_the_socket(client):
    assert client.post("/api/points", json={"csv": GOOD_CSV}).json() == {
        "points": 6, "classes": [0, 1]}  # fmt: skip
    bad = client.post("/api/points", json={"csv": "1,2\n"})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("line 1: expected 3")
    with client.websocket_connect("/ws") as ws:
        ws.send_text(json.dumps({"type": "data", "csv": GOOD_CSV}))
        setup = _until(ws, "setup")
        assert setup["custom"] and setup["settings"]["dataset"] == "custom"
        assert len(setup["y"]) + len(setup["yt"]) == 6
        assert _until(ws, "data")["points"] == 6
        ws.send_text(json.dumps({"type": "data", "csv": "0,0,0\n1,x,1\n"}))
        assert _until(ws, "error")["message"] == "line 2: 'x' is not a number"
        rows = [[0.1 * i, -0.05 * i, i % 3] for i in range(12)]  # clicked points, 3 classes
        ws.send_text(json.dumps({"type": "data", "points": rows}))
        setup = _until(ws, "setup")
        assert setup["classes"] == 3 and len(setup["y"]) + len(setup["yt"]) == 12
        ws.send_text(json.dumps({"type": "step", "steps": 3}))  # and it trains on them
        frame = _until(ws, "frame")
        while frame["step"] != 3:
            frame = _until(ws, "frame")


# ------------------------------------------------------------------ share and export


def test_the_address_query_restores_every_setting():
    s = Settings(problem="regression", dataset="oscillation", periods=3, noise=0.05,
                 train_fraction=0.7, regularization="l1", regularization_rate=0.01,
                 architecture="second_order", width=4, depth=7, horizon=3.5, init="he",
                 scale=0.5, optimizer="rmsprop", lr=0.003, batch_size=16, points=120,
                 resolution=20, grid_lines=5, seed=9, activation="softplus",
                 augmentation="affine")  # fmt: skip
    query = export_config(s, 10)["query"]
    assert Settings(**dict(parse_qsl(query))) == s  # pydantic parses the text values
    assert export_config(Settings(), 1)["query"] == ""  # the defaults need no query


def test_export_names_what_the_command_cannot_carry():
    assert export_config(Settings(), 5)["not_in_command"] == []
    out = export_config(Settings(noise=0.1, regularization="l1", regularization_rate=0.1,
                                 dataset="gaussians", classes=3), 5)  # fmt: skip
    assert out["not_in_command"] == ["classes=3", "noise=0.1", "regularization=l1"]
    l2 = export_config(Settings(regularization="l2", regularization_rate=0.01,
                                train_fraction=0.2, points=100), 5)  # fmt: skip
    assert "--set regularizer=0.01" in l2["command"] and "--set test_samples=400" in l2["command"]
    assert l2["not_in_command"] == []


@pytest.mark.parametrize(
    "settings",
    [
        {"regularization": "l2", "regularization_rate": 0.02, "train_fraction": 0.3},
        {"problem": "regression", "dataset": "oscillation", "periods": 1, "width": 2},
        {"dataset": "spirals", "architecture": "second_order", "batch_size": 20},
    ],
)
def test_exported_command_of_the_new_settings_rebuilds_the_network_and_first_losses(settings):
    from deepdyn import experiments
    from deepdyn.experiments import train_network
    from deepdyn.runs import make_config

    s = Settings(points=60, resolution=8, **settings)
    out = export_config(s, steps=4)
    assert out["not_in_command"] == []
    sets = dict(part.split("=", 1) for part in out["command"].split("--set ")[1:])
    cfg = make_config(experiments.get("train"), overrides={k: v.strip() for k, v in sets.items()})
    session = Session(s)
    d, k, classes = train_network._shape(cfg)
    rebuilt = deepdyn.build(train_network.spec(cfg, d, k, classes, [cfg]))
    assert rebuilt.spec == session.net.spec
    for (name, p), q in zip(session.net.named_parameters(), rebuilt.parameters()):
        assert torch.equal(p, q), name
    first = [session._train_step() for _ in range(4)]
    ds = experiments.get("train").run(cfg, None)
    np.testing.assert_allclose(ds["loss"].values, first, rtol=2e-5, atol=1e-7)
    assert ds["test_loss"].shape == (4,) and len(session.Xt) == cfg.test_samples


@pytest.mark.parametrize(
    "settings",
    [
        {"dataset": "gaussians", "classes": 3, "noise": 0.2, "regularization": "l1",
         "regularization_rate": 0.01},
        {"problem": "regression", "dataset": "surface", "architecture": "ode", "width": 3,
         "batch_size": 15},
    ],
)  # fmt: skip
def test_the_python_snippet_rebuilds_data_network_and_first_losses(settings):
    s = Settings(points=60, resolution=8, depth=3, **settings)
    snippet = export_config(s, steps=3)["python"]
    scope: dict = {}
    exec(snippet.replace("print(history.loss[:5])", ""), scope)  # our own text
    session = Session(s)
    for p, q in zip(session.net.parameters(), scope["net"].parameters()):
        assert p.shape == q.shape
    first = [session._train_step() for _ in range(3)]
    np.testing.assert_allclose(scope["history"].loss.numpy(), first, rtol=2e-5, atol=1e-7)
    assert torch.equal(scope["X"], session.X) and torch.equal(scope["y_test"], session.yt)


def test_store_keeps_the_trained_network_and_store_network_reloads_it(client, tmp_path):
    from deepdyn.runs import Store

    s = Settings(dataset="moons", width=3, depth=3, points=50, resolution=8)
    with client.websocket_connect("/ws") as ws:
        ws.send_text(json.dumps({"type": "configure", "settings": s.model_dump()}))
        _until(ws, "frame")
        ws.send_text(json.dumps({"type": "store"}))
        assert "nothing trained yet" in _until(ws, "error")["message"]
        ws.send_text(json.dumps({"type": "step", "steps": 5}))
        frame = _until(ws, "frame")
        while frame["step"] != 5:
            frame = _until(ws, "frame")
        ws.send_text(json.dumps({"type": "store"}))
        stored = _until(ws, "stored")
    store = Store(tmp_path / "store")
    info = store.get(stored["run_id"])
    assert info.status == "finished" and info.experiment == "train"
    net = store.network(stored["run_id"])
    session = Session(s)
    session.train(steps=5)  # the same five steps again: the page's network
    assert net.spec == session.net.spec
    for p, q in zip(session.net.parameters(), net.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    assert store.load(stored["run_id"])["loss"].shape == (5,)


def test_store_refuses_settings_the_train_entry_cannot_describe(tmp_path):
    from deepdyn.app._store import store_session

    session = Session(Settings(noise=0.1, **SMALL))
    session.train(steps=2)
    with pytest.raises(ValueError, match=r"the train entry has no field for noise=0\.1"):
        store_session(session, tmp_path)


@pytest.mark.slow  # a deepdyn process: imports and a run, 10–20 s on a loaded machine
def test_the_exported_command_run_from_the_cli_rebuilds_the_page_run(tmp_path):
    import os
    import shlex
    import subprocess
    import sys
    from pathlib import Path

    from deepdyn.runs import Store

    s = Settings(architecture="second_order", regularization="l2", regularization_rate=0.01,
                 train_fraction=0.4, points=60, resolution=8, depth=4, width=3)  # fmt: skip
    out = export_config(s, steps=4)
    words = shlex.split(out["command"])
    assert words[:3] == ["deepdyn", "run", "train"]
    store = tmp_path / "store"
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [sys.executable, "-m", "deepdyn", *words[1:], "--store", str(store), "--out",
         str(tmp_path / "report")],
        capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    runs = Store(store)
    (info,) = runs.list(experiment="train")
    trained = runs.network(info.run_id)
    session = Session(s)
    assert trained.spec == session.net.spec
    initial = deepdyn.build(trained.spec)  # the spec's seed gives the initial θ
    for p, q in zip(session.net.parameters(), initial.parameters()):
        assert torch.equal(p, q)  # the same initial θ, bit for bit
    first = [session._train_step() for _ in range(4)]
    np.testing.assert_allclose(runs.load(info.run_id)["loss"].values, first, rtol=2e-5)
    for p, q in zip(session.net.parameters(), trained.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-6)  # and the same trained θ
