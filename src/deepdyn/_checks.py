"""Validation helpers: the one place that words the errors.

Every message says what was given, what is valid and, where it helps, what to do.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any


def one_line(message: str | BaseException) -> str:
    """``message`` on one line (whitespace runs become one space); an exception is prefixed by
    its type: ``ValueError: width must be ≥ 1, got 0``. For run logs, the index and the CLI."""
    if isinstance(message, BaseException):
        text = one_line(str(message))
        return f"{type(message).__name__}: {text}" if text else type(message).__name__
    return " ".join(message.split())


def choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``; else a ValueError naming them.

    A registry object (a scheme, an activation, …) stands for its ``name``."""
    options = list(choices)
    if not isinstance(value, str) and isinstance(getattr(value, "name", None), str):
        value = value.name
    if not isinstance(value, str) or value not in options:
        raise ValueError(f'{name} "{value}" unknown: choose one of {", ".join(options)}')
    return value


def integer(name: str, value: Any, *, minimum: int = 1) -> int:
    """Return ``value`` as an int ≥ ``minimum``; else a ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise ValueError(f"{name} must be an integer ≥ {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be ≥ {minimum}, got {value}")
    return int(value)


def integers(
    name: str, values: Any, *, item: str, minimum: int = 1, example: str = ""
) -> tuple[int, ...]:
    """Return ``values`` (a non-empty sequence) as ints ≥ ``minimum``, each checked as ``item``;
    an empty one is a ValueError that names ``name`` and an ``example``."""
    if not values:
        eg = f", e.g. {name}={example}" if example else ""
        raise ValueError(f"{name} is empty ({name} needs at least one value{eg})")
    return tuple(integer(item, v, minimum=minimum) for v in values)


def positive(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite float > 0 (or ≥ 0); else a ValueError."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = "≥ 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return v


def per_member(name: str, value: Any, ensemble: int | None) -> list[Any]:
    """Broadcast a scalar or check a sequence of length ``ensemble`` (1 when single)."""
    n = 1 if ensemble is None else ensemble
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != n:
            raise ValueError(f"{name} has {len(value)} values, expected one per member ({n})")
        return list(value)
    return [value] * n
