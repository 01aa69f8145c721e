"""Keeping a playground network in the run store: the page's run becomes a finished run of the
``train`` catalogue entry with the exported config, carrying the trained network, so that
``deepdyn.runs.Store(path).network(run_id)`` rebuilds it (spec and θ as trained on the page)
and ``deepdyn runs show`` lists it.

Only settings that the ``train`` command carries can be kept this way (``command_gaps`` is
empty): a stored run must be one that ``deepdyn run train`` with its config would recompute.
"""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from deepdyn.app._session import Session
from deepdyn.app._settings import command_gaps, export_config


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def store_session(session: Session, path: str | Path) -> dict[str, Any]:
    """Store ``session``'s network and loss curve as a ``train`` run in the store at ``path``;
    returns {run_id, path, load}. ValueError (one line) when it cannot be stored."""
    from deepdyn import experiments
    from deepdyn.runs import Store, keep_networks, make_config
    from deepdyn.runs._store import write_folder

    s = session.settings
    gaps = command_gaps(s)
    if gaps:
        raise ValueError(
            f"cannot store this run: the train entry has no field for {', '.join(gaps)}; "
            "export the Python snippet instead"
        )
    if session.step == 0:
        raise ValueError("nothing trained yet: press start or step, then store")
    started = _now()
    clock = time.perf_counter()
    experiment = experiments.get("train")
    exported = export_config(s, session.step)
    config = make_config(experiment, overrides=exported["config"])
    store = Store(path)
    train, test, train_acc, test_acc = session._scores()
    score = "mse" if session.regression else "accuracy"
    attrs = {
        "classes": session.classes,
        "score": score,
        f"train_{score}": train if session.regression else train_acc,
        f"test_{score}": test if session.regression else test_acc,
        "seed": s.seed,
        "scale": s.scale,
        "source": "deepdyn playground",
    }
    y = session.y.reshape(len(session.y), -1)[:, 0].to(session.X.dtype)
    ds = xr.Dataset(
        {
            "loss": (("step",), np.asarray(session.losses[: session.step], dtype=np.float32)),
            "data_x": (("sample", "input"), session.X.numpy()),
            "data_y": (("sample",), y.numpy()),
        },
        coords={"step": np.arange(min(session.step, len(session.losses)))},
        attrs=attrs,
    )
    ds = keep_networks(ds, session.net)
    held = store.claim(experiment, config)
    if held is not None:
        raise ValueError(f"run {held.run_id} is being computed by pid {held.pid}: store later")
    try:
        write_folder(store.path, experiment, config, ds, figure=True, started=started,
                     seconds=time.perf_counter() - clock)  # fmt: skip
    except BaseException as error:
        store.release(experiment, config, f"playground store failed: {error}")
        raise
    info = store.record(experiment, config, "finished", started=started, ended=_now(),
                        host=socket.gethostname(), numbers=experiment.numbers(ds))  # fmt: skip
    return {
        "run_id": info.run_id,
        "path": str(store.path),
        "load": f"deepdyn.runs.Store({str(store.path)!r}).network({info.run_id!r})",
    }
