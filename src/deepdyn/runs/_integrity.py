"""What a run folder must be to be trusted: complete, unchanged since it finished, its own run.

A finished row records the sha256 of each file of ``FILES`` (``Index.finish``). A folder is
*valid* for the run id ``rid`` when

* every file of ``FILES`` is there,
* each file's sha256 equals the recorded one (when the row has checksums), so a truncated,
  replaced or hand-edited file is caught before it is reused or copied into a report,
* ``config.json`` hashes to ``rid`` (``run_id`` of its experiment, config and version), so an
  edited config can never sit beside numbers computed from another one, even in an old row
  without checksums,
* ``numbers.json`` is a JSON object of numbers, and (without checksums) ``arrays.nc`` opens.

``damage`` says what is wrong in one phrase (None when valid); the store treats a damaged
finished run as missing: the next run recomputes it and ``runs check`` reports it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import xarray as xr

FILES = ("config.json", "arrays.nc", "numbers.json")
"""The files every finished run folder holds (figure.png may be drawn later; log.txt is prose)."""
OPTIONAL = ("network.nc",)
"""Files a run may hold (trained networks, ``runs/_networks.py``): checksummed when present."""


def run_id(experiment_id: str, config: Any, version: str) -> str:
    """sha256 (first 16 hex) of the canonical JSON of the experiment id, config and version."""
    is_instance = dataclasses.is_dataclass(config) and not isinstance(config, type)
    values = dataclasses.asdict(config) if is_instance else dict(config)
    record = {"config": values, "deepdyn_version": version, "experiment": experiment_id}
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checksums(folder: Path) -> dict[str, str]:
    """``{file name: sha256}`` of the files of ``FILES`` and ``OPTIONAL`` in ``folder``."""
    names = (*FILES, *OPTIONAL)
    return {name: sha256(folder / name) for name in names if (folder / name).is_file()}


def complete(folder: Path) -> bool:
    return folder.is_dir() and all((folder / name).is_file() for name in FILES)


@dataclasses.dataclass(frozen=True)
class FolderRecord:
    """What a run folder says about itself: enough to rebuild its index row."""

    experiment: str
    config: dict[str, Any]
    version: str
    numbers: dict[str, float]


def read_record(folder: Path) -> FolderRecord:
    """The run described by ``folder``'s config.json and numbers.json; ValueError if unreadable."""
    try:
        record = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        experiment, config = record["experiment"], record["config"]
        version = record["deepdyn_version"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"config.json is unreadable ({type(error).__name__})") from None
    if not (isinstance(experiment, str) and isinstance(config, dict) and isinstance(version, str)):
        raise ValueError("config.json is not a deepdyn run record")
    try:
        numbers = json.loads((folder / "numbers.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"numbers.json is unreadable ({type(error).__name__})") from None
    if not isinstance(numbers, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in numbers.values()
    ):
        raise ValueError("numbers.json is not an object of numbers")
    return FolderRecord(experiment, config, version, {str(k): float(v) for k, v in numbers.items()})


def damage(folder: Path, rid: str, expected: dict[str, str] | None = None) -> str | None:
    """None when ``folder`` is a valid run ``rid`` (see the module docstring), else why not."""
    if not folder.is_dir():
        return "its folder is missing"
    missing = [name for name in FILES if not (folder / name).is_file()]
    if missing:
        return f"it lacks {', '.join(missing)}"
    if expected:
        changed = [
            n for n in expected if not (folder / n).is_file() or sha256(folder / n) != expected[n]
        ]
        if changed:
            return f"{', '.join(changed)} changed since the run finished (checksum mismatch)"
    try:
        record = read_record(folder)
    except ValueError as error:
        return str(error)
    if run_id(record.experiment, record.config, record.version) != rid:
        return f"config.json does not belong to run {rid} (edited by hand?)"
    if not expected:  # no checksum to trust: the arrays must at least open
        try:
            xr.load_dataset(folder / "arrays.nc", engine="netcdf4")
        except Exception as error:
            text = " ".join(str(error).split())[:100]
            return f"arrays.nc is unreadable ({type(error).__name__}: {text})"
    return None
