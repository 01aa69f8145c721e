"""The playground server: FastAPI app with the static page, a small JSON API and one WebSocket
per page that drives a :class:`~deepdyn.app._session.Session`.

Training runs in a worker thread in chunks of ``chunk_seconds``; the event loop only awaits it
and sends frames, so it never blocks. ``pause`` sets the session's halt flag, so the chunk in
flight stops after its current step. The run task of a socket is cancelled when the socket
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
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deepdyn.app._data import parse_points, points_csv
from deepdyn.app._session import Diverged, Session
from deepdyn.app._settings import (
    CLASSIFICATION_SETS,
    LIMITS,
    PAGE_ONLY,
    REGRESSION_SETS,
    Settings,
    export_config,
)


class ExportRequest(BaseModel):
    """POST /api/export: the settings and the training steps done so far."""

    model_config = ConfigDict(extra="forbid")
    settings: Settings
    steps: Annotated[int, Field(ge=1, le=10**7)] = 1000


class PointsRequest(BaseModel):
    """POST /api/points: CSV text of x,y,label lines and the problem it is for."""

    model_config = ConfigDict(extra="forbid")
    csv: Annotated[str, Field(max_length=60_000)]
    problem: Literal["classification", "regression"] = "classification"


class Message(BaseModel):
    """A WebSocket message from the page."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["configure", "start", "pause", "step", "reset", "replay", "export", "view",
                  "data", "store"]  # fmt: skip
    settings: Settings | None = None
    steps: Annotated[int, Field(ge=1, le=1000)] = 10
    index: Annotated[int, Field(ge=0, le=10**6)] = 0
    layer: Annotated[int, Field(ge=0, le=100)] | None = None
    components: Annotated[list[Annotated[int, Field(ge=0, le=15)]],
                          Field(min_length=3, max_length=3)] | None = None  # fmt: skip
    ftle: bool | None = None
    csv: Annotated[str, Field(max_length=60_000)] | None = None
    points: Annotated[list[Annotated[list[float], Field(min_length=3, max_length=3)]],
                      Field(max_length=2000)] | None = None  # fmt: skip


def _what(err: Any) -> str:
    """What a pydantic error means, in the words of the page."""
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}"
    if kind == "extra_forbidden":
        return "is not a setting (GET /api/options lists them)"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "must be a whole number"
    if kind in ("float_parsing", "float_type", "finite_number"):
        return "must be a finite number"
    if kind in ("bool_parsing", "bool_type"):
        return "must be true or false"
    if kind == "missing":
        return "is missing"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "must be an object of name: value pairs"
    if kind in ("too_short", "too_long"):
        return f"must have {ctx.get('min_length', ctx.get('max_length'))} items"
    if kind == "string_too_long":
        return f"is too long (at most {ctx.get('max_length')} characters)"
    if kind == "json_invalid":
        return "is not valid JSON"
    if kind == "value_error":
        return str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return str(err.get("msg", "is invalid")).lower()


