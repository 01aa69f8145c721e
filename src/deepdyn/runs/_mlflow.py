"""Runs as MLflow runs: ``deepdyn runs export --mlflow DIR|URI`` (the ``mlflow`` extra).

Each stored run becomes one MLflow run in the MLflow experiment named like its deepdyn entry:
params = the config, metrics = the key numbers plus every loss curve of its arrays (each
1-D variable over ``step``, logged at its training steps), artifacts = the run's folder (figure,
arrays.nc, config.json, numbers.json, log). The MLflow run is tagged ``deepdyn.run_id``; an
export finds runs already exported by that tag and skips them, so exporting again adds only
new runs. Runs still ``running`` are left out; failed runs are exported as FAILED with their
error as a tag.

A target without a scheme is a local folder, written as MLflow's file store (MLflow 3 keeps
that store in maintenance mode: open it with ``MLFLOW_ALLOW_FILE_STORE=true mlflow ui
--backend-store-uri DIR``); any URI (``http://…``, ``sqlite:///…``, ``databricks``) is passed
to MLflow as it is.
"""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from deepdyn.runs._index import RunInfo
from deepdyn.runs._query import format_value

TAG = "deepdyn.run_id"
_PARAM_LIMIT = 6000  # MLflow's longest param value


def _ms(stamp: str | None) -> int | None:
    if stamp is None:
        return None
    return int(datetime.datetime.fromisoformat(stamp).timestamp() * 1000)


def tracking_uri(target: str | Path) -> str:
    """``target`` as an MLflow tracking URI: a folder becomes ``file:///abs/path``."""
    text = str(target)
    if "://" in text or text.startswith(("file:", "databricks")):
        return text
    return Path(text).resolve().as_uri()


@contextlib.contextmanager
def _client(uri: str) -> Iterator[Any]:
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise ValueError('MLflow export needs mlflow: pip install "deepdyn[mlflow]"') from None
    key = "MLFLOW_ALLOW_FILE_STORE"
    before = os.environ.get(key)
    if uri.startswith("file:"):
        os.environ[key] = "true"  # MLflow 3 refuses its file store unless asked for it
    try:
        yield MlflowClient(tracking_uri=uri)
    finally:
        if uri.startswith("file:"):
            if before is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = before


def _curves(info: RunInfo) -> list[tuple[str, list[tuple[int, float]]]]:
    """Every 1-D ``step`` variable of the run's arrays as (name, [(step, value), …])."""
    path = info.path / "arrays.nc"
    if info.status != "finished" or not path.is_file():
        return []
    import xarray as xr

    curves = []
    with xr.open_dataset(path, engine="netcdf4") as ds:
        steps = ds["step"].values if "step" in ds.coords else None
        for name, var in ds.data_vars.items():
            if var.dims == ("step",):
                xs = steps if steps is not None else range(var.size)
                values = var.values
                curves.append((str(name), [(int(s), float(v)) for s, v in zip(xs, values)]))
    return curves


def _experiment_id(client: Any, name: str) -> str:
    found = client.get_experiment_by_name(name)
    return found.experiment_id if found is not None else client.create_experiment(name)


def export_mlflow(infos: Sequence[RunInfo], target: str | Path) -> tuple[int, int]:
    """Export ``infos`` to the MLflow tracking ``target``; returns (exported, already there)."""
    from mlflow.entities import Metric, Param, RunTag

    uri = tracking_uri(target)
    exported = skipped = 0
    with _client(uri) as client:
        experiment_ids: dict[str, str] = {}
        for info in infos:
            if info.status == "running":
                continue
            if info.experiment not in experiment_ids:
                experiment_ids[info.experiment] = _experiment_id(client, info.experiment)
            eid = experiment_ids[info.experiment]
            query = f"tags.`{TAG}` = '{info.run_id}'"
            if client.search_runs([eid], filter_string=query, max_results=1):
                skipped += 1
                continue
            tags = {TAG: info.run_id, "deepdyn.experiment": info.experiment, "host": info.host}
            if info.error:
                tags["deepdyn.error"] = info.error[:_PARAM_LIMIT]
            run = client.create_run(
                eid, start_time=_ms(info.started), tags=tags, run_name=info.run_id
            )
            rid = run.info.run_id
            end = _ms(info.ended) or _ms(info.started) or 0
            params = [
                Param(k, format_value(v)[:_PARAM_LIMIT]) for k, v in sorted(info.config.items())
            ]
            metrics = [Metric(k, float(v), end, 0) for k, v in sorted(info.metrics.items())]
            for name, points in _curves(info):
                key = name if name not in info.metrics else f"{name}_curve"
                metrics += [Metric(key, v, end, s) for s, v in points]
            for i in range(0, max(len(params), 1), 100):  # MLflow takes ≤ 100 params a batch
                client.log_batch(rid, params=params[i : i + 100])
            for i in range(0, len(metrics), 1000):  # and ≤ 1000 metrics
                client.log_batch(rid, metrics=metrics[i : i + 1000])
            client.log_batch(rid, tags=[RunTag("deepdyn.path", str(info.path))])
            if info.status == "finished" and info.path.is_dir():
                client.log_artifacts(rid, str(info.path))
            status = "FINISHED" if info.status == "finished" else "FAILED"
            client.set_terminated(rid, status=status, end_time=end)
            exported += 1
    return exported, skipped
