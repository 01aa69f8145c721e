"""The playground server: FastAPI app with the static page, a small JSON API and one WebSocket
per page that drives a :class:`~deepdyn.app._session.Session` (issue 7).

Training runs in a worker thread in chunks of ``chunk_seconds``; the event loop only awaits it
and sends frames, so it never blocks. The run task of a socket is cancelled when the socket
closes. At most ``max_sessions`` sockets are served at once (each with a bounded snapshot
memory); a further one is closed with code 1013 and a message. No file access, no pickle, no
eval: messages are JSON, validated by pydantic.

Hostile input gets an error message and the socket stays open: binary frames, messages over
``MAX_MESSAGE_CHARS``, JSON nested too deeply. Requests must name an allowed host (loopback names
unless ``allowed_hosts`` adds others), so a page on another domain that rebinds its DNS to
127.0.0.1 cannot drive the server. A ``step`` request trains in chunks as a task, so ``pause``
stops it after the chunk in flight, and it is stopped with a message after ``step_budget`` s.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import time
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import FastAPI, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deepdyn.app._session import Session
from deepdyn.app._settings import LIMITS, Settings, export_config


class ExportRequest(BaseModel):
    """POST /api/export: the settings and the training steps done so far."""

    model_config = ConfigDict(extra="forbid")
    settings: Settings
    steps: Annotated[int, Field(ge=1, le=10**7)] = 1000


class Message(BaseModel):
    """A WebSocket message from the page."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["configure", "start", "pause", "step", "reset", "replay", "export"]
    settings: Settings | None = None
    steps: Annotated[int, Field(ge=1, le=1000)] = 10
    index: Annotated[int, Field(ge=0, le=10**6)] = 0


def _line(err: Any) -> str:
    """One pydantic error as one line: where, what (with the valid range), what was given."""
    where = ".".join(str(p) for p in err.get("loc", ())) or "message"
    got = repr(err.get("input"))
    got = got if len(got) <= 80 else got[:77] + "..."
    return f"{where}: {err.get('msg', 'invalid')} (got {got})".replace("\n", " ")


def _error_line(e: ValidationError) -> str:
    """The first error of a failed validation as one line."""
    return _line(e.errors()[0])


MAX_MESSAGE_CHARS = 64 * 1024
"""The longest WebSocket message read (a configure message is well under 2 KiB)."""
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def host_name(header: str | None) -> str:
    """The host of a ``Host`` header without its port, lower case (``[::1]:80`` → ``::1``)."""
    text = (header or "").strip().lower()
    if text.startswith("["):
        return text[1 : text.find("]")] if "]" in text else text
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


def _refused_host(header: str | None) -> str:
    return (
        f"host {header!r} refused: open the page as http://127.0.0.1:PORT/ "
        "(or start the playground with --host NAME for the name you use)"
    )


