"""The playground under abuse (issue 17, item 7): binary frames, deep and huge JSON, a DNS
rebinding Host header, a 1000-step request paused or over budget, a non-loopback bind."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from deepdyn.app import Settings, create_app
from deepdyn.app._server import LOOPBACK_HOSTS, MAX_MESSAGE_CHARS

HOSTS = (*LOOPBACK_HOSTS, "testserver")  # TestClient's server name
ROOT = Path(__file__).resolve().parents[1]


def _until(ws, kind: str, limit: int = 100) -> dict:
    for _ in range(limit):
        msg = json.loads(ws.receive_text())
        if msg["type"] == kind:
            return msg
    raise AssertionError(f"no {kind} message in {limit}")


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_app(max_sessions=2, chunk_seconds=0.02, allowed_hosts=HOSTS))


def test_binary_deep_and_huge_messages_get_an_error_and_keep_the_session(client):
    with client.websocket_connect("/ws") as ws:
        ws.send_bytes(b"\x00\x01binary")
        assert "binary frames are not accepted" in _until(ws, "error")["message"]
        ws.send_text("[" * 100_000 + "]" * 100_000)
        message = _until(ws, "error")["message"]
        assert "at most" in message or "nested too deeply" in message
        ws.send_text("[" * 20_000 + "]" * 20_000)  # under the size limit, still too deep
        assert "nested too deeply" in _until(ws, "error")["message"]
        ws.send_text(json.dumps({"type": "step", "steps": 1, "pad": "x" * MAX_MESSAGE_CHARS}))
        assert f"at most {MAX_MESSAGE_CHARS}" in _until(ws, "error")["message"]
        ws.send_text(json.dumps({"type": "step", "steps": 2}))  # the socket still serves
        frame = _until(ws, "frame")
        while frame["step"] != 2:
            frame = _until(ws, "frame")


def test_a_rebinding_host_header_is_refused_over_http_and_websocket():
    client = TestClient(create_app(), base_url="http://evil.example:8798")
    r = client.get("/api/options", headers={"host": "evil.example:8798"})
    assert r.status_code == 400 and "host 'evil.example:8798' refused" in r.json()["detail"]
    headers = {"host": "evil.example:8798", "origin": "http://evil.example:8798"}
    with client.websocket_connect("/ws", headers=headers) as ws:
        assert "refused" in _until(ws, "error")["message"]
    for host in ("127.0.0.1:8765", "localhost:8765", "[::1]:8765"):
        assert client.get("/api/health", headers={"host": host}).status_code == 200, host


def test_a_1000_step_request_is_paused(client):
    s = Settings(dataset="rings", width=8, depth=12, points=400, resolution=24)
    with client.websocket_connect("/ws") as ws:
        ws.send_text(json.dumps({"type": "configure", "settings": s.model_dump()}))
        _until(ws, "frame")
        ws.send_text(json.dumps({"type": "step", "steps": 1000}))
        ws.send_text(json.dumps({"type": "pause"}))
        frame = _until(ws, "frame")
        assert frame["step"] < 1000  # stopped between chunks, not after all 1000 steps
        assert _until(ws, "state")["running"] is False
        ws.send_text(json.dumps({"type": "step", "steps": 3}))  # and it serves the next request
        after = _until(ws, "frame")
        assert after["step"] == frame["step"] + 3


def test_a_step_request_over_its_budget_is_stopped_with_a_message():
    client = TestClient(create_app(chunk_seconds=0.01, step_budget=0.05, allowed_hosts=HOSTS))
    s = Settings(dataset="rings", width=8, depth=12, points=400, resolution=24)
    with client.websocket_connect("/ws") as ws:
        ws.send_text(json.dumps({"type": "configure", "settings": s.model_dump()}))
        _until(ws, "frame")
        ws.send_text(json.dumps({"type": "step", "steps": 1000}))
        error = _until(ws, "error")["message"]
        assert error.startswith("step stopped after 0.05 s at step") and "of 1000 steps" in error
        assert _until(ws, "frame")["step"] < 1000


def test_binding_a_non_loopback_address_warns(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    command = [sys.executable, "-m", "deepdyn", "playground", "--host", "0.0.0.0"]
    process = subprocess.Popen(
        [*command, "--port", str(port)], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        line = process.stderr.readline()  # the warning comes before the server starts
    finally:
        process.kill()
        process.wait()
    assert line.startswith("warning: --host 0.0.0.0 serves the playground beyond this machine")
