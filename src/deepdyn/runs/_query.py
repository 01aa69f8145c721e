"""Finding runs: open a store that must exist, resolve id prefixes, filter by ``key=value``.

What ``deepdyn runs list / show / compare / export`` share. Reading never creates a store: a
mistyped ``--store`` is one line saying where no store was found.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from deepdyn.runs._index import RunInfo
from deepdyn.runs._store import Store

_SHOWN_MATCHES = 5


def open_store(path: Path | str) -> Store:
    """The existing store at ``path``; ValueError (one line) when there is none, so that a read
    never creates an empty store by mistake."""
    folder = Path(path)
    # a store whose index was lost still has its run folders (runs check --repair rebuilds it)
    if not (folder / "index.sqlite").is_file() and not (folder / "runs").is_dir():
        what = "does not exist" if not folder.exists() else "holds no index.sqlite nor runs/"
        raise ValueError(
            f'no run store at "{folder}" (the folder {what}): check --store or DEEPDYN_STORE; '
            "deepdyn run and deepdyn sweep create a store"
        )
    return Store(folder)


def resolve(store: Store, run_id: str, infos: Sequence[RunInfo] | None = None) -> RunInfo:
    """The run whose id is ``run_id`` or starts with it; ValueError when none or several match."""
    info = store.index.get(run_id)
    if info is not None:
        return info
    candidates = store.list() if infos is None else infos
    matches = [i for i in candidates if i.run_id.startswith(run_id)] if run_id else []
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ValueError(f'run "{run_id}" not found: see deepdyn runs list')
    shown = ", ".join(i.run_id for i in matches[:_SHOWN_MATCHES])
    more = f" and {len(matches) - _SHOWN_MATCHES} more" if len(matches) > _SHOWN_MATCHES else ""
    raise ValueError(
        f'run id "{run_id}" is ambiguous: it starts {len(matches)} runs ({shown}{more}); '
        "type more of it"
    )


def parse_filters(items: Iterable[str]) -> dict[str, str]:
    """``["width=3", "data=xor"]`` → ``{"width": "3", "data": "xor"}``; a key given twice is an
    error, not the last one silently winning."""
    filters: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f'filter "{item}" must look like key=value, e.g. width=3')
        if key in filters:
            raise ValueError(f'filter key "{key}" given twice: give each key once')
        filters[key] = value.strip()
    return filters


def _matches(value: Any, text: str) -> bool:
    """Whether the stored config ``value`` equals the command-line ``text``."""
    if isinstance(value, bool):
        return text.lower() in (("true", "1") if value else ("false", "0"))
    if isinstance(value, int | float):
        try:
            return math.isclose(float(text), float(value), rel_tol=1e-12, abs_tol=0.0)
        except ValueError:
            return False
    if isinstance(value, list | tuple):
        parts = [p.strip() for p in text.split(",")] if text else []
        return len(parts) == len(value) and all(_matches(v, p) for v, p in zip(value, parts))
    return str(value) == text


def select(
    store: Store,
    *,
    experiment: str | None = None,
    status: str | None = None,
    where: Sequence[str] = (),
    known: Sequence[str] = (),
) -> list[RunInfo]:
    """The runs of ``store``, oldest first, filtered by experiment, status and ``key=value``.

    ``known``: experiment ids that exist (the catalogue's); an ``experiment`` that is neither
    known nor stored is an error, not an empty table. A ``where`` key that no selected run has
    in its config is an error naming the keys there are.
    """
    if experiment is not None and experiment not in known:
        stored = {i.experiment for i in store.list()}
        if experiment not in stored:
            choices = ", ".join(sorted({*known, *stored})) or "(none)"
            raise ValueError(f'experiment "{experiment}" unknown: choose one of {choices}')
    infos = store.list(experiment=experiment, status=status)
    filters = parse_filters(where)
    if filters and infos:
        keys = {k for i in infos for k in i.config}
        for key in filters:
            if key not in keys:
                raise ValueError(
                    f'filter key "{key}" is no config field of these runs: '
                    f"choose one of {', '.join(sorted(keys))}"
                )
    return [
        i
        for i in infos
        if all(key in i.config and _matches(i.config[key], text) for key, text in filters.items())
    ]


def varying(infos: Sequence[RunInfo]) -> list[str]:
    """The config fields whose values differ between ``infos`` (first-seen order)."""
    keys: list[str] = []
    for info in infos:
        keys += [k for k in info.config if k not in keys]
    return [k for k in keys if len({repr(i.config.get(k)) for i in infos}) > 1]


def format_value(value: Any) -> str:
    """A config value as the command line writes it: ``0.5``, ``true``, ``8,4,3``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(format_value(v) for v in value)
    return str(value)


def compare(infos: Sequence[RunInfo], *, all_fields: bool = False) -> list[tuple[str, list[str]]]:
    """Rows ``(label, one text per run)`` side by side: experiment and status, the config fields
    that differ (all of them with ``all_fields``; ``config.KEY``), then every key number."""
    if len(infos) < 2:
        raise ValueError(f"compare needs at least two runs, got {len(infos)}")
    ids = [i.run_id for i in infos]
    if len(set(ids)) < len(ids):
        raise ValueError("compare got the same run twice: give different runs")
    rows: list[tuple[str, list[str]]] = [
        ("experiment", [i.experiment for i in infos]),
        ("status", [i.status for i in infos]),
    ]
    keys: list[str] = []
    for info in infos:
        keys += [k for k in info.config if k not in keys]
    shown = keys if all_fields else varying(infos)
    rows += [
        (f"config.{k}", [format_value(i.config.get(k)) if k in i.config else "—" for i in infos])
        for k in shown
    ]
    metrics: list[str] = []
    for info in infos:
        metrics += [k for k in info.metrics if k not in metrics]
    rows += [
        (k, [f"{i.metrics[k]:.6g}" if k in i.metrics else "—" for i in infos]) for k in metrics
    ]
    return rows
