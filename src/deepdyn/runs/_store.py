"""The run store: one folder per run plus a SQLite index (docs/design.md, "the data's way through").

Layout::

    <store>/index.sqlite              one row per run (see _index.py)
    <store>/runs/<run_id>/            config.json, arrays.nc, figure.png, numbers.json, log.txt
    <store>/tmp/<run_id>.<pid>.<host>/  a run being written; renamed into runs/ when complete

A run id is the first 16 hex digits of the sha256 of the canonical JSON of
``{experiment, config, deepdyn_version}``: the same config gives the same id, so a finished run is
found again and never computed twice (unless ``force=True``).

Trust: every path is ``<store>/runs/<run_id>`` (a moved or copied store works inside itself); a
finished run's files are checked against the checksums its row recorded before they are reused,
loaded or copied (``_integrity.py``); a damaged run is recomputed by the next run. A run claims its
id (``running`` row with its pid and host): a second process running the same config waits for
it and reuses its result, or takes over when the claimant is dead.
"""

from __future__ import annotations

import builtins
import contextlib
import csv
import dataclasses
import datetime
import functools
import json
import os
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import xarray as xr

from deepdyn._checks import one_line
from deepdyn.runs import _networks
from deepdyn.runs._experiment import (
    Experiment,
    Progress,
    Result,
    _check_config,
    deepdyn_version,
    draw_figure,
    run_experiment,
    write_run,
)
from deepdyn.runs._index import STATUSES, Index, RunInfo, valid_run_id
from deepdyn.runs._integrity import checksums, complete, damage, run_id

__all__ = ["Store", "run_id", "write_folder"]
_POLL_SECONDS = 0.5  # how often a run waits on another process computing the same config
_STALE_SECONDS = 24 * 3600.0


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


def _finished_since(seen: RunInfo | None, row: RunInfo) -> bool:
    """True when ``row`` is a finish that ``seen`` (the row read before) did not have yet."""
    if row.status != "finished":
        return False
    return seen is None or seen.status != "finished" or seen.ended != row.ended


def _seconds(started: str, ended: str | None) -> float:
    if ended is None:
        return 0.0
    delta = datetime.datetime.fromisoformat(ended) - datetime.datetime.fromisoformat(started)
    return delta.total_seconds()


