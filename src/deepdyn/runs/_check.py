"""``Store.check`` and ``Store.repair``: what is wrong in a store, and rebuilding the index.

The folders are the truth, the index is their catalogue: a folder that is complete and valid
(``_integrity.damage`` is None) is a finished run whatever its row says, so ``check`` never advises
deleting one and ``repair`` writes (or finishes) its row. Paths in messages are relative to the
store, so they stay right in a moved or copied store.
"""

from __future__ import annotations

import datetime
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING

from deepdyn.runs._index import RunInfo, valid_run_id
from deepdyn.runs._integrity import checksums, damage, read_record

if TYPE_CHECKING:
    from deepdyn.runs._store import Store

_REPAIR = "deepdyn runs check --repair records it"


def _rel(store: Store, path: Path) -> str:
    return os.path.relpath(path, store.path)


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.iterdir()) if folder.is_dir() else []


def check(store: Store) -> list[str]:
    """See ``Store.check``."""
    problems: list[str] = []
    for rid in store.index.invalid_ids():
        problems.append(
            f"index row {rid!r} has an id deepdyn never writes (16 hex digits): it is ignored; "
            "deepdyn runs check --repair drops it"
        )
    rows = {info.run_id: info for info in store.list()}
    for folder in _entries(store.path / "runs"):
        if folder.name in rows:
            continue
        where = _rel(store, folder)
        if not valid_run_id(folder.name):
            problems.append(f'folder "{where}" is not a run folder: move it out of the store')
        elif damage(folder, folder.name) is None:
            problems.append(f'folder "{where}" is a complete run without a row: {_REPAIR}')
        else:
            why = damage(folder, folder.name)
            problems.append(
                f'folder "{where}" has no row and is not a valid run ({why}): '
                f'delete it (rm -r "{folder}")'
            )
    for rid, info in rows.items():
        folder = info.path
        valid = damage(folder, rid) is None
        if info.status == "finished":
            if not folder.is_dir():
                problems.append(
                    f'run "{rid}" is finished but its folder "{_rel(store, folder)}" is missing: '
                    f"deepdyn runs rm {rid}, then run it again"
                )
                continue
            why = store.damage(info)
            if why is not None:
                problems.append(
                    f'run "{rid}" is damaged: {why}; the next deepdyn run of it recomputes it '
                    f"(or deepdyn runs rm {rid})"
                )
        elif info.status == "running" and not store._held(info):
            if valid:
                problems.append(f'run "{rid}" was stopped after its files were complete: {_REPAIR}')
            else:
                problems.append(
                    f'run "{rid}" is marked running but no process is writing it: '
                    f"deepdyn runs rm {rid}"
                )
        elif info.status == "failed" and folder.exists():
            if valid:
                problems.append(
                    f'run "{rid}" is marked failed but its folder is complete: {_REPAIR}'
                )
            else:
                problems.append(
                    f'run "{rid}" failed but has a folder "{_rel(store, folder)}": '
                    f"deepdyn runs rm {rid}"
                )
    for tmp in _entries(store.path / "tmp"):
        if not store._tmp_alive(tmp):
            problems.append(
                f'temporary folder "{tmp}" is left over: rm -r "{tmp}" '
                "(a sweep or deepdyn runs check --repair on this host removes it too)"
            )
    return problems


def _mtime(path: Path) -> str:
    return datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.UTC).isoformat()


def _started(folder: Path) -> str:
    """The start time in the first line of ``log.txt``, else the time config.json was written."""
    try:
        first = (folder / "log.txt").read_text(encoding="utf-8").split(maxsplit=1)[0]
        datetime.datetime.fromisoformat(first)
        return first
    except (OSError, IndexError, ValueError):
        return _mtime(folder / "config.json")


def repair(store: Store) -> list[str]:
    """See ``Store.repair``."""
    done: list[str] = []
    for rid in store.index.invalid_ids():
        store.index.delete(rid)
        done.append(f"dropped index row {rid!r} (not a deepdyn run id)")
    rows = {info.run_id: info for info in store.list()}
    for folder in _entries(store.path / "runs"):
        rid = folder.name
        info = rows.get(rid)
        if not valid_run_id(rid) or (info is not None and info.status == "finished"):
            continue
        if info is not None and store._held(info):
            continue  # a live process is writing it
        if damage(folder, rid) is not None:
            continue
        record = read_record(folder)
        store.index.put(
            RunInfo(
                run_id=rid,
                experiment=record.experiment,
                status="finished",
                config=record.config,
                metrics=record.numbers,
                error=None,
                started=info.started if info is not None else _started(folder),
                ended=_mtime(folder / "numbers.json"),
                host=info.host if info is not None else socket.gethostname(),
                path=folder,
                checksums=checksums(folder),
            )
        )
        was = "no row" if info is None else f"a {info.status} row"
        done.append(f'recorded run "{rid}" ({record.experiment}) from its folder (it had {was})')
    for tmp in store.clean():
        done.append(f'removed temporary folder "{_rel(store, tmp)}"')
    return done
