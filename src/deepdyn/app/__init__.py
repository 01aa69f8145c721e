"""The playground: a FastAPI + WebSocket server and a static canvas page that show, live, how
each layer of a network moves the plane (thesis §7.1, eq. 3.8) while it trains.

``create_app`` builds the ASGI app; ``playground`` serves it (the ``deepdyn playground``
command); ``Settings`` are the validated settings of a page; ``Session`` trains one network
and computes the arrays of the views.

Only ``playground`` and ``playground_command`` load eagerly: the ``deepdyn`` command imports
this package, and FastAPI, pydantic and the session load when a name that needs them is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from deepdyn.app._cli import playground, playground_command

if TYPE_CHECKING:
    from deepdyn.app._server import create_app
    from deepdyn.app._session import Session, decode, encode
    from deepdyn.app._settings import LIMITS, Settings, export_config, network_spec

_LAZY = {
    "create_app": "_server",
    "Session": "_session",
    "decode": "_session",
    "encode": "_session",
    "LIMITS": "_settings",
    "Settings": "_settings",
    "export_config": "_settings",
    "network_spec": "_settings",
}

__all__ = [
    "LIMITS",
    "Session",
    "Settings",
    "create_app",
    "decode",
    "encode",
    "export_config",
    "network_spec",
    "playground",
    "playground_command",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
