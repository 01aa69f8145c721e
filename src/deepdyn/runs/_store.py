"""The run store: one folder per run plus a SQLite index (DESIGN.md, "the data's way through").

Layout::

    <store>/index.sqlite              one row per run (see _index.py)
    <store>/runs/<run_id>/            config.json, arrays.nc, figure.png, numbers.json, log.txt
    <store>/tmp/<run_id>-<pid>/       a run being written; renamed into runs/ when complete

A run id is the first 16 hex digits of the sha256 of the canonical JSON of
``{experiment, config, deepdyn_version}``: the same config gives the same id, so a finished run is
found again and never computed twice (unless ``force=True``).
"""

from __future__ import annotations

import builtins
import csv
import dataclasses
import datetime
import hashlib
import json
import os
import shutil
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xarray as xr

from deepdyn.runs._index import STATUSES, Index, RunInfo

if TYPE_CHECKING:
    from deepdyn.experiments._base import Experiment, Progress, Result

_FILES = ("config.json", "arrays.nc", "figure.png", "numbers.json")
_STALE_SECONDS = 24 * 3600.0


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


def _seconds(started: str, ended: str | None) -> float:
    if ended is None:
        return 0.0
    delta = datetime.datetime.fromisoformat(ended) - datetime.datetime.fromisoformat(started)
    return delta.total_seconds()


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_id(experiment_id: str, config: Any, version: str) -> str:
    """sha256 (first 16 hex) of the canonical JSON of the experiment id, config and version."""
    is_instance = dataclasses.is_dataclass(config) and not isinstance(config, type)
    values = dataclasses.asdict(config) if is_instance else dict(config)
    record = {"config": values, "deepdyn_version": version, "experiment": experiment_id}
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class Store:
    """An embedded run store in the folder ``path`` (created if missing).

    ValueError (one line, with the fix) when ``path`` is a file, cannot be written, or holds an
    ``index.sqlite`` that is not a SQLite database (that file is left untouched).
    """

    def __init__(self, path: Path | str = "deepdyn-runs") -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f'store path "{self.path}" is a file: pass a folder with --store')
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
        return self.path / "runs" / run_id

    def get(self, run_id: str) -> RunInfo:
        """The row ``run_id``; ValueError when there is none."""
        info = self.index.get(run_id)
        if info is None:
            raise ValueError(f'run "{run_id}" not found: see deepdyn runs list')
        return info

    def lookup(self, experiment_id: str, config: Any) -> RunInfo | None:
        """The finished run of ``experiment_id`` with ``config`` (this deepdyn version), or None."""
        from deepdyn.experiments._base import deepdyn_version

        info = self.index.get(run_id(experiment_id, config, deepdyn_version()))
        return info if info is not None and info.status == "finished" else None

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
        return xr.load_dataset(info.path / "arrays.nc", engine="h5netcdf")

    def export_csv(self, path: Path | str) -> Path:
        """Write every row to the CSV file ``path``: one column per field, one per metric."""
        infos = self.list()
        metric_names = sorted({k for info in infos for k in info.metrics})
        fields = ["run_id", "experiment", "status", "started", "ended", "seconds", "host"]
        fields += ["path", "error", "config", *metric_names]
        out = Path(path)
        with out.open("w", newline="", encoding="utf-8") as f:
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
                        str(info.path),
                        info.error or "",
                        json.dumps(info.config, sort_keys=True),
                        *(info.metrics.get(m, "") for m in metric_names),
                    ]
                )
        return out

    # ------------------------------------------------------------ writing

    def remove(self, run_id: str) -> None:
        """Delete the run ``run_id``: its folder, then its row."""
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
    ) -> Result:
        """Run ``experiment`` with ``config`` into the store, or reuse its finished run.

        A finished run with the same id is returned as it is stored (nothing is computed) unless
        ``force``. Otherwise: the row is written as ``running``, the files go to
        ``tmp/<run_id>-<pid>/`` and that folder is renamed to ``runs/<run_id>/``, then the row
        becomes ``finished`` with its numbers in one transaction. If the run raises, the row
        becomes ``failed`` with the one-line error, no folder is left and the error propagates.
        """
        from deepdyn.experiments._base import (
            Result,
            _check_config,
            deepdyn_version,
            run_experiment,
        )

        _check_config(experiment, config)
        rid = run_id(experiment.id, config, deepdyn_version())
        final = self.folder(rid)
        existing = self.index.get(rid)
        if existing is not None and existing.status == "finished" and not force:
            if progress is not None:
                progress(1, 1, f"reused run {rid}")
            return Result(
                experiment.id,
                config,
                dict(existing.metrics),
                final / "figure.png",
                final / "arrays.nc",
                _seconds(existing.started, existing.ended),
            )

        started = _now()
        self.index.put(
            RunInfo(
                run_id=rid,
                experiment=experiment.id,
                status="running",
                config=dataclasses.asdict(config),
                metrics={},
                error=None,
                started=started,
                ended=None,
                host=socket.gethostname(),
                path=final,
            )
        )
        tmp = self.path / "tmp" / f"{rid}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        log: list[str] = [f"{started} start {experiment.id} run {rid}"]
        clock = time.perf_counter()

        def relay(done: int, total: int, message: str) -> None:
            line = f"[{time.perf_counter() - clock:8.2f} s] {done}/{total} {message}"
            if not log or log[-1].split("] ", 1)[-1] != line.split("] ", 1)[-1]:
                log.append(line)
            if progress is not None:
                progress(done, total, message)

        try:
            result = run_experiment(experiment, config, tmp, progress=relay)
            entry = tmp / experiment.id
            log.append(f"{_now()} finished in {result.seconds:.2f} s")
            (entry / "log.txt").write_text("\n".join(log) + "\n", encoding="utf-8")
            if final.exists():  # a forced rerun replaces the old folder
                shutil.rmtree(final)
            os.replace(entry, final)
        except BaseException as error:
            self.index.fail(rid, _one_line(error), _now())
            raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.index.finish(rid, result.numbers, _now())
        return dataclasses.replace(
            result, figure_path=final / "figure.png", arrays_path=final / "arrays.nc"
        )

    # ------------------------------------------------------------ checking

    def check(self) -> builtins.list[str]:
        """Problems in the store, each with what to do; an empty list when it is clean."""
        problems: builtins.list[str] = []
        rows = {info.run_id: info for info in self.list()}
        for folder in sorted((self.path / "runs").iterdir()):
            if folder.name not in rows:
                problems.append(
                    f'folder "{folder}" has no row in the index: delete it (rm -r "{folder}")'
                )
        for rid, info in rows.items():
            folder = self.folder(rid)
            if info.status == "finished":
                if not folder.is_dir():
                    problems.append(
                        f'run "{rid}" is finished but its folder "{folder}" is missing: '
                        f"deepdyn runs rm {rid}, then run it again"
                    )
                    continue
                missing = [name for name in _FILES if not (folder / name).is_file()]
                if missing:
                    problems.append(
                        f'run "{rid}" lacks {", ".join(missing)}: deepdyn runs rm {rid}, '
                        "then run it again"
                    )
                    continue
                try:
                    xr.load_dataset(folder / "arrays.nc", engine="h5netcdf")
                except Exception as error:
                    problems.append(
                        f'run "{rid}": arrays.nc is unreadable ({_one_line(error)[:120]}): '
                        f"deepdyn runs rm {rid}, then run it again"
                    )
            elif info.status == "running" and not self._in_progress(info):
                problems.append(
                    f'run "{rid}" is marked running but no process is writing it: '
                    f"deepdyn runs rm {rid}"
                )
            elif info.status == "failed" and folder.exists():
                problems.append(
                    f'run "{rid}" failed but has a folder "{folder}": deepdyn runs rm {rid}'
                )
        for tmp in sorted((self.path / "tmp").iterdir()):
            if not self._tmp_alive(tmp):
                problems.append(f'temporary folder "{tmp}" is left over: rm -r "{tmp}"')
        return problems

    def _tmp_alive(self, tmp: Path) -> bool:
        _, _, pid = tmp.name.rpartition("-")
        return pid.isdigit() and _alive(int(pid))

    def _in_progress(self, info: RunInfo) -> bool:
        if info.host != socket.gethostname():  # another machine: trust it for a day
            age = _seconds(info.started, _now())
            return age < _STALE_SECONDS
        tmp_dir = self.path / "tmp"
        return any(
            t.name.startswith(info.run_id + "-") and self._tmp_alive(t) for t in tmp_dir.iterdir()
        )
