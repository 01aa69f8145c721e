"""``deepdyn playground``: serve the playground with uvicorn (127.0.0.1 unless told otherwise)."""

from __future__ import annotations

import socket
import sys
import threading
import webbrowser
from typing import Annotated

import typer


def playground(
    host: str = "127.0.0.1",
    port: int = 8765,
    open_browser: bool = False,
    store: str | None = None,
) -> None:
    """Serve the playground at http://host:port until interrupted; ``open_browser`` opens it;
    ``store``: the run store folder where the page's **store network** keeps networks.

    Raises:
        ValueError: ``port`` is not in 1 … 65535, or ``host`` is empty.
    """
    import uvicorn

    from deepdyn.app._server import create_app

    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"port must be an integer in 1 … 65535, got {port!r}: e.g. --port 8765")
    if not isinstance(host, str) or not host:
        raise ValueError("host must be a name or address, got an empty value: e.g. 127.0.0.1")
    from deepdyn.app._server import LOOPBACK_HOSTS, host_name

    allowed = list(LOOPBACK_HOSTS)
    if host_name(host) not in LOOPBACK_HOSTS:
        # anyone who can reach the port can drive training on this machine: say so
        print(
            f"warning: --host {host} serves the playground beyond this machine: anyone who can "
            f"reach port {port} can run training here; use --host 127.0.0.1 to keep it local",
            file=sys.stderr,
        )
        if host in ("0.0.0.0", "::", ""):  # every interface: this machine's names
            allowed += [socket.gethostname(), socket.getfqdn()]
        else:
            allowed.append(host)
    from deepdyn._threads import apply as apply_threads

    apply_threads()  # small networks train faster on one torch thread (docs/performance.md)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    print(f"deepdyn playground on {url.rstrip('/')}  (Ctrl-C stops it)", flush=True)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    app = create_app(allowed_hosts=allowed, store=store)
    # no permessage-deflate: compressing megabytes of base64 floats per frame costs more CPU
    # than the loopback bytes it saves
    uvicorn.run(app, host=host, port=port, log_level="warning", ws_per_message_deflate=False)


def playground_command(
    host: Annotated[str, typer.Option(help="Address to bind; 127.0.0.1 keeps it local.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8765,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the page in the default browser.")
    ] = False,
    store: Annotated[
        str,
        typer.Option("--store", envvar="DEEPDYN_STORE", help="Run store for 'store network'."),
    ] = "deepdyn-runs",
) -> None:
    """Watch a network deform the plane, live, in the browser."""
    playground(host=host, port=port, open_browser=open_browser, store=store)