def _line(err: Any) -> str:
    """One validation error as one line: which setting, what it must be, what was given."""
    loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
    where = ".".join(loc) or ("settings" if err.get("type") == "value_error" else "message")
    got = repr(err.get("input"))
    got = got if len(got) <= 60 else got[:57] + "..."
    text = _what(err)
    if err.get("type") == "value_error":
        return text.replace("\n", " ")
    return f"{where} {text} (got {got})".replace("\n", " ")


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
        store: str | os.PathLike[str] | None = None,
    ) -> None:
        self.store = store
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
    chunk_seconds: float = 0.04,
    allowed_hosts: Iterable[str] = LOOPBACK_HOSTS,
    step_budget: float = 30.0,
    store: str | os.PathLike[str] | None = None,
) -> FastAPI:
    """The playground app. ``max_sessions``: concurrent sockets; ``snapshot_bytes``: the
    scrubber's memory per session; ``chunk_seconds``: training time between frames;
    ``allowed_hosts``: the names the ``Host`` header may carry (port aside); ``step_budget``:
    the longest a ``step`` request trains, in seconds; ``store``: the run store folder where
    the page's **store** keeps trained networks (None: storing is off)."""
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
        store=store,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        pg.executor.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="deepdyn playground", version="2", lifespan=lifespan)
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

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        svg = (static / "favicon.svg").read_bytes()
        return Response(content=svg, media_type="image/svg+xml")

    @app.get("/api/options")
    def options() -> dict[str, Any]:
        """The choices, defaults and limits of every setting: the page builds its form from
        them. ``datasets`` names the data sets of each problem; ``page_only`` the settings
        that change only the drawing."""
        schema = Settings.model_json_schema()
        return {
            "defaults": Settings().model_dump(),
            "limits": LIMITS,
            "schema": schema,
            "datasets": {
                "classification": list(CLASSIFICATION_SETS),
                "regression": list(REGRESSION_SETS),
            },
            "page_only": list(PAGE_ONLY),
            "store": pg.store is not None,
        }

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

    @app.post("/api/points")
    def points(req: PointsRequest) -> dict[str, Any]:
        """Check CSV text of x,y,label lines: the number of points, or 422 with the reason."""
        try:
            rows = parse_points(req.csv, req.problem)
        except ValueError as e:
            raise HTTPException(status_code=422, detail=str(e)) from None
        labels = sorted({int(v) for v in rows[:, 2].tolist()})
        return {"points": len(rows), "classes": labels if req.problem == "classification" else None}

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
    points: Any = None  # the user's own points (sample, 3), kept across reconfigurations
    send_lock = asyncio.Lock()

    async def send(msg: dict[str, Any]) -> None:
        async with send_lock:
            await ws.send_text(json.dumps(msg, allow_nan=False))

    async def stop() -> None:
        nonlocal runner
        if session is not None:
            session.halt.set()  # the chunk in flight ends after its current step
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner
            runner = None

    async def diverged(s: Session, e: Diverged) -> None:
        await send({"type": "error", "message": str(e),
                    "diverged": {"step": e.step, "hint": e.hint}})  # fmt: skip
        await send(await pg.call(s.current))  # where it stopped: the last finite state
        await send({"type": "state", "running": False})

    async def run(s: Session) -> None:
        while True:
            try:
                frame = await pg.call(s.advance, seconds=pg.chunk_seconds)
            except Diverged as e:
                await diverged(s, e)
                return
            except ValueError as e:
                await send({"type": "error", "message": str(e)})
                await send({"type": "state", "running": False})
                return
            if s.halt.is_set() or frame is None:
                return
            await send(frame)

    async def build(settings: Settings) -> Session:
        s = await pg.call(Session, settings, snapshot_bytes=pg.snapshot_bytes, points=points)
        await send(s.setup())
        await send(await pg.call(s.current))
        return s

    async def run_steps(s: Session, steps: int) -> None:
        """``steps`` training steps in chunks of about ``chunk_seconds`` (pause cancels between
        chunks), within ``step_budget`` seconds; then the frame (unless a pause halted it: the
        pause answers with the frame itself, so the page never gets a stale one after it)."""
        start, done, chunk = time.perf_counter(), 0, 1
        while done < steps and not s.halt.is_set():
            if time.perf_counter() - start > pg.step_budget:
                await send({"type": "error", "message": (
                    f"step stopped after {pg.step_budget:g} s at step {s.step} ({done} of "
                    f"{steps} steps): ask for fewer steps or use a smaller setting")})  # fmt: skip
                break
            clock = time.perf_counter()
            try:
                done += await pg.call(_train, s, min(chunk, steps - done))
            except Diverged as e:
                await diverged(s, e)
                return
            per_step = (time.perf_counter() - clock) / max(chunk, 1)
            chunk = max(1, int(pg.chunk_seconds / max(per_step, 1e-6)))
        frame = await pg.call(s.current)
        if not s.halt.is_set():  # paused: the pause sends where it stopped, once
            await send(frame)

    def launch(coro: Any) -> asyncio.Task[None]:
        task = asyncio.create_task(coro)
        pg.tasks.add(task)
        task.add_done_callback(pg.tasks.discard)
        return task

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
                if msg.type == "data":
                    base = msg.settings or (session.settings if session else Settings())
                    new = await pg.call(_points, msg, base.problem)
                    await stop()
                    points = new
                    settings = base.model_copy(update={"dataset": "custom"})
                    session = await build(Settings.model_validate(settings.model_dump()))
                    await send({"type": "data", "points": len(new), "csv": points_csv(new)})
                    await send({"type": "state", "running": False})
                    continue
                if session is None:
                    session = await build(msg.settings or Settings())
                if msg.type == "start" and (runner is None or runner.done()):
                    session.halt.clear()
                    runner = launch(run(session))
                    await send({"type": "state", "running": True})
                elif msg.type == "pause":
                    session.halt.set()  # training stops after the step in flight
                    await asyncio.sleep(0)
                    while session.training.is_set():
                        await asyncio.sleep(0.005)
                    await send({"type": "state", "running": False})  # stopped: say so at once
                    await stop()
                    await send(await pg.call(session.current))  # and show where it stopped
                    await send({"type": "state", "running": False})
                elif msg.type == "step" and (runner is None or runner.done()):
                    session.halt.clear()
                    runner = launch(run_steps(session, msg.steps))
                elif msg.type == "replay":
                    await send(await pg.call(_replay, session, msg.index))
                elif msg.type == "view":
                    await pg.call(_view, session, msg.layer, msg.components, msg.ftle)
                    if runner is None or runner.done():
                        await send(await pg.call(session.current))
                elif msg.type == "export":
                    await send({"type": "export", **export_config(session.settings, session.step)})
                elif msg.type == "store":
                    if pg.store is None:
                        raise ValueError("storing is off: start the playground with --store FOLDER")
                    stored = await pg.call(_store, session, pg.store)
                    await send({"type": "stored", **stored})
            except ValueError as e:
                await send({"type": "error", "message": str(e)})
    except WebSocketDisconnect:
        pass
    finally:
        await stop()


def _points(msg: Message, problem: str) -> Any:
    """The points of a ``data`` message: CSV text or [x, y, label] rows."""
    if msg.csv is not None:
        return parse_points(msg.csv, problem)
    rows = msg.points or []
    return parse_points("\n".join(",".join(repr(v) for v in row) for row in rows), problem)


def _view(
    s: Session, layer: int | None, components: list[int] | None, ftle: bool | None = None
) -> None:
    with s.lock:
        s.set_view(layer, components, ftle)


def _store(s: Session, path: Any) -> dict[str, Any]:
    from deepdyn.app._store import store_session

    with s.lock:
        return store_session(s, path)


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