@contextlib.contextmanager
def _file_errors(path: Path, what: str) -> Iterator[None]:
    """Turn the OSError of writing ``path`` into one ValueError line that says what to do."""
    try:
        yield
    except IsADirectoryError:
        raise ValueError(f'{what} "{path}" is a folder: give a file name') from None
    except NotADirectoryError:
        raise ValueError(
            f'{what} "{path}": a part of that path is a file, not a folder: give another path'
        ) from None
    except FileNotFoundError:
        raise ValueError(
            f'{what} "{path}": folder "{path.parent}" does not exist: '
            "create it or give another path"
        ) from None
    except PermissionError:
        raise ValueError(
            f'{what} "{path}" cannot be written (permission denied): give a path you can write to'
        ) from None
    except OSError as error:
        raise ValueError(f'{what} "{path}" cannot be written ({error.strerror})') from None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Store:
    """An embedded run store in the folder ``path`` (created if missing).

    ValueError (one line, with the fix) when ``path`` is a file, cannot be written, or holds an
    ``index.sqlite`` that is not a SQLite database (that file is left untouched).
    """

    def __init__(self, path: Path | str = "deepdyn-runs") -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f'store path "{self.path}" is a file: pass a folder with --store')
        if (self.path / "index.sqlite").is_file() and not os.access(self.path, os.W_OK):
            self.index = Index(self.path / "index.sqlite")  # read-only: list, show, export, check
            return
        try:
            (self.path / "runs").mkdir(parents=True, exist_ok=True)
            (self.path / "tmp").mkdir(exist_ok=True)
        except OSError as error:
            raise ValueError(
                f'store path "{self.path}" cannot be created ({error.strerror}): '
                "pass a folder you can write to with --store"
            ) from None
        if not os.access(self.path, os.W_OK):
            raise ValueError(
                f'store path "{self.path}" is not writable: '
                "pass a folder you can write to with --store"
            )
        self.index = Index(self.path / "index.sqlite")

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # ------------------------------------------------------------ reading

    def folder(self, run_id: str) -> Path:
        if not valid_run_id(run_id):
            raise ValueError(f'run id "{run_id}" invalid: 16 hex digits, see deepdyn runs list')
        return self.path / "runs" / run_id

    def get(self, run_id: str) -> RunInfo:
        """The row ``run_id``; ValueError when there is none."""
        info = self.index.get(run_id) if valid_run_id(run_id) else None
        if info is None:
            raise ValueError(f'run "{run_id}" not found: see deepdyn runs list')
        return info

    def damage(self, info: RunInfo) -> str | None:
        """None when the finished run ``info`` is intact, else what is wrong with its folder."""
        return damage(info.path, info.run_id, info.checksums)

    def lookup(self, experiment_id: str, config: Any) -> RunInfo | None:
        """The intact finished run of ``experiment_id`` with ``config`` (this deepdyn version), or
        None (also when its folder is damaged: see ``damage``)."""
        info = self.index.get(run_id(experiment_id, config, deepdyn_version()))
        if info is None or info.status != "finished" or self.damage(info) is not None:
            return None
        return info

    def list(self, experiment: str | None = None, status: str | None = None) -> list[RunInfo]:
        """All runs, oldest first, optionally only those of ``experiment`` and/or ``status``."""
        if status is not None and status not in STATUSES:
            raise ValueError(f'status "{status}" unknown: choose one of {", ".join(STATUSES)}')
        return self.index.select(experiment=experiment, status=status)

    def load(self, run_id: str) -> xr.Dataset:
        """The arrays of the finished run ``run_id``, loaded into memory."""
        info = self.get(run_id)
        if info.status != "finished":
            raise ValueError(f'run "{run_id}" is {info.status}, not finished: it has no arrays')
        why = self.damage(info)
        if why is None:
            try:
                return xr.load_dataset(info.path / "arrays.nc", engine="netcdf4")
            except Exception as error:
                why = f"arrays.nc is unreadable ({one_line(error)[:100]})"
        raise ValueError(
            f'run "{run_id}" is damaged: {why}; run it again (the next deepdyn run recomputes '
            f"it) or deepdyn runs rm {run_id}"
        )

    def network(self, run_id: str, name: str | None = None, *, member: int | None = None) -> Any:
        """The trained network the finished run ``run_id`` kept (spec and final θ), rebuilt:
        a :class:`deepdyn.Network`. ``name`` picks one when the run kept several; ``member``
        one member of a kept ensemble. A sweep group's runs each keep their own member."""
        info = self.get(run_id)
        if info.status != "finished":
            raise ValueError(f'run "{run_id}" is {info.status}, not finished: it has no network')
        why = self.damage(info)
        if why is not None:
            raise ValueError(f'run "{run_id}" is damaged: {why}; run it again to recompute it')
        return _networks.read(info.path / _networks.FILE, name, member=member)

    def networks(self, run_id: str) -> builtins.list[str]:
        """One line per network the run ``run_id`` kept ([] when none)."""
        return _networks.describe(self.get(run_id).path / _networks.FILE)

    def export_csv(self, path: Path | str) -> Path:
        """Write every row to the CSV file ``path``: one column per field, one per metric."""
        infos = self.list()
        metric_names = sorted({k for info in infos for k in info.metrics})
        fields = ["run_id", "experiment", "status", "started", "ended", "seconds", "host"]
        fields += ["path", "error", "config", *metric_names]
        out = Path(path)
        with _file_errors(out, "CSV file"), out.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(fields)
            for info in infos:
                writer.writerow(
                    [
                        info.run_id,
                        info.experiment,
                        info.status,
                        info.started,
                        info.ended or "",
                        f"{_seconds(info.started, info.ended):.3f}",
                        info.host,
                        f"runs/{info.run_id}",
                        info.error or "",
                        json.dumps(info.config, sort_keys=True),
                        *(info.metrics.get(m, "") for m in metric_names),
                    ]
                )
        return out

    # ------------------------------------------------------------ writing

    def remove(self, run_id: str) -> None:
        """Delete the run ``run_id``: its folder, then its row."""
        self._writable()
        self.get(run_id)
        shutil.rmtree(self.folder(run_id), ignore_errors=True)
        self.index.delete(run_id)

    def run(
        self,
        experiment: Experiment,
        config: Any,
        *,
        force: bool = False,
        progress: Progress | None = None,
        figure: bool = True,
    ) -> Result:
        """Run ``experiment`` with ``config`` into the store, or reuse its finished run.

        A finished run with the same id is returned as it is stored (nothing is computed; its
        figure is drawn from the stored arrays if a sweep left it out) unless ``force``.
        Otherwise: the row is written as ``running``, the files go to
        ``tmp/<run_id>.<pid>.<host>/`` and that folder is renamed to ``runs/<run_id>/``, then the
        row becomes ``finished`` with its numbers in one transaction. If the run raises, the row
        becomes ``failed`` with the one-line error, no folder is left and the error propagates.
        """
        _check_config(experiment, config)
        self._writable()
        rid = run_id(experiment.id, config, deepdyn_version())
        while True:
            seen = self.index.get(rid)  # the row the decision below is made on
            if not force:
                reused = self._reusable(experiment, config, progress)
                if reused is not None:
                    if figure:  # a sweep stored it without one: draw it from the stored arrays
                        self.draw(rid, experiment)
                    if progress is not None:
                        progress(1, 1, f"reused run {rid}")
                    return self._result(experiment, config, reused)
            started = _now()
            row = self._row(experiment, config, "running", started=started, pid=os.getpid())
            # taken: a live holder, or (unless forced) a finish written since ``seen`` — another
            # process completed it between the look above and this claim: reuse it, do not redo it
            holder = self.index.claim(row, functools.partial(self._taken, seen, force))
            if holder is None:
                break
            # another live process is computing this very config: wait for it, then reuse
            if progress is not None:
                progress(0, 1, f"waiting for pid {holder.pid} on {holder.host} (run {rid})")
            time.sleep(_POLL_SECONDS)
            force = False  # what the other process stores is as fresh as a forced run
        log = _Log(started, f"start {experiment.id} run {rid}", progress)
        try:
            with _staging(self.path, rid) as tmp:
                result = run_experiment(experiment, config, tmp, progress=log, figure=figure)
                _publish(self.path, rid, tmp / experiment.id, log.lines(result.seconds))
        except BaseException as error:
            self.index.fail(rid, one_line(error), _now())
            raise
        self.index.finish(rid, result.numbers, _now(), checksums(self.folder(rid)))
        return self._result(experiment, config, self.get(rid))

    def claim(self, experiment: Experiment, config: Any) -> RunInfo | None:
        """Claim this config's run id for this process (a ``running`` row with its pid); None
        when claimed, else the row of the live process that holds it (see ``Store.run``)."""
        return self.claim_many(experiment, [config])[0]

    def claim_many(
        self, experiment: Experiment, configs: builtins.list[Any]
    ) -> builtins.list[RunInfo | None]:
        """``claim`` for each of ``configs``, in one transaction (a sweep's configs at once)."""
        self._writable()
        started, pid = _now(), os.getpid()
        rows = [self._row(experiment, c, "running", started=started, pid=pid) for c in configs]
        return self.index.claim_many(rows, self._held)

    def release(self, experiment: Experiment, config: Any, reason: str) -> None:
        """Mark this process's claim on this config failed with ``reason`` (e.g. interrupted)."""
        rid = run_id(experiment.id, config, deepdyn_version())
        info = self.index.get(rid)
        if info is not None and info.status == "running" and info.pid == os.getpid():
            self.index.fail(rid, reason, _now())

    def _reusable(
        self, experiment: Experiment, config: Any, progress: Progress | None
    ) -> RunInfo | None:
        """The intact finished row of this config, or the row recovered from a complete folder
        that a killed run left behind; None when it must be computed (a damaged one too)."""
        rid = run_id(experiment.id, config, deepdyn_version())
        info = self.index.get(rid)
        if info is not None and info.status == "finished":
            why = self.damage(info)
            if why is None:
                return info
            if progress is not None:
                progress(0, 1, f"run {rid} is damaged ({why}): computing it again")
            return None
        if info is not None and self._held(info):
            return None
        return self.recover(experiment, config)

    def _taken(self, seen: RunInfo | None, force: bool, row: RunInfo) -> bool:
        """``Store.run``'s claim test: ``row`` is held by a live process or, unless ``force``,
        finished since ``seen`` was read."""
        return self._held(row) or (not force and _finished_since(seen, row))

    def _held(self, info: RunInfo) -> bool:
        """True while ``info`` is a ``running`` row whose claimant (another process) is alive."""
        if info.status != "running":
            return False
        if info.host != socket.gethostname():  # another machine: trust it for a day
            return _seconds(info.started, _now()) < _STALE_SECONDS
        if info.pid is None:  # a row of an older deepdyn: alive while its tmp folder is
            return self._in_progress(info)
        return info.pid != os.getpid() and _alive(info.pid)

    def _writable(self) -> None:
        if self.index.readonly:
            raise ValueError(
                f'store "{self.path}" is read-only: it can be listed, shown and exported; '
                "to run, pass a folder you can write to with --store"
            )

    def record(
        self,
        experiment: Experiment,
        config: Any,
        status: str,
        *,
        started: str,
        ended: str,
        host: str,
        numbers: dict[str, float] | None = None,
        error: str | None = None,
    ) -> RunInfo:
        """Write the row of a run computed elsewhere (a sweep worker), in one transaction.

        ``finished`` requires its folder ``runs/<run_id>/`` in place (see :func:`write_folder`).
        """
        info = self.finished_row(
            experiment, config, status, started=started, ended=ended, host=host,
            numbers=numbers, error=error,
        )  # fmt: skip
        self.index.put(info)
        return info

    def finished_row(
        self,
        experiment: Experiment,
        config: Any,
        status: str,
        *,
        started: str,
        ended: str,
        host: str,
        numbers: dict[str, float] | None = None,
        error: str | None = None,
    ) -> RunInfo:
        """The row ``record`` writes, checked (and, when finished, with the checksums of its
        folder) but not written: a sweep writes a task's rows in one transaction."""
        info = self._row(
            experiment, config, status, started=started, ended=ended, host=host,
            numbers=numbers, error=error,
        )  # fmt: skip
        if status == "finished":
            if not complete(info.path):
                raise ValueError(
                    f'run "{info.run_id}" has no complete folder: it cannot be finished'
                )
            info = dataclasses.replace(info, checksums=checksums(info.path))
        return info

    def recover(self, experiment: Experiment, config: Any) -> RunInfo | None:
        """Finish the row of a run whose folder is complete but whose row is not (a run killed
        between its rename and its index transaction); None when there is nothing to recover."""
        rid = run_id(experiment.id, config, deepdyn_version())
        folder = self.folder(rid)
        if not complete(folder):  # the common case, and a stat: before the index is read
            return None
        info = self.index.get(rid)
        if info is not None and info.status == "finished":
            return None
        if damage(folder, rid) is not None:
            return None
        try:
            record = json.loads((folder / "config.json").read_text(encoding="utf-8"))
            numbers = json.loads((folder / "numbers.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if record.get("config") != dataclasses.asdict(config):
            return None
        when = datetime.datetime.fromtimestamp(
            (folder / "numbers.json").stat().st_mtime, datetime.UTC
        ).isoformat()
        return self.record(
            experiment, config, "finished", started=info.started if info else when,
            ended=when, host=info.host if info else socket.gethostname(), numbers=numbers,
        )  # fmt: skip

    def draw(self, run_id: str, experiment: Experiment, *, force: bool = False) -> Path:
        """The figure of the finished run ``run_id``, drawn from its stored arrays if missing."""
        info = self.get(run_id)
        if info.experiment != experiment.id:
            raise ValueError(
                f'run "{run_id}" belongs to experiment "{info.experiment}", not "{experiment.id}"'
            )
        path = info.path / "figure.png"
        if force or not path.is_file():
            draw_figure(experiment, self.load(run_id), path)
        elif self.damage(info) is not None:  # a figure beside damaged arrays is not shown
            self.load(run_id)  # raises the one-line "damaged" error
        return path

    def clean(self) -> builtins.list[Path]:
        """Remove the temporary folders this host's dead processes left behind; the removed."""
        removed = []
        host = socket.gethostname()
        for tmp in sorted((self.path / "tmp").iterdir()):
            _, pid, owner = _tmp_parts(tmp.name)
            if owner == host and not (pid is not None and _alive(pid)):
                shutil.rmtree(tmp, ignore_errors=True)
                removed.append(tmp)
        return removed

    def _row(
        self,
        experiment: Experiment,
        config: Any,
        status: str,
        *,
        started: str,
        ended: str | None = None,
        host: str | None = None,
        numbers: dict[str, float] | None = None,
        error: str | None = None,
        pid: int | None = None,
    ) -> RunInfo:
        rid = run_id(experiment.id, config, deepdyn_version())
        return RunInfo(
            run_id=rid,
            experiment=experiment.id,
            status=status,
            config=dataclasses.asdict(config),
            metrics=dict(numbers or {}),
            error=error,
            started=started,
            ended=ended,
            host=host or socket.gethostname(),
            path=self.folder(rid),
            pid=pid,
        )

    def _result(self, experiment: Experiment, config: Any, info: RunInfo) -> Result:
        return Result(
            experiment.id,
            config,
            dict(info.metrics),
            info.path / "figure.png",
            info.path / "arrays.nc",
            _seconds(info.started, info.ended),
        )

    # ------------------------------------------------------------ checking

    def check(self) -> builtins.list[str]:
        """Problems in the store, each with what to do; an empty list when it is clean.

        A complete, valid folder is never advised for deletion: ``repair`` records it.
        """
        from deepdyn.runs._check import check

        return check(self)

    def repair(self) -> builtins.list[str]:
        """Rebuild what the index lost from the folders; what was done, one line each.

        Records every valid folder without a row, finishes ``running`` (dead claimant) and
        ``failed`` rows whose folder is complete and valid, drops rows with ids deepdyn never
        writes and removes this host's dead temporary folders. Damaged runs are left for
        ``check`` to report and the next run to recompute.
        """
        from deepdyn.runs._check import repair

        self._writable()
        return repair(self)

    def _tmp_alive(self, tmp: Path) -> bool:
        _, pid, host = _tmp_parts(tmp.name)
        if not host or pid is None:  # not a name deepdyn writes
            return False
        if host != socket.gethostname():  # another machine's: trust it for a day
            return time.time() - tmp.stat().st_mtime < _STALE_SECONDS
        return pid is not None and _alive(pid)

    def _in_progress(self, info: RunInfo) -> bool:
        if info.host != socket.gethostname():  # another machine: trust it for a day
            age = _seconds(info.started, _now())
            return age < _STALE_SECONDS
        tmp_dir = self.path / "tmp"
        return any(
            _tmp_parts(t.name)[0] == info.run_id and self._tmp_alive(t) for t in tmp_dir.iterdir()
        )


# ---------------------------------------------------------------- folders (no index)


def _tmp_parts(name: str) -> tuple[str, int | None, str]:
    """(run id, pid, host) of a ``tmp/<run_id>.<pid>.<host>`` folder name."""
    rid, _, rest = name.partition(".")
    pid, _, host = rest.partition(".")
    return rid, int(pid) if pid.isdigit() else None, host


@contextlib.contextmanager
def _staging(store_path: Path, rid: str) -> Iterator[Path]:
    """A fresh ``tmp/<run_id>.<pid>.<host>/`` folder, removed afterwards whatever happens."""
    tmp = store_path / "tmp" / f"{rid}.{os.getpid()}.{socket.gethostname()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _publish(store_path: Path, rid: str, entry: Path, log: str) -> None:
    """Write the log into the staged ``entry`` folder and rename it to ``runs/<rid>``."""
    (entry / "log.txt").write_text(log, encoding="utf-8")
    final = store_path / "runs" / rid
    if final.exists():  # a forced or recomputed run replaces the old folder
        shutil.rmtree(final)
    os.replace(entry, final)


class _Log:
    """Collects a run's progress lines (and forwards them) for its ``log.txt``."""

    def __init__(self, started: str, first: str, progress: Progress | None = None) -> None:
        self._lines = [f"{started} {first}"]
        self._clock = time.perf_counter()
        self._progress = progress

    def __call__(self, done: int, total: int, message: str) -> None:
        line = f"{done}/{total} {message}"
        if self._lines[-1].split("] ", 1)[-1] != line:
            self._lines.append(f"[{time.perf_counter() - self._clock:8.2f} s] {line}")
        if self._progress is not None:
            self._progress(done, total, message)

    def lines(self, seconds: float) -> str:
        return "\n".join([*self._lines, f"{_now()} finished in {seconds:.2f} s"]) + "\n"


def write_folder(
    store_path: Path | str,
    experiment: Experiment,
    config: Any,
    dataset: xr.Dataset,
    *,
    figure: bool,
    started: str,
    seconds: float,
) -> Result:
    """Store a computed run as ``runs/<run_id>/`` without touching the index (sweep workers).

    The files are written under ``tmp/`` and the folder renamed into place, so ``runs/`` only
    ever holds complete folders; the driver then records the row (``Store.record``).
    """
    root = Path(store_path)
    if not (root / "runs").is_dir() or not os.access(root / "tmp", os.W_OK):
        raise ValueError(
            f'store "{root}" is not reachable from host {socket.gethostname()}: '
            "put the store on a file system every worker shares"
        )
    rid = run_id(experiment.id, config, deepdyn_version())
    log = _Log(started, f"start {experiment.id} run {rid} (sweep)")
    with _staging(root, rid) as tmp:
        result = write_run(experiment, config, dataset, tmp, figure=figure, seconds=seconds)
        _publish(root, rid, tmp / experiment.id, log.lines(seconds))
    final = root / "runs" / rid
    return dataclasses.replace(
        result, figure_path=final / "figure.png", arrays_path=final / "arrays.nc"
    )
