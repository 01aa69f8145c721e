"""The playground server in-process: HTTP API, WebSocket protocol, the arrays it pushes
(checked against independent computations) and the limits."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient

import deepdyn
from deepdyn.app import Session, Settings, create_app, decode, encode, export_config
from deepdyn.app._server import LOOPBACK_HOSTS
from deepdyn.experiments.train_network import Config as TrainConfig

HOSTS = (*LOOPBACK_HOSTS, "testserver")


@pytest.fixture
def client() -> TestClient:
    # TestClient names its server "testserver": allow it beside the loopback names
    return TestClient(create_app(max_sessions=2, chunk_seconds=0.02, allowed_hosts=HOSTS))


def _until(ws, kind: str, limit: int = 50) -> dict:
    for _ in range(limit):
        msg = json.loads(ws.receive_text())
        if msg["type"] == kind:
            return msg
    raise AssertionError(f"no {kind} message in {limit}")


def test_page_and_static_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and 'id="levels"' in page.text
    assert "WebSocket" in client.get("/static/app.js").text
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/static/../_server.py").status_code == 404


def test_options_validate_and_bad_settings_get_422(client):
    opts = client.get("/api/options").json()
    assert opts["defaults"] == Settings().model_dump()
    assert client.post("/api/validate", json={"width": 4}).json()["width"] == 4
    for bad in ({"width": 17}, {"depth": 0}, {"points": 5000}, {"dataset": "mnist"},
                {"lr": -1}, {"unknown": 1}, {"resolution": 1000}):  # fmt: skip
        r = client.post("/api/validate", json=bad)
        assert r.status_code == 422, bad
        assert r.json()["detail"], bad


def test_export_is_a_valid_train_config(client):
    s = {"dataset": "moons", "architecture": "mlp", "width": 5, "depth": 4, "lr": 0.05}
    out = client.post("/api/export", json={"settings": s, "steps": 300}).json()
    cfg = TrainConfig(**out["config"])  # the catalogue's own validation accepts it
    assert (cfg.data, cfg.resolved_scheme(), cfg.width, cfg.depth, cfg.lr, cfg.steps) == (
        "moons", "map", 5, 4, 0.05, 300)  # fmt: skip
    assert "--set width=5" in out["command"] and "--set batch_size=0" in out["command"]
    r = client.post("/api/export", json={"settings": {"architecture": "ode"}})
    assert r.status_code == 200 and "--set scheme=ode" in r.json()["command"]


def test_websocket_training_pushes_frames_and_loss_falls(client):
    s = Settings(dataset="rings", width=3, depth=6, points=200, resolution=16, lr=0.05)
    with client.websocket_connect("/ws") as ws:
        ws.send_text(json.dumps({"type": "configure", "settings": s.model_dump()}))
        setup = _until(ws, "setup")
        first = _until(ws, "frame")
        assert setup["depth"] == 6 and len(setup["y"]) == 200
        assert decode(first["grid"]).shape == (7, 22, 40, 2)  # (layer, line, point, 2)
        assert decode(first["states"]).shape == (7, 200, 2)  # (layer, sample, 2)
        assert decode(first["probs"]).shape == (16, 16, 2)  # (gy, gx, class)
        ws.send_text(json.dumps({"type": "start"}))
        frames = [_until(ws, "frame") for _ in range(6)]
        while frames[-1]["step"] <= 20 and len(frames) < 500:  # a loaded machine trains slower
            frames.append(_until(ws, "frame"))
        ws.send_text(json.dumps({"type": "pause"}))
        steps = [f["step"] for f in frames]
        assert steps == sorted(steps) and steps[-1] > 20
        loss = frames[-1]["loss"]["train"]
        assert loss[-1] < loss[0]
        assert len(frames[-1]["act_norms"]) == 7 and len(frames[-1]["grad_norms"]) == 6
        assert frames[-1]["snapshots"][0] == 0
        ws.send_text(json.dumps({"type": "replay", "index": 0}))
        replay = _until(ws, "frame")
        while not replay["replay"]:  # frames already in flight before the pause
            replay = _until(ws, "frame")
        assert replay["step"] == 0 and replay["grid"] == first["grid"]
        ws.send_text(json.dumps({"type": "reset"}))
        _until(ws, "setup")
        assert _until(ws, "frame")["step"] == 0


def test_step_message_trains_exactly_that_many_steps(client):
    with client.websocket_connect("/ws") as ws:
        ws.send_text(json.dumps({"type": "step", "steps": 7}))
        _until(ws, "setup")
        assert _until(ws, "frame")["step"] == 0
        assert _until(ws, "frame")["step"] == 7


def test_sessions_are_bounded(client):
    with (
        client.websocket_connect("/ws"),
        client.websocket_connect("/ws"),
        client.websocket_connect("/ws") as third,
    ):
        msg = json.loads(third.receive_text())
        assert msg["type"] == "error" and "too many sessions" in msg["message"]
    assert client.get("/api/health").json()["sessions"] == 0


def test_other_origins_are_refused(client):
    with client.websocket_connect("/ws", headers={"origin": "http://evil.example"}) as ws:
        msg = json.loads(ws.receive_text())
        assert msg["type"] == "error" and "origin http://evil.example refused" in msg["message"]
    with client.websocket_connect("/ws", headers={"origin": "http://testserver"}) as ws:
        ws.send_text(json.dumps({"type": "step", "steps": 1}))
        assert _until(ws, "setup")["type"] == "setup"


def test_malformed_messages_get_an_error_and_the_socket_keeps_working(client):
    bad = ["not json", "[]", "{}", '{"type": "launch"}', '{"type": "configure", "settings": '
           '{"width": 0}}', '{"type": "replay", "index": 99}', '{"type": "step", "steps": -1}',
           '{"type": "start", "extra": 1}', "null", '{"type": 3}']  # fmt: skip
    with client.websocket_connect("/ws") as ws:
        for text in bad:
            ws.send_text(text)
            msg = _until(ws, "error")
            assert msg["message"] and "\n" not in msg["message"], text
        ws.send_text(json.dumps({"type": "step", "steps": 2}))
        frame = _until(ws, "frame")
        while frame["step"] != 2:
            frame = _until(ws, "frame")


# ------------------------------------------------------------ the arrays, independently


def test_frame_arrays_match_an_independent_forward_pass():
    s = Settings(dataset="moons", architecture="resnet", width=3, depth=5, points=50,
                 resolution=9, horizon=1.5, activation="tanh")  # fmt: skip
    session = Session(s)
    session.train(steps=3)
    f = session.frame()
    net = session.net
    # states: z_{l+1} = z_l + h tanh(A_l z_l + b_l), h = T/L, z_0 = (x, 0) (zero padding)
    z = torch.cat([session.X, torch.zeros(50, 1)], dim=1).double()
    layers = [z]
    with torch.no_grad():
        for l in range(5):
            (W, b) = [p.detach().double()[0] for p in net.field.layer_parameters(l)]
            z = z + 0.3 * torch.tanh(z @ W.T + b)
            layers.append(z)
    want = torch.stack(layers)[..., :2].numpy()
    np.testing.assert_allclose(decode(f["states"]), want, atol=1e-5)
    # probabilities on the mesh: the network's output at (gx[j], gy[i]), cell [i, j]
    p = decode(f["probs"])
    u = np.linspace(session.lo, session.hi, 9)
    with torch.no_grad():
        y = net(torch.tensor([[u[2], u[7]]], dtype=torch.float32))
    np.testing.assert_allclose(p[7, 2, 1], float(y[0, 0]), atol=1e-6)
    np.testing.assert_allclose(p.sum(-1), 1.0, atol=1e-6)


def test_dead_neuron_count_matches_a_direct_count():
    s = Settings(dataset="xor", architecture="mlp", activation="relu", width=4, depth=6,
                 points=100, scale=2.0, seed=3)  # fmt: skip
    session = Session(s)
    f = session.frame()
    with torch.no_grad():
        z, dead = session.X, 0
        for l in range(6):
            W, b = [p.detach()[0] for p in session.net.field.layer_parameters(l)]
            a = z @ W.T + b
            dead += int((a <= 0).all(dim=0).sum())
            z = torch.relu(a)
    assert f["dead"] == dead and f["units"] == 24


@pytest.mark.parametrize("arch", ["mlp", "resnet", "second_order", "ode"])
@pytest.mark.parametrize("dataset", ["rings", "gaussians", "step"])
def test_every_architecture_and_dataset_gives_finite_frames(arch, dataset):
    s = Settings(dataset=dataset, architecture=arch, width=2, depth=3, points=40, resolution=8)
    session = Session(s)
    f = session.advance(steps=2)
    assert f["step"] == 2
    for key in ("grid", "states", "probs"):
        assert np.isfinite(decode(f[key])).all()
    if dataset == "step":  # 1-D input: the mesh rows are all the same
        p = decode(f["probs"])
        np.testing.assert_array_equal(p[0], p[-1])


def test_second_order_is_leapfrog_and_ode_is_rk4():
    s = Settings(architecture="second_order", width=2, depth=4)
    assert Session(s).net.scheme == "leapfrog"  # the default data: 2 inputs, 2 classes
    ode = Session(Settings(architecture="ode", width=2, depth=4)).net
    assert ode.scheme == "ode" and ode.ode.solver == "rk4"


def test_snapshots_stay_within_their_byte_budget():
    s = Settings(dataset="rings", width=2, depth=4, points=50, resolution=8)
    session = Session(s, snapshot_bytes=400_000)
    session.frame()
    for _ in range(40):
        session.advance(steps=5)
    size = sum(len(session.snapshots[0][k]["data"]) for k in ("probs", "grid", "states"))
    assert size > 40_000  # so the budget holds 400_000 // size = 7 to 9 snapshots
    assert 2 <= len(session.snapshots) <= 400_000 // size
    steps = [snap["step"] for snap in session.snapshots]
    assert steps == sorted(steps) and steps[0] == 0
    with pytest.raises(ValueError, match="out of range: choose 0"):
        session.replay(len(steps))


def test_divergence_is_reported_as_one_line():
    session = Session(Settings(dataset="rings", architecture="mlp", depth=3, lr=0.5))
    with torch.no_grad():
        next(session.net.parameters()).fill_(float("inf"))  # as after a diverged update
    with pytest.raises(
        ValueError, match=r"non-finite at step 0: lower the learning rate \(lr=0.5\)"
    ):
        session._train_step()
    assert session.step == 0


def test_encode_round_trips_float32():
    a = np.random.default_rng(0).normal(size=(3, 4, 2)).astype(np.float32)
    np.testing.assert_array_equal(decode(encode(a)), a)


def test_export_config_maps_every_network_and_training_setting():
    out = export_config(Settings(architecture="resnet", init="he", scale=0.5), steps=10)
    assert out["config"]["init"] == "he" and out["config"]["scale"] == 0.5
    assert out["config"]["T"] == 2.0 and out["config"]["lift"] == "pad"  # horizon, augmentation
    assert out["unmapped"] == ["resolution", "grid_lines"]  # only what the page draws
    second = export_config(Settings(architecture="second_order"), steps=10)
    assert second["config"]["scheme"] == "leapfrog"


def test_playground_rejects_a_bad_port():
    from deepdyn.app import playground

    with pytest.raises(ValueError, match="port must be an integer in 1"):
        playground(port=0)


def test_playground_command_is_typer_ready():
    import typer
    from typer.testing import CliRunner

    from deepdyn.app import playground_command

    cli = typer.Typer()
    cli.command("playground")(playground_command)
    cli.command("other")(lambda: None)  # two commands: typer keeps the sub-command name
    out = CliRunner().invoke(cli, ["playground", "--help"])
    assert out.exit_code == 0
    for option in ("--host", "--port", "--open"):
        assert option in out.output


@pytest.mark.parametrize(
    "settings",
    [
        {"architecture": "mlp", "width": 4, "depth": 3, "activation": "relu"},
        {
            "architecture": "resnet",
            "width": 3,
            "depth": 5,
            "horizon": 3.0,
            "augmentation": "affine",
        },
        {"architecture": "second_order", "width": 2, "depth": 4, "init": "he", "scale": 0.7},
        {"architecture": "ode", "width": 3, "depth": 2, "optimizer": "sgd", "lr": 0.1},
        {
            "dataset": "gaussians",
            "architecture": "resnet",
            "batch_size": 16,
            "optimizer": "rmsprop",
        },
    ],
)
def test_export_then_run_rebuilds_the_same_network_and_first_losses(settings):
    """The exported ``deepdyn run train …`` command builds the page's initial θ and takes the
    same first steps (float32, so equal up to rounding of the batch-invariant kernels)."""
    from deepdyn import experiments
    from deepdyn.experiments import train_network
    from deepdyn.runs import make_config

    s = Settings(points=60, resolution=8, **settings)
    out = export_config(s, steps=4)
    sets = dict(part.split("=", 1) for part in out["command"].split("--set ")[1:])
    cfg = make_config(experiments.get("train"), overrides={k: v.strip() for k, v in sets.items()})
    session = Session(s)
    d, k, classes = train_network._shape(cfg)
    rebuilt = deepdyn.build(train_network.spec(cfg, d, k, classes, [cfg]))
    assert rebuilt.spec == session.net.spec
    for (name, p), q in zip(session.net.named_parameters(), rebuilt.parameters()):
        assert torch.equal(p, q), name  # the same initial θ, bit for bit
    first = [session._train_step() for _ in range(4)]
    ds = experiments.get("train").run(cfg, None)
    np.testing.assert_allclose(ds["loss"].values, first, rtol=2e-5, atol=1e-7)
