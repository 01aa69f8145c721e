"""Measuring the playground as a user sees it: a server in a background thread and WebSocket
clients that train, count the frames they receive and time a pause (used by the load test and
benchmarks/playground.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn
from fastapi import FastAPI


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that is free now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def background_server(app: FastAPI, *, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``app`` with uvicorn in a daemon thread; yields its base URL, stops it on exit."""
    port = free_port(host)
    # no permessage-deflate: compressing megabytes of base64 floats costs more than it saves
    config = uvicorn.Config(
        app, host=host, port=port, log_level="error", ws_per_message_deflate=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the playground server did not start on {host}:{port}")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def rss_bytes() -> int:
    """Resident memory of this process (Linux /proc), 0 where unavailable."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


async def _client(
    url: str,
    settings: dict[str, Any],
    seconds: float,
    pause: bool = False,
    view: dict[str, Any] | None = None,
) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    frames, first_step, last_step, errors = 0, None, 0, []
    paused: dict[str, float] = {}
    gaps: list[float] = []
    t_first = t_last = 0.0
    ftle_frames = ftle_fresh = 0  # frames with an FTLE field, and those of the frame's step
    async with connect(url.replace("http", "ws", 1) + "/ws", max_size=2**26) as ws:
        await ws.send(json.dumps({"type": "configure", "settings": settings}))
        if view is not None:
            await ws.send(json.dumps({"type": "view", **view}))
        await ws.send(json.dumps({"type": "start"}))
        start = last = time.perf_counter()
        while (now := time.perf_counter()) - start < seconds:
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=seconds - (now - start))
            except TimeoutError:
                break
            msg = json.loads(raw)
            if msg["type"] == "error":
                errors.append(msg["message"])
            if msg["type"] != "frame" or msg["replay"]:
                continue
            t = time.perf_counter()
            if msg["step"] > 0:  # live training frames only
                frames += 1
                if frames == 1:
                    t_first = t
                else:
                    gaps.append(t - last)
                t_last = t
                first_step = msg["step"] if first_step is None else first_step
                last_step = msg["step"]
                ftle = msg.get("ftle") or {}
                if ftle.get("available"):
                    ftle_frames += 1
                    ftle_fresh += ftle["step"] == msg["step"]
            last = t
        elapsed = time.perf_counter() - start
        if pause:  # time the pause: until training stopped (state) and its frame arrived
            sent = time.perf_counter()
            await ws.send(json.dumps({"type": "pause"}))
            while "frame" not in paused:
                msg = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
                now = time.perf_counter() - sent
                if msg["type"] == "state" and not msg["running"]:
                    paused.setdefault("stopped", now)
                if msg["type"] == "frame" and "stopped" in paused:
                    paused["frame"] = now
                    paused["step"] = msg["step"]
            await asyncio.sleep(0.3)  # no training frame may follow the pause
            with contextlib.suppress(TimeoutError):
                while True:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), timeout=0.3))
                    if msg["type"] == "frame" and msg["step"] != paused["step"]:
                        errors.append(f"a frame of step {msg['step']} after the pause")
    out: dict[str, Any] = {
        "frames": frames,
        "rate": (frames - 1) / (t_last - t_first) if frames > 1 else 0.0,
        "elapsed": elapsed,
        "max_gap": max(gaps, default=float("inf")),
        "steps": last_step,
        "errors": errors,
    }
    if view is not None:
        out["ftle_frames"], out["ftle_fresh"] = ftle_frames, ftle_fresh
    if pause:
        out["pause_seconds"] = paused["stopped"]
        out["pause_frame_seconds"] = paused["frame"]
    return out


def measure(url: str, settings: dict[str, Any], *, sessions: int = 1, seconds: float = 5.0,
            pause: bool = False, view: dict[str, Any] | None = None
            ) -> list[dict[str, Any]]:  # fmt: skip
    """Open ``sessions`` sockets at once, each training ``settings`` for ``seconds``; per
    session: live frames received, frames per second (between the first and the last live
    frame), the longest gap between frames (s), the last training step and any error
    messages; with ``pause``, then a pause: the seconds until the server says training
    stopped (``pause_seconds``) and until the frame of the stopped state arrived
    (``pause_frame_seconds``). ``view``: a ``view`` message sent before training (e.g.
    ``{"ftle": True}``); then also the live frames with an FTLE field (``ftle_frames``) and
    those whose field is of the frame's own step (``ftle_fresh``)."""

    async def all_clients() -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(_client(url, settings, seconds, pause, view)
                                           for _ in range(sessions))))  # fmt: skip

    return asyncio.run(all_clients())
