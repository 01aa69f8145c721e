"""`reproduce` with a store computes the missing entries in spawned worker processes (one per
core) and then writes the same report as a sequential run: same entries, order and numbers."""

from __future__ import annotations

import json
import os

import pytest

from _toy_sweep import BATCHED, TOY, batched, marks, toy
from deepdyn import experiments
from deepdyn.runs import Store


@pytest.fixture
def two_entries(tmp_path):
    toy()
    entry = batched()  # its quick config leaves a "<seed>.<pid>.<ns>" file per computation
    marks_dir = tmp_path / "marks"
    marks_dir.mkdir()
    quick = {**entry.quick, "marks": str(marks_dir)}
    experiments.register(experiments.Experiment(**{**entry.__dict__, "quick": quick}), replace=True)
    yield [TOY, BATCHED]
    experiments.unregister(TOY)
    experiments.unregister(BATCHED)


def test_workers_compute_in_other_processes_and_the_report_is_the_same(two_entries, tmp_path):
    par = experiments.reproduce(
        tmp_path / "par", quick=True, only=two_entries, store=Store(tmp_path / "s2"), workers=2
    )
    seq = experiments.reproduce(
        tmp_path / "seq", quick=True, only=two_entries, store=Store(tmp_path / "s1"), workers=1
    )
    assert [r.experiment_id for r in par] == [r.experiment_id for r in seq] == two_entries
    assert [r.numbers for r in par] == [r.numbers for r in seq]
    # the batched entry was computed twice: in a worker (parallel), then here (sequential)
    pids = [pid for _, pid in marks(tmp_path / "marks")]
    assert len(pids) == 2 and os.getpid() in pids and pids[0] != pids[1]
    numbers = json.loads((tmp_path / "par" / "numbers.json").read_text())
    assert list(numbers) == two_entries
    # a second reproduce reuses both stored runs: nothing is computed again
    again = experiments.reproduce(
        tmp_path / "par", quick=True, only=two_entries, store=Store(tmp_path / "s2"), workers=2
    )
    assert [r.numbers for r in again] == [r.numbers for r in par]
    assert len(Store(tmp_path / "s2").list()) == 2
    assert len(marks(tmp_path / "marks")) == 2


@pytest.mark.slow
def test_an_entry_failing_in_a_worker_raises_in_the_main_process(two_entries, tmp_path):
    from _toy_sweep import ToySweepConfig

    bad = experiments.get(TOY)
    experiments.register(
        experiments.Experiment(**{**bad.__dict__, "quick": {"n": 5, "fail": True}}), replace=True
    )
    assert ToySweepConfig(fail=True).fail
    with pytest.raises(RuntimeError, match="toy failure"):
        experiments.reproduce(
            tmp_path / "out", quick=True, only=two_entries, store=Store(tmp_path / "s"), workers=2
        )
    statuses = {info.experiment: info.status for info in Store(tmp_path / "s").list()}
    assert statuses[BATCHED] == "finished"
    assert statuses[TOY] == "failed"
