"""What an entry's config accepts: ``deepdyn show ID`` and ``deepdyn run ID --help``.

One row per config field: its type, default, ``--quick`` value and what values it accepts. The
accepted values are read from the config's own validation (the one place they live): each field
is built once with a value outside any sensible range (``-1`` for numbers, an unknown word for
text) and the error the config raises says what it expects ("must be ≥ 1", "choose one of …").
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from deepdyn.runs import Experiment, field_types, type_name

_EXPECTS = (
    re.compile(r"choose one of (?P<what>.+?)(?:;|$)"),
    re.compile(r"must be (?P<what>.+?),? got "),
    re.compile(r"must (?P<what>.+?),? got "),
)
_PROBES: dict[str, str] = {
    "int": "-1",
    "float": "-1",
    "str": "?unknown?",
    "tuple[int, ...]": "-1",
    "tuple[float, ...]": "-1",
    "tuple[str, ...]": "?unknown?",
}


@dataclasses.dataclass(frozen=True)
class FieldInfo:
    """One config field of an entry, as ``deepdyn show`` prints it."""

    name: str
    type: str
    default: Any
    quick: Any  # the --quick value (the default when --quick leaves it)
    allowed: str  # what the validation accepts: "≥ 1", "relu, tanh, …", "any"


def _allowed(experiment: Experiment, name: str, type_name: str) -> str:
    if type_name == "bool":
        return "true, false"
    from deepdyn.runs import make_config

    try:
        make_config(experiment, overrides={name: _PROBES[type_name]})
    except ValueError as error:
        text = " ".join(str(error).split())
        for pattern in _EXPECTS:
            match = pattern.search(text)
            if match:
                return match.group("what").strip()
        return "checked when built"  # refused, but not by a range or a list of choices
    return "any"


def describe(experiment: Experiment) -> list[FieldInfo]:
    """Every config field of ``experiment``: type, default, quick value, accepted values."""
    types = field_types(experiment.config)
    defaults = experiment.config()
    rows = []
    for f in dataclasses.fields(experiment.config):
        tname = type_name(types[f.name]) or str(types[f.name])
        default = getattr(defaults, f.name)
        quick = experiment.quick.get(f.name, default)
        rows.append(FieldInfo(f.name, tname, default, quick, _allowed(experiment, f.name, tname)))
    return rows