class Playground:
    """State shared by the app: the live sessions and the limits."""

    def __init__(
        self,
        *,
        max_sessions: int,
        snapshot_bytes: int,
        chunk_seconds: float,
        allowed_hosts: Iterable[str] = LOOPBACK_HOSTS,
        step_budget: float = 30.0,
    ) -> None:
        self.max_sessions = max_sessions
        self.snapshot_bytes = snapshot_bytes
        self.chunk_seconds = chunk_seconds
        self.allowed_hosts = {host_name(h) for h in allowed_hosts}
        self.step_budget = step_budget
        self.active = 0
        self.tasks: set[asyncio.Task[None]] = set()
        # as many workers as cores: more threads only fight over the GIL
        self.executor = ThreadPoolExecutor(max_workers=max(os.cpu_count() or 1, 1),
                                           thread_name_prefix="playground")  # fmt: skip

    async def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` on a worker thread; the event loop stays free."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))


def create_app(
    *,
    max_sessions: int = 16,
    snapshot_bytes: int = 8 * 2**20,
    chunk_seconds: float = 0.05,
    allowed_hosts: Iterable[str] = LOOPBACK_HOSTS,
    step_budget: float = 30.0,
) -> FastAPI:
    """The playground app. ``max_sessions``: concurrent sockets; ``snapshot_bytes``: the
    scrubber's memory per session; ``chunk_seconds``: training time between frames;
    ``allowed_hosts``: the names the ``Host`` header may carry (port aside); ``step_budget``:
    the longest a ``step`` request trains, in seconds."""
    if not 1 <= max_sessions <= 1000:
        raise ValueError(f"max_sessions must be in 1 … 1000, got {max_sessions}")
    if not 0.001 <= chunk_seconds <= 5:
        raise ValueError(f"chunk_seconds must be in 0.001 … 5, got {chunk_seconds}")
    if not 0 < step_budget <= 3600:
        raise ValueError(f"step_budget must be in (0, 3600] seconds, got {step_budget}")
    pg = Playground(
        max_sessions=max_sessions,
        snapshot_bytes=snapshot_bytes,
        chunk_seconds=chunk_seconds,
        allowed_hosts=allowed_hosts,
        step_budget=step_budget,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        pg.executor.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="deepdyn playground", version="1", lifespan=lifespan)
    app.state.playground = pg

    @app.middleware("http")
    async def trusted_host(request: Request, call_next: Callable[..., Any]) -> Any:
        header = request.headers.get("host")
        if host_name(header) not in pg.allowed_hosts:  # DNS rebinding: refuse foreign names
            return JSONResponse(status_code=400, content={"detail": _refused_host(header)})
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, e: RequestValidationError) -> JSONResponse:
        # one line per error; the input is echoed as text (it may hold NaN or inf)
        lines = [_line(err) for err in e.errors()]
        detail = lines[0] if lines else "invalid request"
        return JSONResponse(status_code=422, content={"detail": detail, "errors": lines})

    static = resources.files("deepdyn.app") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return (static / "index.html").read_text(encoding="utf-8")

    @app.get("/api/options")
    def options() -> dict[str, Any]:
        """The choices, defaults and limits of every setting."""
        schema = Settings.model_json_schema()
        return {"defaults": Settings().model_dump(), "limits": LIMITS, "schema": schema}

    @app.get("/api/health")
    def health() -> dict[str, int]:
        return {"sessions": pg.active, "max_sessions": pg.max_sessions, "tasks": len(pg.tasks)}

    @app.post("/api/validate")
    def validate(settings: Settings) -> dict[str, Any]:
        """Echo valid settings (422 with the reason otherwise)."""
        return settings.model_dump()

    @app.post("/api/export")
    def export(req: ExportRequest) -> dict[str, Any]:
        """The settings as a ``train`` catalogue config that ``deepdyn run`` replays."""
        try:
            return export_config(req.settings, req.steps)
        except ValueError as e:
            raise HTTPException(status_code=422, detail=str(e)) from None

    @app.websocket("/ws")
    async def socket(ws: WebSocket) -> None:
        await ws.accept()
        header = ws.headers.get("host")
        if host_name(header) not in pg.allowed_hosts:
            await ws.send_json({"type": "error", "message": _refused_host(header)})
            await ws.close(code=1008)
            return
        origin = ws.headers.get("origin")
        if origin is not None and urlsplit(origin).netloc != ws.headers.get("host"):
            # another site's page in the user's browser may not drive this server
            await ws.send_json({"type": "error", "message": (
                f"origin {origin} refused: open the page from this server")})  # fmt: skip
            await ws.close(code=1008)
            return
        if pg.active >= pg.max_sessions:
            full = f"too many sessions ({pg.max_sessions} open): close another tab and reload"
            await ws.send_json({"type": "error", "message": full})
            await ws.close(code=1013)
            return
        pg.active += 1
        try:
            await _serve(ws, pg)
        finally:
            pg.active -= 1

    return app


async def _serve(ws: WebSocket, pg: Playground) -> None:
    """The message loop of one socket; the run task is cancelled when it ends."""
    session: Session | None = None
    runner: asyncio.Task[None] | None = None
    send_lock = asyncio.Lock()

    async def send(msg: dict[str, Any]) -> None:
        async with send_lock:
            await ws.send_text(json.dumps(msg, allow_nan=False))

    async def stop() -> None:
        nonlocal runner
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner
            runner = None

    async def run(s: Session) -> None:
        while True:
            try:
                frame = await pg.call(s.advance, seconds=pg.chunk_seconds)
            except ValueError as e:
                await send({"type": "error", "message": str(e)})
                await send({"type": "state", "running": False})
                return
            await send(frame)

    async def build(settings: Settings) -> Session:
        s = await pg.call(Session, settings, snapshot_bytes=pg.snapshot_bytes)
        await send(s.setup())
        await send(await pg.call(s.current))
        return s

    async def run_steps(s: Session, steps: int) -> None:
        """``steps`` training steps in chunks of about ``chunk_seconds`` (pause cancels between
        chunks), within ``step_budget`` seconds; then the frame."""
        start, done, chunk = time.perf_counter(), 0, 1
        while done < steps:
            if time.perf_counter() - start > pg.step_budget:
                await send({"type": "error", "message": (
                    f"step stopped after {pg.step_budget:g} s at step {s.step} ({done} of "
                    f"{steps} steps): ask for fewer steps or use a smaller setting")})  # fmt: skip
                break
            clock = time.perf_counter()
            done += await pg.call(_train, s, min(chunk, steps - done))
            per_step = (time.perf_counter() - clock) / max(chunk, 1)
            chunk = max(1, int(pg.chunk_seconds / max(per_step, 1e-6)))
        await send(await pg.call(s.current))

    try:
        while True:
            text = await _receive(ws)
            if text is None:
                await send({"type": "error", "message": (
                    "bad message: binary frames are not accepted: send JSON text")})  # fmt: skip
                continue
            if len(text) > MAX_MESSAGE_CHARS:
                await send({"type": "error", "message": (
                    f"bad message: {len(text)} characters, at most {MAX_MESSAGE_CHARS}: "
                    "send only the settings that change")})  # fmt: skip
                continue
            try:
                msg = Message.model_validate(json.loads(text))
            except RecursionError:
                await send({"type": "error", "message": "bad message: JSON nested too deeply"})
                continue
            except (ValueError, TypeError) as e:
                line = _error_line(e) if isinstance(e, ValidationError) else f"not JSON: {e}"
                await send({"type": "error", "message": f"bad message: {line}"})
                continue
            try:
                if msg.type in ("configure", "reset"):
                    await stop()
                    settings = msg.settings or (session.settings if session else Settings())
                    session = await build(settings)
                    await send({"type": "state", "running": False})
                    continue
                if session is None:
                    session = await build(msg.settings or Settings())
                if msg.type == "start" and (runner is None or runner.done()):
                    runner = asyncio.create_task(run(session))
                    pg.tasks.add(runner)
                    runner.add_done_callback(pg.tasks.discard)
                    await send({"type": "state", "running": True})
                elif msg.type == "pause":
                    await stop()  # the chunk in flight finishes: show where training stopped
                    await send(await pg.call(session.current))
                    await send({"type": "state", "running": False})
                elif msg.type == "step" and (runner is None or runner.done()):
                    runner = asyncio.create_task(run_steps(session, msg.steps))
                    pg.tasks.add(runner)
                    runner.add_done_callback(pg.tasks.discard)
                elif msg.type == "replay":
                    await send(await pg.call(_replay, session, msg.index))
                elif msg.type == "export":
                    await send({"type": "export", **export_config(session.settings, session.step)})
            except ValueError as e:
                await send({"type": "error", "message": str(e)})
    except WebSocketDisconnect:
        pass
    finally:
        await stop()


async def _receive(ws: WebSocket) -> str | None:
    """The next text message; None for a binary frame; WebSocketDisconnect when closed."""
    message = await ws.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text = message.get("text")
    return text if isinstance(text, str) else None


def _train(s: Session, steps: int) -> int:
    with s.lock:
        return s.train(steps=steps)


def _replay(s: Session, index: int) -> dict[str, Any]:
    with s.lock:
        return s.replay(index)
