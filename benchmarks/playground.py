"""How fast does the playground update, alone and under load?

Serves ``deepdyn.app.create_app()`` with uvicorn on 127.0.0.1 (a free port, in this process)
and connects WebSocket clients that configure a session, start training and count the live
frames they receive (``deepdyn.app._load.measure``):

* ``single``  one session, a width-2, depth-20 ResNet on 1000 rings points (target: ≥ 5 view
              updates per second on 2 cores), for ``--seconds`` (default 10)
* ``default`` one session with the page's default settings (target ≥ 10 updates/s), then a
              pause (target: training stopped and said so within 0.3 s)
* ``largest`` the largest settings allowed (``deepdyn.app._settings.MAX_WORK``): a width-16,
              depth-100 second-order network and a width-16, depth-25 neural ODE (4 RK4
              evaluations a layer), 200 points, full batch, 32² mesh, 11 grid lines (target
              ≥ 2 updates/s each), each then paused (target < 0.3 s)
* ``load``    ``--sessions`` (default 10) sessions with the same network at once for
              ``--load-seconds`` (default 20): per-session update rate (min / median / max),
              the longest gap between two frames, training steps done, the process' resident
              memory before and after, and whether every training task ended with its socket

Each frame carries the level sets on a 40 × 40 mesh, 22 grid lines × 40 points and the 1000
points at all 21 layers, the loss curves and the per-layer norms (about 440 kB of JSON).

The last line on stdout is one JSON object with every number.

Run:  PYTHONPATH=src .venv/bin/python benchmarks/playground.py [--threads 1] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import httpx
import torch

from deepdyn.app import create_app
from deepdyn.app._load import background_server, measure, rss_bytes

SETTINGS = {"dataset": "rings", "architecture": "resnet", "width": 2, "depth": 20, "points": 1000}
LARGEST = {
    "second_order_100": {"architecture": "second_order", "width": 16, "depth": 100,
                         "points": 200, "resolution": 32, "grid_lines": 11},
    "ode_25": {"architecture": "ode", "width": 16, "depth": 25, "points": 200,
               "resolution": 32, "grid_lines": 11},
}  # fmt: skip


def responsiveness(url: str, name: str, settings: dict[str, object], seconds: float
                   ) -> dict[str, object]:  # fmt: skip
    """Updates per second while training, the longest gap, and the pause times."""
    r = measure(url, settings, sessions=1, seconds=seconds, pause=True)[0]
    print(f"{name:18s} {r['rate']:.1f} updates/s, longest gap {r['max_gap']:.3f} s, "
          f"{r['steps']} steps in {seconds:g} s; pause: stopped in {r['pause_seconds']:.3f} s, "
          f"its frame in {r['pause_frame_seconds']:.3f} s")  # fmt: skip
    return {"settings": settings, **r}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--load-seconds", type=float, default=20.0)
    ap.add_argument("--quick", action="store_true", help="3 s single, 3 sessions × 5 s")
    ap.add_argument("--no-load", action="store_true", help="skip the load part")
    a = ap.parse_args()
    if a.quick:
        a.seconds, a.sessions, a.load_seconds = 3.0, 3, 5.0
    torch.set_num_threads(a.threads)
    out: dict[str, object] = {"threads": a.threads, "settings": SETTINGS,
                              "load_start": os.getloadavg()[0]}  # fmt: skip
    print(f"load average at start {os.getloadavg()[0]:.2f}")
    with background_server(create_app(max_sessions=max(16, a.sessions))) as url:
        measure(url, SETTINGS, sessions=1, seconds=2)  # warm up
        single = measure(url, SETTINGS, sessions=1, seconds=a.seconds)[0]
        print(f"single  {single['rate']:.1f} updates/s, longest gap {single['max_gap']:.3f} s, "
              f"{single['steps']} steps in {a.seconds:g} s")  # fmt: skip
        out["single"] = single
        out["default"] = responsiveness(url, "default", {}, a.seconds)
        out["largest"] = {k: responsiveness(url, k, v, a.seconds) for k, v in LARGEST.items()}
        worst = min(out["largest"].values(), key=lambda r: r["rate"])  # type: ignore[arg-type,return-value]
        out["targets"] = {
            "default_rate": out["default"]["rate"],  # type: ignore[index]
            "largest_rate": worst["rate"],
            "pause_seconds": max(r["pause_seconds"] for r in  # type: ignore[index]
                                 [out["default"], *out["largest"].values()]),  # type: ignore[list-item]
        }  # fmt: skip
        if a.no_load:
            out["load_end"] = os.getloadavg()[0]
            print(f"load average at end {os.getloadavg()[0]:.2f}")
            print(json.dumps(out))
            return
        rss0 = rss_bytes()
        load = measure(url, SETTINGS, sessions=a.sessions, seconds=a.load_seconds)
        rss1 = rss_bytes()
        deadline = time.monotonic() + 10
        while (health := httpx.get(url + "/api/health").json())["tasks"] and (
            time.monotonic() < deadline
        ):
            time.sleep(0.1)
        rates = [r["rate"] for r in load]
        out["load"] = {
            "sessions": a.sessions,
            "seconds": a.load_seconds,
            "rate_min": min(rates),
            "rate_median": statistics.median(rates),
            "rate_max": max(rates),
            "max_gap": max(r["max_gap"] for r in load),
            "steps_min": min(r["steps"] for r in load),
            "errors": sum(len(r["errors"]) for r in load),
            "rss_before_mib": rss0 / 2**20,
            "rss_after_mib": rss1 / 2**20,
            "tasks_left": health["tasks"],
            "sessions_left": health["sessions"],
        }
        ld = out["load"]
        print(f"load    {a.sessions} sessions × {a.load_seconds:g} s: "
              f"{ld['rate_min']:.2f} / {ld['rate_median']:.2f} / {ld['rate_max']:.2f} updates/s "
              f"(min / median / max), longest gap {ld['max_gap']:.2f} s, "
              f"≥ {ld['steps_min']} steps each, RSS {ld['rss_before_mib']:.0f} → "
              f"{ld['rss_after_mib']:.0f} MiB, tasks left {ld['tasks_left']}")  # fmt: skip
    out["load_end"] = os.getloadavg()[0]
    print(f"load average at end {os.getloadavg()[0]:.2f}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
