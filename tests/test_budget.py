"""Sizes and types (issue 17, item 4): what cannot fit is refused in one line before torch
allocates it; inputs of any real dtype are cast; argument type errors name the argument; seeds
are checked alike, before anything is stored."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import deepdyn as dd
from deepdyn import _budget, experiments
from deepdyn.runs import Store

ROOT = Path(__file__).resolve().parents[1]


def test_a_network_that_cannot_fit_is_refused_before_allocating():
    with pytest.raises(ValueError, match=r"needs .* more than this machine allows .*lower width"):
        dd.MLP(2, 10**7, 2)
    with pytest.raises(ValueError, match="lower width"):
        dd.ResNet(2, 10**6, 4, ensemble=1000)
    dd.MLP(2, 10**5, 1)  # 2 × 10⁵ parameters: the estimate counts what is made, not width²


def test_data_that_cannot_fit_is_refused_before_allocating():
    for make in (lambda: dd.data.rings(10**10), lambda: dd.data.moons(10**11)):
        with pytest.raises(ValueError, match=r"data of \d+ samples needs .*lower n"):
            make()


def test_the_limit_follows_an_address_space_cap():
    limit, source = _budget.available()
    assert limit > 0 and source
    code = (
        "import resource; resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30));"
        "from deepdyn import _budget; print(_budget.available()[1])"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "ulimit -v" in done.stdout or "memory" in done.stdout


@pytest.mark.parametrize("setting", ["width=10000000", "samples=1000000000"])
def test_the_command_refuses_a_huge_setting_under_a_memory_cap(tmp_path, setting):
    def cap() -> None:  # as on a machine with a memory cap: the allocator must never be reached
        resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    args = [sys.executable, "-m", "deepdyn", "run", "train", "--quick", "--set", setting]
    args += ["--store", str(tmp_path / "store"), "--out", str(tmp_path / "out")]
    done = subprocess.run(
        args, env=env, capture_output=True, text=True, timeout=300, preexec_fn=cap
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "more than this machine allows" in last
    assert ("lower width" if "width" in setting else "lower n (samples)") in last


def test_inputs_of_any_real_dtype_are_cast_to_the_network():
    net = dd.MLP(2, 3, 2, seed=0)
    X = torch.tensor([[0.25, -0.5], [1.0, 2.0]])
    expected = net(X)
    assert torch.equal(net(X.double()), expected)
    assert net(X.half()).dtype == torch.float32
    assert torch.equal(net(torch.tensor([[1, 2], [0, -1]])), net(torch.tensor([[1.0, 2], [0, -1]])))
    with pytest.raises(ValueError, match=r"input must hold real numbers, got dtype torch\.bool"):
        net(X > 0)


def test_a_width_of_the_wrong_type_names_the_argument():
    with pytest.raises(ValueError, match=r"width must be an integer ≥ 1, got '3'"):
        dd.MLP(2, "3", 2)


@pytest.mark.parametrize("key", ["seed", "data_seed"])
def test_seeds_are_checked_alike_before_anything_is_stored(tmp_path, key):
    train = experiments.get("train")
    with pytest.raises(ValueError, match=f'config key "{key}" is a seed: .* got -5'):
        experiments.make_config(train, quick=True, overrides={key: "-5"})
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    args = [sys.executable, "-m", "deepdyn", "run", "train", "--quick", "--set", f"{key}=-1"]
    args += ["--store", str(tmp_path / "store"), "--out", str(tmp_path / "out")]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and f'config key "{key}" is a seed' in done.stderr
    assert not (tmp_path / "store").exists() or Store(tmp_path / "store").list() == []
