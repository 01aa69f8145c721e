"""What does the playground's FTLE view cost per frame, and how responsive is it with it on?

Two measurements per setting (torch 1 thread):

* in process (``deepdyn.app.Session``): the frame without the FTLE view, the FTLE field alone
  (``ftle_field`` of x ↦ z_L and of the whole network at the view's grid: 32² for map and
  Euler networks, 16² for leapfrog and the neural ODE), and a frame that recomputes it — the
  median of ``--repeats`` frames, one training step before each (so each one is of a new θ);
* over a socket (``deepdyn.app._load.measure``, as ``benchmarks/playground.py``): live updates
  per second while training for ``--seconds`` with the view off and on, the longest gap between
  two frames, the share of frames whose FTLE field is of the frame's own step (it is
  recomputed at most every cost / 0.25 s while training), and the pause (stopped, its frame:
  the paused frame always recomputes the field).

Settings: the page's default; a width-2, depth-20 ResNet on 1000 rings points; the two largest
allowed (``benchmarks/playground.py``'s ``LARGEST``); a width-16, depth-100 ResNet and MLP on
200 points (the one-step path at the work bound).

Run:  PYTHONPATH=src .venv/bin/python benchmarks/playground_ftle.py [--seconds 6] [--repeats 5]
The last line on stdout is one JSON object with every number.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from typing import Any

import torch

from deepdyn.app import Session, Settings, create_app
from deepdyn.app._load import background_server, measure

CASES: dict[str, dict[str, Any]] = {
    "default": {},
    "resnet_w2_d20_1000": {"dataset": "rings", "architecture": "resnet", "width": 2, "depth": 20,
                           "points": 1000},
    "second_order_100": {"architecture": "second_order", "width": 16, "depth": 100,
                         "points": 200, "resolution": 32, "grid_lines": 11},
    "ode_25": {"architecture": "ode", "width": 16, "depth": 25, "points": 200,
               "resolution": 32, "grid_lines": 11},
    "resnet_w16_d100": {"architecture": "resnet", "width": 16, "depth": 100, "points": 200,
                        "resolution": 32, "grid_lines": 11},
    "mlp_w16_d100": {"architecture": "mlp", "width": 16, "depth": 100, "points": 200,
                     "resolution": 32, "grid_lines": 11},
}  # fmt: skip


def in_process(settings: dict[str, Any], repeats: int) -> dict[str, float]:
    s = Session(Settings(**settings))
    s.frame()
    s.set_view(ftle=True)
    s.frame()  # warm up (the first forward-mode pass of a process costs ~0.5 s more)
    off, on, alone = [], [], []
    for _ in range(repeats):
        s.train(steps=1)
        s.set_view(ftle=False)
        t = time.perf_counter()
        s.frame()
        off.append(time.perf_counter() - t)
        s.set_view(ftle=True)
        t = time.perf_counter()
        view = s.frame()["ftle"]
        on.append(time.perf_counter() - t)
        alone.append(view["seconds"])
    return {"n": view["n"], "frame_off": statistics.median(off),
            "frame_on": statistics.median(on), "ftle": statistics.median(alone)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--only", nargs="*", default=None, help="case names")
    a = ap.parse_args()
    torch.set_num_threads(1)
    out: dict[str, object] = {"load_start": os.getloadavg()[0]}
    print(f"load average at start {os.getloadavg()[0]:.2f}")
    cases = {k: v for k, v in CASES.items() if a.only is None or k in a.only}
    with background_server(create_app()) as url:
        measure(url, {}, sessions=1, seconds=1.5)  # warm up
        for name, settings in cases.items():
            r: dict[str, Any] = {"settings": settings, **in_process(settings, a.repeats)}
            for key, view in (("socket_off", None), ("socket_on", {"ftle": True})):
                m = measure(url, settings, sessions=1, seconds=a.seconds, pause=True, view=view)[0]
                r[key] = m
            on, off = r["socket_on"], r["socket_off"]
            print(f"{name:20s} FTLE {r['n']}²: {1000 * r['ftle']:6.1f} ms; frame "
                  f"{1000 * r['frame_off']:6.1f} → {1000 * r['frame_on']:6.1f} ms; "
                  f"updates/s {off['rate']:.1f} → {on['rate']:.1f}, longest gap "
                  f"{off['max_gap']:.2f} → {on['max_gap']:.2f} s; fresh FTLE "
                  f"{on['ftle_fresh']}/{on['ftle_frames']}; pause frame "
                  f"{off['pause_frame_seconds']:.2f} → {on['pause_frame_seconds']:.2f} s",
                  flush=True)  # fmt: skip
            out[name] = r
    out["load_end"] = os.getloadavg()[0]
    print(f"load average at end {os.getloadavg()[0]:.2f}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
