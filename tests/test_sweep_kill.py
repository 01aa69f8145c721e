"""A sweep killed with SIGKILL at random moments, then rerun: nothing lost, nothing twice.

The real command (``python -m deepdyn sweep train …``, 2 worker processes, ensembles of 2) runs
in its own process group; the whole group — driver and workers, as when a machine dies — is
killed with SIGKILL twice at random moments, then the same command runs to the end.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest
import xarray as xr

from deepdyn.runs import Store

pytestmark = pytest.mark.slow

GRID = ["--grid", "scale=0.5,1.5", "--grid", "steps=40", "--seeds", "4"]


@pytest.mark.parametrize("seed", [0, 1])
def test_sigkill_then_rerun_finishes_everything_exactly_once(tmp_path, seed):
    store_path = tmp_path / "store"
    command = [sys.executable, "-m", "deepdyn", "sweep", "train", "--quick", *GRID]
    command += ["--group-size", "2", "--workers", "2", "--store", str(store_path)]
    rng = random.Random(seed)
    delays = [rng.uniform(2.0, 14.0) for _ in range(2)]
    finished_before: dict[str, tuple[str | None, int]] = {}
    for delay in delays:
        process = subprocess.Popen(
            command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(delay)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        if not store_path.exists():
            continue
        store = Store(store_path)
        for info in store.list(status="finished"):
            # no half-written run is marked finished: its arrays load
            xr.load_dataset(info.path / "arrays.nc", engine="netcdf4")
            inode = (info.path / "arrays.nc").stat().st_ino
            finished_before.setdefault(info.run_id, (info.ended, inode))

    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, (delays, done.stderr[-2000:])
    store = Store(store_path)
    rows = store.list()
    assert len(rows) == 8, (delays, [r.status for r in rows])
    assert all(r.status == "finished" for r in rows), delays
    for run_id, (ended, inode) in finished_before.items():  # none recomputed
        info = store.get(run_id)
        assert info.ended == ended, (delays, run_id)
        assert (info.path / "arrays.nc").stat().st_ino == inode, (delays, run_id)
    check = subprocess.run(
        [sys.executable, "-m", "deepdyn", "runs", "check", "--store", str(store_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert check.returncode == 0 and check.stdout.strip() == "clean", check.stdout
    for info in rows:  # and every stored run is readable
        xr.load_dataset(info.path / "arrays.nc", engine="netcdf4")
