"""Fuzzing the playground: HTTP bodies generated from the app's OpenAPI schema and malformed
WebSocket messages. The property: no 5xx, no crash, a one-line error, the server keeps serving."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepdyn.app import Settings, create_app
from deepdyn.app._server import LOOPBACK_HOSTS

APP = create_app(max_sessions=4, chunk_seconds=0.01, allowed_hosts=(*LOOPBACK_HOSTS, "testserver"))
CLIENT = TestClient(APP, raise_server_exceptions=False)
SCHEMA = CLIENT.get("/openapi.json").json()
PROPS = SCHEMA["components"]["schemas"]["Settings"]["properties"]  # the published schema
FIELDS = list(PROPS)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.integers(-5, 40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
)
junk = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def _field_value(name: str) -> st.SearchStrategy[Any]:
    """Valid-looking values of a setting (enum members, numbers near the limits) or junk."""
    prop = PROPS[name]
    options: list[st.SearchStrategy[Any]] = [junk]
    if "enum" in prop:
        options.append(st.sampled_from(prop["enum"]))
    for bound in ("minimum", "maximum"):
        if bound in prop:
            b = prop[bound]
            options.append(st.sampled_from([b, b - 1, b + 1, b * 10, -b]))
    return st.one_of(options)


settings_bodies = st.fixed_dictionaries(
    {}, optional={name: _field_value(name) for name in FIELDS}
) | st.dictionaries(st.text(max_size=6), junk, max_size=4)


def _post(path: str, body: Any) -> Any:
    """POST ``body`` as JSON text; NaN and Infinity travel as the literals Python writes."""
    return CLIENT.post(path, content=json.dumps(body), headers={"content-type": "application/json"})


def test_the_schema_lists_the_fuzzed_endpoints():
    assert set(FIELDS) == set(Settings.model_fields)
    assert {"/api/validate", "/api/export", "/api/options", "/api/health"} <= set(SCHEMA["paths"])


@settings(max_examples=150, deadline=None)
@given(body=settings_bodies)
def test_validate_never_answers_5xx(body):
    r = _post("/api/validate", body)
    assert r.status_code in (200, 422), (body, r.text)
    if r.status_code == 200:
        assert Settings(**r.json()) == Settings(**body)
    else:
        assert r.json()["detail"]


@settings(max_examples=100, deadline=None)
@given(body=settings_bodies, steps=junk | st.integers(-5, 10**8))
def test_export_never_answers_5xx(body, steps):
    r = _post("/api/export", {"settings": body, "steps": steps})
    assert r.status_code in (200, 422), (body, steps, r.text)


@settings(max_examples=60, deadline=None)
@given(
    raw=st.binary(max_size=64),
    path=st.sampled_from(["/api/validate", "/api/export"]),
    ctype=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded"]),
)
def test_raw_bodies_never_answer_5xx(raw, path, ctype):
    r = CLIENT.post(path, content=raw, headers={"content-type": ctype})
    assert 400 <= r.status_code < 500


@settings(max_examples=60, deadline=None)
@given(
    path=st.sampled_from(
        [*SCHEMA["paths"], "/static/x", "/static/../../etc/passwd", "/nope", "/ws"]
    ),
    query=st.dictionaries(st.text(min_size=1, max_size=4), st.text(max_size=4), max_size=2),
)
def test_get_anything_never_answers_5xx(path, query):
    r = CLIENT.get(path, params=query)
    assert r.status_code < 500 and r.status_code in (200, 404, 405, 400)
    if "passwd" in path:
        assert "root:" not in r.text


message = st.one_of(
    st.text(max_size=20),
    junk.map(json.dumps),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["configure", "start", "pause", "step", "reset", "replay",
                                  "export", "launch", ""]) | junk},
        optional={"settings": settings_bodies | junk, "steps": junk, "index": junk, "x": junk},
    ).map(json.dumps),
)  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages=st.lists(message, min_size=1, max_size=6))
def test_malformed_websocket_messages_never_crash_the_server(messages):
    with CLIENT.websocket_connect("/ws") as ws:
        for text in messages:
            ws.send_text(text)
        ws.send_text(json.dumps({"type": "pause"}))
        ws.send_text(json.dumps({"type": "configure", "settings": {"points": 20, "depth": 2}}))
        for _ in range(200):  # drain: the socket still answers, with a fresh session
            msg = json.loads(ws.receive_text())
            assert msg["type"] in ("setup", "frame", "state", "error", "export")
            if msg["type"] == "error":
                assert msg["message"] and "\n" not in msg["message"]
            if msg["type"] == "setup" and msg["settings"]["points"] == 20:
                break
        else:
            pytest.fail("no setup after the configure message")
    assert CLIENT.get("/api/health").json()["sessions"] == 0
