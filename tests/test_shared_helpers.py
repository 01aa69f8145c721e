"""The helpers shared across packages, each with one home: accuracy (deepdyn.train), the
log-log fit (deepdyn.analysis), progress counting (deepdyn.runs), atomic writes and one-line
errors (deepdyn._files, deepdyn._checks), and the catalogue's public registration."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
import torch

from deepdyn import _checks, _files, experiments
from deepdyn.analysis import loglog_fit
from deepdyn.runs import ProgressCounter
from deepdyn.train import accuracy


def test_accuracy_binary_and_multiclass_per_member():
    p = torch.tensor([[[0.9], [0.2], [0.6], [0.4]], [[0.1], [0.8], [0.7], [0.3]]])
    y = torch.tensor([1, 0, 0, 0])
    # member 0: right, right, wrong, right; member 1: wrong, wrong, wrong, right
    torch.testing.assert_close(accuracy(p, y), torch.tensor([0.75, 0.25], dtype=torch.float64))
    assert float(accuracy(p[0], y.double())) == 0.75  # float labels, no ensemble axis
    scores = torch.tensor([[0.1, 2.0, 0.3], [5.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    assert float(accuracy(scores, torch.tensor([1, 0, 0]))) == pytest.approx(2 / 3, abs=1e-15)


def test_loglog_fit_recovers_a_power_law():
    x = np.array([4.0, 8, 16, 32, 64])
    slope, intercept = loglog_fit(x, 3.0 * x**-2.0)
    assert slope == pytest.approx(-2.0, abs=1e-12)
    assert intercept == pytest.approx(np.log(3.0), abs=1e-12)
    assert loglog_fit([1, 10], [2, 20])[0] == pytest.approx(1.0, abs=1e-12)  # ints are fine


def test_progress_counter_counts_and_tolerates_none():
    seen = []
    count = ProgressCounter(lambda d, t, m: seen.append((d, t, m)), 3)
    for name in ("a", "b", "c"):
        count(name)
    assert seen == [(1, 3, "a"), (2, 3, "b"), (3, 3, "c")]
    silent = ProgressCounter(None, 2)
    silent("x")
    assert silent.done == 1


def test_atomic_write_leaves_no_half_file(tmp_path):
    path = tmp_path / "a.txt"
    _files.write_text(path, "old")

    def fail(p):
        p.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        _files.atomic_write(path, fail)
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["a.txt"]  # the temporary sibling is gone


def test_one_line():
    assert _checks.one_line("a\n  b\tc ") == "a b c"
    assert _checks.one_line(ValueError("width must be\n ≥ 1")) == "ValueError: width must be ≥ 1"
    assert _checks.one_line(KeyError()) == "KeyError"


def test_register_replace_and_unregister():
    entry = experiments.get("init-norms")
    toy = dataclasses.replace(entry, id="toy-helpers")
    experiments.register(toy)
    try:
        with pytest.raises(ValueError, match="already registered: pass replace=True"):
            experiments.register(toy)
        other = dataclasses.replace(toy, title="replaced")
        assert experiments.register(other, replace=True) is other
        assert experiments.get("toy-helpers").title == "replaced"
    finally:
        experiments.unregister("toy-helpers")
    assert "toy-helpers" not in [e.id for e in experiments.catalogue()]
    experiments.unregister("toy-helpers")  # a missing id is ignored
