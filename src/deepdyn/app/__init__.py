"""The playground: a FastAPI + WebSocket server and a static canvas page that show, live, how
each layer of a network moves the plane (thesis §7.1, eq. 3.8) while it trains.

``create_app`` builds the ASGI app; ``playground`` serves it (the ``deepdyn playground``
command); ``Settings`` are the validated settings of a page; ``Session`` trains one network
and computes the arrays of the views; ``training_data`` builds a page's data (what the
exported Python snippet calls), ``read_points`` / ``parse_points`` read own points from CSV,
``l1_penalty`` is the L1 regularizer, ``store_session`` keeps a page's network in a run store.

Only ``playground`` and ``playground_command`` load eagerly: the ``deepdyn`` command imports
this package, and FastAPI, pydantic and the session load when a name that needs them is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from deepdyn.app._cli import playground, playground_command

if TYPE_CHECKING:
    from deepdyn.app._data import l1_penalty, parse_points, read_points, training_data
    from deepdyn.app._server import create_app
    from deepdyn.app._session import Session, decode, encode
    from deepdyn.app._settings import LIMITS, Settings, export_config, network_spec
    from deepdyn.app._store import store_session

_LAZY = {
    "create_app": "_server",
    "Session": "_session",
    "decode": "_session",
    "encode": "_session",
    "LIMITS": "_settings",
    "Settings": "_settings",
    "export_config": "_settings",
    "network_spec": "_settings",
    "l1_penalty": "_data",
    "parse_points": "_data",
    "read_points": "_data",
    "training_data": "_data",
    "store_session": "_store",
}

__all__ = [
    "LIMITS",
    "Session",
    "Settings",
    "create_app",
    "decode",
    "encode",
    "export_config",
    "l1_penalty",
    "network_spec",
    "parse_points",
    "playground",
    "playground_command",
    "read_points",
    "store_session",
    "training_data",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
