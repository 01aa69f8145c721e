"""The playground: a FastAPI + WebSocket server and a static canvas page that show, live, how
each layer of a network moves the plane (thesis §7.1, eq. 3.8) while it trains.

``create_app`` builds the ASGI app; ``playground`` serves it (the ``deepdyn playground``
command); ``Settings`` are the validated settings of a page; ``Session`` trains one network
and computes the arrays of the views.
"""

from deepdyn.app._cli import playground, playground_command
from deepdyn.app._server import create_app
from deepdyn.app._session import Session, decode, encode
from deepdyn.app._settings import LIMITS, Settings, export_config, network_spec

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
