"""``deepdyn playground``: serve the playground with uvicorn (127.0.0.1 unless told otherwise)."""

from __future__ import annotations

import socket
import sys
import threading
import webbrowser
from typing import Annotated

import typer


def playground(host: str = "127.0.0.1", port: int = 8765, open_browser: bool = False) -> None:
    """Serve the playground at http://host:port until interrupted; ``open_browser`` opens it.

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
    url = f"http://{host}:{port}/"
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(create_app(allowed_hosts=allowed), host=host, port=port, log_level="warning")


def playground_command(
    host: Annotated[str, typer.Option(help="Address to bind; 127.0.0.1 keeps it local.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8765,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the page in the default browser.")
    ] = False,
) -> None:
    """Watch a network deform the plane, live, in the browser."""
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"deepdyn playground on http://{shown}:{port}  (Ctrl-C stops it)")
    playground(host=host, port=port, open_browser=open_browser)
