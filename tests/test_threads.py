"""deepdyn's torch-threads policy (deepdyn/_threads.py, docs/performance.md).

torch's thread count is per process, and this test process has set its own (conftest), so every
case runs in a fresh interpreter: the policy is observed as torch reports it there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORES = len(os.sched_getaffinity(0))


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in _CHOICES}
    full = {**base, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT / 'tests'}", **env}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=600
    )


_CHOICES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "DEEPDYN_THREADS")
_APPLY = "from deepdyn import _threads; print(_threads.apply())"


def _count(done: subprocess.CompletedProcess[str]) -> int:
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


def test_nobody_chose_one_thread():
    assert _count(_python(_APPLY)) == 1


@pytest.mark.parametrize(("value", "want"), [("3", 3), ("1", 1), ("auto", CORES), ("0", CORES)])
def test_deepdyn_threads_sets_it(value, want):
    assert _count(_python(_APPLY, DEEPDYN_THREADS=value)) == want


def test_a_set_num_threads_call_before_is_kept():
    code = f"import torch; torch.set_num_threads({CORES + 1}); {_APPLY}"
    assert _count(_python(code)) == CORES + 1


@pytest.mark.skipif(CORES < 2, reason="on one core torch's choice and deepdyn's are both 1")
def test_omp_num_threads_is_kept():
    torch_own = _count(_python("import torch; print(torch.get_num_threads())", OMP_NUM_THREADS="2"))
    assert torch_own == 2
    assert _count(_python(_APPLY, OMP_NUM_THREADS="2")) == torch_own


def test_an_explicit_count_wins_over_everything():
    code = (
        "import torch; torch.set_num_threads(3); from deepdyn import _threads; "
        "print(_threads.apply(2))"
    )
    assert _count(_python(code, DEEPDYN_THREADS="4", OMP_NUM_THREADS="3")) == 2


def test_a_bad_value_is_one_line_and_exit_2_in_the_command(tmp_path):
    done = _python(
        "import _toy_sweep; _toy_sweep.toy(); from deepdyn.cli import main; "
        f"main(['run', 'toy-sweep', '--quick', '--out', {str(tmp_path / 'out')!r}])",
        DEEPDYN_THREADS="many",
    )
    assert done.returncode == 2
    assert done.stderr.startswith('error: DEEPDYN_THREADS="many" is not a thread count')
    assert len(done.stderr.strip().splitlines()) == 1
    done = _python(
        "from deepdyn.cli import main; main(['run', 'init-norms', '--threads', '-1'])",
    )
    assert done.returncode == 2 and "--threads must be 0" in done.stderr


def test_worker_threads():
    code = (
        "import json; from deepdyn import _threads; "
        "print(json.dumps([_threads.worker_threads(w) for w in (1, 2, 4)]))"
    )
    for env, want in (
        ({}, [1, 1, 1]),
        ({"DEEPDYN_THREADS": "2"}, [2, 2, 2]),
        ({"DEEPDYN_THREADS": "0"}, [max(1, CORES // w) for w in (1, 2, 4)]),
        ({"OMP_NUM_THREADS": "1"}, [max(1, CORES // w) for w in (1, 2, 4)]),
    ):
        done = _python(code, **env)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == want, env


_RECORDING_ENTRY = """
import dataclasses, json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch, xarray as xr
from deepdyn import experiments
from deepdyn.cli import main

def _fig(ds):
    return plt.subplots()[0]

def _numbers(ds):
    return {"threads": float(ds["threads"])}

@dataclasses.dataclass(frozen=True)
class C:
    seed: int = 0

def run(config, progress):
    return xr.Dataset({"threads": ((), float(torch.get_num_threads()))})

experiments.register(experiments.Experiment(
    id="toy-threads", title="t", reference="§0", caption="c", config=C, run=run,
    figure=_fig, numbers=_numbers))
"""


def test_deepdyn_run_computes_with_the_policy(tmp_path):
    store = tmp_path / "store"
    command = (
        "import sys; "
        f"sys.argv = ['x', 'run', 'toy-threads', '--store', {str(store)!r}, "
        f"'--out', {str(tmp_path / 'out')!r}] + sys.argv[1:]; "
        "main(sys.argv[1:])"
    )
    for extra, env, want in (
        ([], {}, 1),
        (["--threads", "2"], {}, 2),
        ([], {"DEEPDYN_THREADS": "3"}, 3),
    ):
        script = _RECORDING_ENTRY + "\n" + command.replace("+ sys.argv[1:]", f"+ {extra!r}") + "\n"
        done = _python(script + "\n", **env)
        assert done.returncode == 0, done.stderr[-2000:]
        numbers = json.loads((tmp_path / "out" / "toy-threads" / "numbers.json").read_text())
        assert numbers["threads"] == want, (extra, env)
        subprocess.run(["rm", "-rf", str(store), str(tmp_path / "out")], check=True)


@pytest.mark.slow  # two spawned workers import torch: tens of seconds on a busy machine
def test_sweep_workers_get_the_policy(tmp_path):
    script = (
        _RECORDING_ENTRY
        + f"""
from deepdyn.runs import Store, sweep
if __name__ == "__main__":
    items = sweep(experiments.get("toy-threads"), {{}}, store=Store({str(tmp_path)!r} + "/s"),
                  seeds=2, workers=2, group_size=1, threads=int(sys.argv[1]) if len(sys.argv) > 1
                  and sys.argv[1] != "-" else None)
    print([i.error for i in items if i.error], file=sys.stderr)
    print(json.dumps([i.numbers.get("threads") for i in items]))
"""
    )
    path = tmp_path / "sweep_script.py"
    path.write_text(script, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in _CHOICES}
    env["PYTHONPATH"] = str(ROOT / "src")
    for args, extra, want in (([], {}, 1.0), (["3"], {}, 3.0), ([], {"DEEPDYN_THREADS": "2"}, 2.0)):
        subprocess.run(["rm", "-rf", str(tmp_path / "s")], check=True)
        done = subprocess.run(
            [sys.executable, str(path), *args],
            capture_output=True, text=True, env={**env, **extra}, timeout=900,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        assert json.loads(done.stdout.splitlines()[-1]) == [want, want], (args, extra)
