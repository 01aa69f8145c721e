"""Memory budget: refuse, in one line, what cannot fit before torch tries to allocate it.

``--set width=10000000`` once reached the allocator ("you tried to allocate 800000000000000
bytes", a traceback; without a memory cap such a request can take the machine down). Builders
and data generators call :func:`check` with their estimate first. The limit is the smallest of
the memory Linux says is available (``MemAvailable``), the cgroup's ``memory.max`` less what it
uses, and the address-space limit (``ulimit -v``) less this process's size; only what exceeds it
is refused, so an estimate need not be exact (it counts the parameters or the samples, not every
temporary a computation makes).
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

import torch


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return None


def _kib(text: str | None, key: str) -> int | None:
    for line in (text or "").splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return None


def available() -> tuple[int, str]:
    """(bytes this process may still allocate, what sets that limit)."""
    limits: list[tuple[int, str]] = []
    avail = _kib(_read("/proc/meminfo"), "MemAvailable")
    if avail is not None:
        limits.append((avail, "available memory"))
    else:
        try:
            pages = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
            limits.append((pages, "available memory"))
        except (ValueError, OSError):
            pass
    high, current = _read("/sys/fs/cgroup/memory.max"), _read("/sys/fs/cgroup/memory.current")
    if high is not None and high.strip().isdigit() and current is not None:
        limits.append((int(high) - int(current), "the cgroup's memory.max"))
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        size = _kib(_read("/proc/self/status"), "VmSize") or 0
        limits.append((soft - size, "the address-space limit (ulimit -v)"))
    if not limits:
        return (1 << 62, "no known limit")
    return min(limits)


def size(nbytes: float) -> str:
    """``1.5 GiB``, ``800 TiB``: bytes for people."""
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            return f"{value:.3g} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def check(what: str, nbytes: float, fix: str) -> None:
    """ValueError (one line) when ``what`` needs more than this machine allows; ``fix`` says
    which setting to lower, e.g. ``"lower width (or depth, ensemble)"``."""
    limit, source = available()
    if nbytes > limit:
        raise ValueError(
            f"{what} needs {size(nbytes)}, more than this machine allows "
            f"({size(max(limit, 0))}, {source}): {fix}"
        )


def check_network(
    parameters: int, *, widths: tuple[int, ...], ensemble: int, dtype: torch.dtype
) -> None:
    """``parameters`` per member of a field with state widths ``widths`` (C_0 … C_L)."""
    check(
        f"a network of widths up to {max(widths)}, depth {len(widths) - 1}, ensemble {ensemble}",
        parameters * ensemble * dtype.itemsize,
        "lower width (or depth, ensemble)",
    )


def check_samples(n: int, features: int, *, itemsize: int = 8, what: str = "data") -> None:
    """``n`` samples of ``features`` float64 coordinates (and a label each)."""
    check(f"{what} of {n} samples", n * (features + 1) * itemsize * 2, "lower n (samples)")
