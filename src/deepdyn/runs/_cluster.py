"""Connecting to a Dask scheduler: a checked address, a bounded handshake, optional TLS.

``distributed.Client`` bounds the TCP connect by its ``timeout`` but not the handshake after it:
a port that accepts connections and never answers hangs ``Client.start`` for ever. ``connect``
first asks the scheduler for its identity over one comm, the whole exchange inside
``asyncio.wait_for``; only a scheduler that answered gets a Client.

A cluster runs what it is sent (tasks are pickles, both ways): connect only to a scheduler you
trust, over ``tls://`` with certificates (``security``) off a private network.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

_EXAMPLE = "tcp://127.0.0.1:8786"


def check_address(address: Any) -> str:
    """``address`` if it looks like ``tcp://HOST:PORT`` or ``tls://HOST:PORT``; else ValueError."""
    if not isinstance(address, str) or not address.startswith(("tcp://", "tls://")):
        raise ValueError(
            f'cluster address "{address}" invalid: give the scheduler as tcp://HOST:PORT '
            f"(e.g. {_EXAMPLE}) or tls://HOST:PORT"
        )
    try:
        parts = urlsplit(address)
        port = parts.port
    except ValueError:
        port, parts = None, None
    if parts is None or not parts.hostname or port is None:
        raise ValueError(
            f'cluster address "{address}" has no host or port: give the scheduler as '
            f"{address.split('://')[0]}://HOST:PORT, e.g. {_EXAMPLE}"
        )
    return address


def security(
    ca_file: Path | str | None = None,
    cert: Path | str | None = None,
    key: Path | str | None = None,
) -> Any:
    """A ``distributed.Security`` for TLS from PEM files (None when none is given).

    ``ca_file`` is the certificate authority that signed the scheduler's certificate; ``cert``
    and ``key`` are this client's (``key`` may be left out when ``cert`` holds both).
    """
    if ca_file is None and cert is None and key is None:
        return None
    if ca_file is None or cert is None:
        raise ValueError("TLS needs both --tls-ca-file and --tls-cert (and --tls-key if separate)")
    for name, path in (("--tls-ca-file", ca_file), ("--tls-cert", cert), ("--tls-key", key)):
        if path is not None and not Path(path).is_file():
            raise ValueError(f'{name} "{path}" is not a file: give the PEM file')
    from distributed.security import Security

    return Security(
        tls_ca_file=str(ca_file),
        tls_client_cert=str(cert),
        tls_client_key=None if key is None else str(key),
        require_encryption=True,
    )


async def _identity(address: str, timeout: float, connection_args: dict[str, Any]) -> None:
    from distributed.comm import connect as comm_connect

    # the TCP connect gets half the time: a closed port fails as unreachable, a port that
    # accepts and never answers runs into the outer deadline
    comm = await comm_connect(address, timeout=timeout / 2, **connection_args)
    try:
        await comm.write({"op": "identity", "reply": True})
        reply = await comm.read()
    finally:
        comm.abort()
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise OSError(f"the peer is not a Dask scheduler (it answered {str(reply)[:60]!r})")


def probe(address: str, *, timeout: float = 10.0, security: Any = None) -> None:
    """Ask the scheduler at ``address`` who it is, all within ``timeout`` seconds; one-line
    ValueError (with what to do) when nothing (or not a scheduler) answers in time."""
    address = check_address(address)
    if address.startswith("tls://") and security is None:
        raise ValueError(
            f"cluster {address} uses TLS: pass --tls-ca-file and --tls-cert "
            "(the scheduler's CA and this client's certificate)"
        )
    args = {} if security is None else security.get_connection_args("client")
    try:
        asyncio.run(asyncio.wait_for(_identity(address, timeout, args), timeout))
    except TimeoutError:
        raise ValueError(
            f"cluster {address} did not answer within {timeout:g} s (something listens there, "
            "but not a Dask scheduler that speaks to us): check the address, or drop --cluster"
        ) from None
    except (OSError, ValueError, TypeError) as error:
        text = " ".join(str(error).split())[:120] or type(error).__name__
        raise ValueError(
            f"cluster {address} unreachable ({text}): start a scheduler there "
            "(dask scheduler) or drop --cluster to use local workers"
        ) from None


def connect(address: str, timeout: float = 10.0, *, security: Any = None) -> Any:
    """A ``distributed.Client`` on the scheduler ``address``, after a bounded ``probe``."""
    probe(address, timeout=timeout, security=security)
    from distributed import Client

    try:
        return Client(address, timeout=timeout, set_as_default=False, security=security)
    except (OSError, TimeoutError) as error:
        raise ValueError(
            f"cluster {address} unreachable ({' '.join(str(error).split())[:120]}): start a "
            "scheduler there (dask scheduler) or drop --cluster to use local workers"
        ) from None
