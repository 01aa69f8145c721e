"""`deepdyn reproduce` timed into an empty store: each catalogue entry's seconds and the total.

Runs the CLI as a user does (a fresh process: imports and report writing count), into a new
temporary store and output folder, then reads each entry's run time from the report's
``numbers.json``. The target (issue "Fast flows"): total under 180 s full, under 60 s --quick.

    PYTHONPATH=src .venv/bin/python benchmarks/reproduce.py [--quick] [--only ID ...]

The last line on stdout is one JSON object with ``total_seconds`` (the command's wall time) and
``entries`` (seconds per entry).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="the reduced configs")
    ap.add_argument("--only", nargs="*", default=[], help="entries to run (default: all)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="deepdyn-reproduce-"))
    cli = Path(sys.executable).with_name("deepdyn")
    cmd = [str(cli), "reproduce", "--out", str(tmp / "report"), "--store", str(tmp / "runs")]
    cmd += ["--quick"] if args.quick else []
    for entry in args.only:
        cmd += ["--only", entry]
    print(f"load average at start: {os.getloadavg()[0]:.2f}; {' '.join(cmd[1:])}", flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    total = time.perf_counter() - start
    numbers = json.loads((tmp / "report" / "numbers.json").read_text())
    entries = {eid: float(v.get("seconds", 0.0)) for eid, v in numbers.items()}
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"{'entry':28} {'seconds':>8}")
    for eid, sec in sorted(entries.items(), key=lambda kv: -kv[1]):
        print(f"{eid:28} {sec:8.1f}")
    print(f"{'sum of entries':28} {sum(entries.values()):8.1f}")
    print(f"{'command wall time':28} {total:8.1f}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    summary = {
        "benchmark": "reproduce",
        "quick": args.quick,
        "total_seconds": round(total, 2),
        "entries_seconds": round(sum(entries.values()), 2),
        "entries": {k: round(v, 2) for k, v in entries.items()},
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
