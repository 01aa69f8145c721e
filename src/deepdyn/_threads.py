"""How many torch threads deepdyn's own entry points use (docs/performance.md).

deepdyn's problems are small: widths 1–16, a few thousand samples. For them a second intra-op
thread buys little on an idle machine and costs a lot on a busy one — on a 2-core machine two
threads that must meet at every small kernel wait on each other whenever another process holds a
core (``benchmarks/threads.py``: a small fit several times slower with 2 threads under a
competing load). So the command (``deepdyn run``, ``reproduce``, ``sweep``), sweep workers and the
playground server run torch with **one thread** unless someone chose otherwise.

The choice, first match wins:

1. an explicit ``threads`` argument (``apply(threads=4)``; sweep workers get their share);
2. the environment variable ``DEEPDYN_THREADS`` (a positive integer; ``0`` or ``auto``: leave
   torch's own default alone);
3. a choice already made: ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS`` set, or a
   ``torch.set_num_threads`` call before (torch no longer at its start-up value) — never undone;
4. the default, :data:`DEFAULT` = 1.

Only the entry points call :func:`apply`; importing deepdyn or calling its functions from a
script of your own never changes your process's threads.
"""

from __future__ import annotations

import os
import sys

ENV = "DEEPDYN_THREADS"
"""The environment variable that sets deepdyn's torch threads (``0``/``auto``: torch's own)."""
DEFAULT = 1
"""Torch intra-op threads for deepdyn's small problems when nobody chose (see the module)."""
_CHOSEN_BY = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def requested(threads: int | None = None) -> int | None:
    """The thread count asked for explicitly (argument, then ``DEEPDYN_THREADS``); None when
    nobody asked, 0 for "torch's own default". ValueError for a value that is not a count."""
    if threads is not None:
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
            raise ValueError(f"threads must be a non-negative integer, got {threads!r}")
        return threads
    text = os.environ.get(ENV, "").strip().lower()
    if not text:
        return None
    if text == "auto":
        return 0
    if not text.isdigit():
        raise ValueError(
            f'{ENV}="{os.environ[ENV]}" is not a thread count: give a positive integer, '
            "or 0 / auto for torch's own default"
        )
    return int(text)


def _startup_threads() -> int:
    """What ``torch.get_num_threads()`` is in a process nobody has tuned: one per usable core."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def user_chose() -> bool:
    """True when the threads were chosen outside deepdyn: OMP/MKL variables, or torch already
    set away from its start-up value (a ``torch.set_num_threads`` call)."""
    if any(os.environ.get(name) for name in _CHOSEN_BY):
        return True
    torch = sys.modules.get("torch")
    return torch is not None and torch.get_num_threads() != _startup_threads()


def choose(threads: int | None = None) -> int | None:
    """The thread count :func:`apply` would set, or None when it would leave torch alone."""
    asked = requested(threads)
    if asked is not None:
        return asked or None
    if user_chose():
        return None
    return DEFAULT


def apply(threads: int | None = None) -> int:
    """Set torch's intra-op threads by the policy (module docstring); the count now in force.

    Imports torch (call it where torch is about to be used anyway)."""
    count = choose(threads)
    import torch

    if count is not None and torch.get_num_threads() != count:
        torch.set_num_threads(count)
    return torch.get_num_threads()


def worker_threads(workers: int) -> int:
    """Torch threads for each of ``workers`` local sweep processes: ``DEEPDYN_THREADS`` when
    set (``0``: their share of the cores), their share when the driver's threads were chosen
    (see :func:`user_chose`), else :data:`DEFAULT` (at most their share)."""
    asked = requested()
    cores = share(workers)
    if asked is not None:
        return asked or cores
    if user_chose():  # the driver's own choice (OMP variables, set_num_threads): their share
        return cores
    return min(cores, DEFAULT)


def share(workers: int) -> int:
    """Each of ``workers`` processes' share of the usable cores (at least 1)."""
    return max(1, _startup_threads() // max(1, workers))
