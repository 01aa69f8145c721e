"""Runs as a table: CSV and Parquet, one row per run, one column per config field and number.

Columns: ``run_id, experiment, status, started, ended, seconds, host, path, error``, then
``config.<field>`` for every config field of the runs (empty where a run's experiment has no such
field; tuples written as ``8,4,3``), then one column per key number. Parquet keeps the types
(int, float, bool, str; a column whose values mix types is written as text) and needs the
``parquet`` extra (``pip install "deepdyn[parquet]"``, i.e. pyarrow).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from deepdyn.runs._index import RunInfo
from deepdyn.runs._query import format_value
from deepdyn.runs._store import _file_errors, _seconds

_BASE = ("run_id", "experiment", "status", "started", "ended", "seconds", "host", "path", "error")


def _config_keys(infos: Sequence[RunInfo]) -> list[str]:
    keys: list[str] = []
    for info in infos:
        keys += [k for k in info.config if k not in keys]
    return keys


def columns(infos: Sequence[RunInfo]) -> dict[str, list[Any]]:
    """The export table as ``{column: values}`` (one value per run, None where missing)."""
    config_keys = _config_keys(infos)
    metric_keys = sorted({k for info in infos for k in info.metrics})
    table: dict[str, list[Any]] = {name: [] for name in _BASE}
    table |= {f"config.{k}": [] for k in config_keys}
    table |= {k: [] for k in metric_keys if k not in table}
    for info in infos:
        table["run_id"].append(info.run_id)
        table["experiment"].append(info.experiment)
        table["status"].append(info.status)
        table["started"].append(info.started)
        table["ended"].append(info.ended)
        table["seconds"].append(round(_seconds(info.started, info.ended), 3))
        table["host"].append(info.host)
        table["path"].append(str(info.path))
        table["error"].append(info.error)
        for k in config_keys:
            value = info.config.get(k)
            table[f"config.{k}"].append(format_value(value) if isinstance(value, list) else value)
        for k in metric_keys:
            table[k].append(info.metrics.get(k))
    return table


def write_csv(infos: Sequence[RunInfo], path: Path | str) -> Path:
    """Write the export table of ``infos`` to the CSV file ``path``; returns it."""
    table = columns(infos)
    out = Path(path)
    with _file_errors(out, "--csv"), out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(table)
        for row in zip(*table.values()):
            writer.writerow("" if v is None else format_value(v) for v in row)
    return out


def write_parquet(infos: Sequence[RunInfo], path: Path | str) -> Path:
    """Write the export table of ``infos`` to the Parquet file ``path`` (typed columns)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ValueError('Parquet export needs pyarrow: pip install "deepdyn[parquet]"') from None
    arrays = {}
    for name, values in columns(infos).items():
        kinds = {type(v) for v in values if v is not None}
        if len(kinds) > 1 and kinds != {int, float}:  # mixed types: write text
            values = [None if v is None else format_value(v) for v in values]
        arrays[name] = pa.array(values) if kinds else pa.array(values, type=pa.string())
    out = Path(path)
    with _file_errors(out, "--parquet"):
        pq.write_table(pa.table(arrays), out)
    return out
