"""How fast the front door answers: ``deepdyn --help`` and ``deepdyn list`` as processes.

Each round starts, one after the other, ``python -m deepdyn.cli --help``, ``python -m deepdyn.cli
list``, ``python -m deepdyn.cli show init-norms`` and ``python -c "import torch"`` (the cost the
light paths avoid), with this interpreter and ``PYTHONPATH=<tree>/src``; the figure is the median
wall time over the rounds (process start to exit, output to a pipe). With ``--before DIR`` the same
commands of another source tree (e.g. a checkout of the commit before a change) run alternately in
the same rounds, so both trees see the same machine load.

Run:  .venv/bin/python benchmarks/cli_start.py [--rounds 7] [--before /path/to/old/checkout]
The last line on stdout is one JSON object (help_seconds, list_seconds, show_seconds,
torch_import_seconds; with --before also before_help_seconds, before_list_seconds, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {
    "help": ["-m", "deepdyn.cli", "--help"],
    "list": ["-m", "deepdyn.cli", "list"],
    "show": ["-m", "deepdyn.cli", "show", "init-norms"],
    "torch_import": ["-c", "import torch"],
}


def _load() -> float:
    return os.getloadavg()[0]


def _time(tree: Path, args: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "COLUMNS": "120"}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *args], capture_output=True, env=env, timeout=600)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr.decode()[-500:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--before", type=Path, help="another source tree, timed alternately")
    args = parser.parse_args()
    trees = {"": ROOT}
    if args.before is not None:
        trees["before_"] = args.before.resolve()
    print(f"python {platform.python_version()}, {os.cpu_count()} cores; load {_load():.2f}")
    for prefix, tree in trees.items():
        print(f"tree {prefix or 'this'}: {tree}")
    times: dict[str, list[float]] = {}
    for prefix in trees:  # one untimed warm-up each: the page cache, the .pyc files
        for name, cmd in COMMANDS.items():
            if not (prefix and name == "torch_import"):
                _time(trees[prefix], cmd)
    for r in range(args.rounds):
        for prefix, tree in trees.items():
            for name, cmd in COMMANDS.items():
                if prefix and name == "torch_import":
                    continue  # the same interpreter either way
                times.setdefault(f"{prefix}{name}_seconds", []).append(_time(tree, cmd))
        print(f"round {r + 1}/{args.rounds} done, load {_load():.2f}")
    result = {key: round(statistics.median(v), 3) for key, v in times.items()}
    print(f"\n{'command':<34} {'median s':>9} {'min s':>7} {'max s':>7}")
    for key, values in times.items():
        label = key.removesuffix("_seconds")
        median = statistics.median(values)
        print(f"{label:<34} {median:>9.3f} {min(values):>7.3f} {max(values):>7.3f}")
    print(f"load at the end {_load():.2f}")
    result.update(rounds=args.rounds, load_end=round(_load(), 2))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
