"""The playground's FTLE view: the frame's field is deepdyn.analysis.ftle_field of the session's
network on the same grid, it is absent when off and explained where it does not apply, it lags
while training only as far as its time share allows, and the socket turns it on."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient

from deepdyn.analysis import ftle_field
from deepdyn.app import Session, Settings, create_app, decode
from deepdyn.app._server import LOOPBACK_HOSTS
from deepdyn.app._session import FTLE_MESH, FTLE_MESH_REVERSE

SMALL = {"points": 60, "resolution": 8, "depth": 4, "grid_lines": 3}
# the frame sends the float64 field as float32: equal up to float32 rounding (rel. 6e-8)
RTOL, ATOL = 1e-6, 1e-7


def _check_against_the_library(session: Session, view: dict) -> None:
    layers = [session.layer] if session.layer >= 1 else []
    box = ((session.lo, session.hi), (session.lo, session.hi))
    want = ftle_field(session.net, box, view["n"], layers=layers, whole=True)
    assert view["layers"] == list(want.layers)
    assert (view["lo"], view["hi"]) == (session.lo, session.hi)
    got = decode(view["values"])
    assert got.shape == (len(want.layers), view["n"], view["n"])
    np.testing.assert_allclose(got, want.values[:, 0], rtol=RTOL, atol=ATOL)  # −inf alike
    if session.regression:
        assert view["labels"] is None
    else:
        np.testing.assert_array_equal(decode(view["labels"]), want.labels()[0])
    fin = want.values[np.isfinite(want.values)]  # a dead ReLU layer gives −inf
    assert view["min"] == pytest.approx(fin.min()) and view["max"] == pytest.approx(fin.max())
    assert view["step"] == session.step and view["seconds"] > 0


@pytest.mark.parametrize(
    ("settings", "mesh"),
    [
        ({"architecture": "resnet", "width": 3, "dataset": "moons"}, FTLE_MESH),
        ({"architecture": "mlp", "width": 4, "activation": "relu"}, FTLE_MESH),
        ({"architecture": "second_order", "width": 3, "dataset": "gaussians", "classes": 3},
         FTLE_MESH_REVERSE),
        ({"problem": "regression", "dataset": "surface", "architecture": "ode", "width": 3},
         FTLE_MESH_REVERSE),
    ],
)  # fmt: skip
def test_the_frames_ftle_is_the_librarys_ftle_field_on_the_same_grid(settings, mesh):
    session = Session(Settings(**{**SMALL, **settings}))
    session.set_view(layer=2, ftle=True)
    view = session.frame()["ftle"]
    assert view["available"] and view["n"] == mesh
    _check_against_the_library(session, view)
    if settings["architecture"] == "mlp":  # relu: λ = −inf where a layer is dead
        assert not np.isfinite(decode(view["values"])).all()
    session.train(steps=5)  # the trained network's field (a fresh frame recomputes it)
    view = session.frame()["ftle"]
    assert view["step"] == 5
    _check_against_the_library(session, view)
    session.set_view(layer=0)  # z_0 = lift(x) has no horizon: the whole network only
    view = session.frame()["ftle"]
    assert view["layers"] == [0]
    _check_against_the_library(session, view)


def test_the_ftle_view_is_absent_when_off_and_explained_without_two_inputs():
    session = Session(Settings(**SMALL))
    assert session.frame()["ftle"] is None  # off by default: nothing computed
    assert session.setup()["ftle_unavailable"] is None
    session.set_view(ftle=True)
    assert session.frame()["ftle"]["available"]
    session.set_view(ftle=False)
    assert session.frame()["ftle"] is None
    for dataset in ("oscillation", "step"):  # 1-D regressions: x ↦ ŷ(x) is a curve
        one = Session(Settings(**SMALL, problem="regression", dataset=dataset))
        one.set_view(ftle=True)
        view = one.frame()["ftle"]
        assert view["available"] is False
        assert "plane of 2 inputs; this network has 1 input" in view["reason"]
        assert one.setup()["ftle_unavailable"] == view["reason"]


def test_while_training_the_ftle_view_lags_within_its_time_share():
    session = Session(Settings(**SMALL))
    session.set_view(layer=3, ftle=True)
    first = session.frame(fresh=False)["ftle"]  # turned on: computed at once
    assert first["step"] == 0
    session.train(steps=2)
    session._ftle_next = time.perf_counter() + 60  # its last cost not yet paid back
    lagging = session.frame(fresh=False)["ftle"]
    assert lagging["step"] == 0 and lagging["values"] == first["values"]
    session.set_view(layer=2)  # another layer: computed at once
    assert session.frame(fresh=False)["ftle"]["layers"] == [2, 0]
    session.train(steps=1)
    session._ftle_next = 0.0  # paid back: a training frame recomputes it
    assert session.frame(fresh=False)["ftle"]["step"] == 3
    session.train(steps=1)
    session._ftle_next = time.perf_counter() + 60
    assert session.frame()["ftle"]["step"] == 4  # a fresh frame (pause, view) never lags
    with torch.no_grad():  # and its numbers are those of the network now
        _check_against_the_library(session, session.frame()["ftle"])


def test_the_socket_turns_the_ftle_view_on_and_off():
    client = TestClient(create_app(max_sessions=2, chunk_seconds=0.02,
                                   allowed_hosts=(*LOOPBACK_HOSTS, "testserver")))  # fmt: skip

    def frame(ws) -> dict:
        for _ in range(50):
            msg = json.loads(ws.receive_text())
            if msg["type"] == "frame":
                return msg
        raise AssertionError("no frame")

    with client.websocket_connect("/ws") as ws:
        ws.send_text(json.dumps({"type": "configure", "settings": SMALL}))
        assert frame(ws)["ftle"] is None
        ws.send_text(json.dumps({"type": "view", "layer": 2, "ftle": True}))
        view = frame(ws)["ftle"]
        assert view["available"] and view["layers"] == [2, 0]
        ws.send_text(json.dumps({"type": "view", "ftle": False}))
        assert frame(ws)["ftle"] is None
        ws.send_text(json.dumps({"type": "view", "ftle": "maybe"}))
        msg = json.loads(ws.receive_text())
        assert msg["type"] == "error" and "ftle" in msg["message"]
