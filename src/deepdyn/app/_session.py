"""One playground session: data, network, optimizer, training in small chunks, and the arrays
of the live views (issue 7, Build 2).

A session is driven from a worker thread, one call at a time (a lock guards it). Each
:meth:`Session.advance` trains for a time budget and returns a frame: the decision level sets
on a mesh of the input square, the grid lines and the data at every layer Φ(x, l) (thesis
eq. 3.8), the train and test loss curves, the dead ReLU count (Def. 8.1.1) and the per-layer
activation and gradient norms (§8.1). Frames are kept as snapshots Φ̃(x, l, τ) (eq. 3.9) within
a byte budget, thinned by half when it is full, for the training-time scrubber.
"""

from __future__ import annotations

import base64
import math
import threading
import time
from typing import Any

import numpy as np
import torch

from deepdyn import data
from deepdyn.analysis import activation_norms, dead_neurons, gradient_norms
from deepdyn.app._settings import Settings, network_spec
from deepdyn.dynamics import Network, build
from deepdyn.train import OPTIMIZERS, accuracy, batches, compute_loss
from deepdyn.viz import deform_grid, grid_lines, propagate

GRID_POINTS = 40  # points per grid line
MAX_CURVE = 2000  # loss-curve points kept (thinned by half beyond)
MAX_SNAPSHOTS = 60


def encode(a: np.ndarray) -> dict[str, Any]:
    """A float array as {shape, data}: little-endian float32 bytes in base64 (JS Float32Array)."""
    b = np.ascontiguousarray(a, dtype="<f4")
    return {"shape": list(b.shape), "data": base64.b64encode(b.tobytes()).decode("ascii")}


def decode(d: dict[str, Any]) -> np.ndarray:
    """The inverse of :func:`encode`."""
    raw = base64.b64decode(d["data"])
    return np.frombuffer(raw, dtype="<f4").reshape(d["shape"])


def _finite(v: float) -> float | None:
    """JSON has no nan or inf: they travel as null."""
    return v if math.isfinite(v) else None


def _plane(a: np.ndarray) -> np.ndarray:
    """The first two components of (..., component), zero-padded when there is one."""
    if a.shape[-1] >= 2:
        return a[..., :2]
    return np.concatenate([a, np.zeros_like(a)], axis=-1)


def build_network(s: Settings, d: int, classes: int) -> Network:
    """The network of the settings for d inputs and ``classes`` classes (its spec:
    :func:`deepdyn.app.network_spec`)."""
    return build(network_spec(s, d, classes))


class Session:
    """Training state and views of one page. ``snapshot_bytes`` bounds the scrubber's memory."""

    def __init__(self, settings: Settings, *, snapshot_bytes: int = 8 * 2**20) -> None:
        self.settings = s = settings
        self.lock = threading.Lock()
        self.X, self.y = data.load(s.dataset, n=s.points, seed=s.seed)  # (sample, input)
        self.Xt, self.yt = data.load(s.dataset, n=s.points, seed=s.seed + 1)
        self.d = self.X.shape[1]
        self.classes = max(int(self.y.max()) + 1, 2)
        self.net = build_network(s, self.d, self.classes)
        factory = OPTIMIZERS[s.optimizer]
        assert factory is not None  # the page offers the element-wise torch optimizers
        self.opt = factory(list(self.net.parameters()), lr=s.lr)
        # the same mini-batches as deepdyn.fit (and so as the exported train run)
        n, b = self.X.shape[0], s.batch_size
        self.batches = batches(n, b if 0 < b < n else None, s.seed)
        self.step = 0
        self.curve: dict[str, list[float | None]] = {"step": [], "train": [], "test": []}
        lo = float(self.X.min()) - 0.2
        hi = float(self.X.max()) + 0.2
        self.lo, self.hi = min(lo, -1.2), max(hi, 1.2)
        if self.d == 2:
            self.grid = grid_lines(s.grid_lines, GRID_POINTS, lo=self.lo, hi=self.hi)
        else:  # one line: the real axis
            self.grid = torch.linspace(self.lo, self.hi, GRID_POINTS)[None, :, None]
        self.grid = self.grid.to(torch.float32)
        u = torch.linspace(self.lo, self.hi, s.resolution)
        if self.d == 2:
            gx, gy = torch.meshgrid(u, u, indexing="xy")  # (gy, gx)
            self.mesh = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)  # (sample, 2)
        else:
            self.mesh = u[:, None]  # (sample, 1): the output does not depend on x₂
        self.snapshot_bytes = snapshot_bytes
        self.snapshots: list[dict[str, Any]] = []
        self.snapshot_every = 10
        self._next_snapshot = 0
        self.error: str | None = None

    # ---------------------------------------------------------------- training
    def _train_step(self) -> float:
        idx = next(self.batches)
        Xb, yb = (self.X, self.y) if idx is None else (self.X[idx], self.y[idx])
        self.opt.zero_grad()
        loss = compute_loss(self.net, Xb, yb)
        if not bool(torch.isfinite(loss)):
            raise ValueError(
                f"the loss became non-finite at step {self.step}: lower the learning rate "
                f"(lr={self.settings.lr:g}) or the init scale (γ={self.settings.scale:g}) and reset"
            )
        loss.backward()
        self.opt.step()
        self.step += 1
        return float(loss.detach())

    def train(self, *, steps: int | None = None, seconds: float = 0.1) -> int:
        """Train ``steps`` steps, or as many as fit in ``seconds`` (at least one)."""
        start, done = time.perf_counter(), 0
        while True:
            self._train_step()
            done += 1
            if steps is not None and done >= steps:
                return done
            if steps is None and time.perf_counter() - start >= seconds:
                return done

    # ---------------------------------------------------------------- views
    def _probabilities(self) -> np.ndarray:
        """(gy, gx, class) class probabilities on the mesh of the input square."""
        r = self.settings.resolution
        with torch.no_grad():
            out = self.net(self.mesh)  # (sample, output)
        p = torch.cat([1 - out, out], dim=1) if self.classes == 2 else out
        p = p.numpy()
        if self.d == 1:  # (gx, class) → every row the same
            return np.broadcast_to(p[None, :, :], (r, r, p.shape[1]))
        return p.reshape(r, r, -1)

    def _record_loss(self) -> None:
        with torch.no_grad():
            train = float(compute_loss(self.net, self.X, self.y))
            test = float(compute_loss(self.net, self.Xt, self.yt))
        c = self.curve
        if c["step"] and c["step"][-1] == self.step:
            return
        for key, v in (("step", float(self.step)), ("train", train), ("test", test)):
            c[key].append(_finite(v))
        if len(c["step"]) > MAX_CURVE:
            for key in c:
                c[key] = c[key][::2]

    def _dead(self) -> tuple[int | None, int]:
        widths = self.net.field.widths[1:]
        total = int(sum(widths))
        if self.settings.activation != "relu":
            return None, total
        return int(dead_neurons(self.net, self.X).sum()), total

    def _accuracy(self) -> float:
        with torch.no_grad():
            return float(accuracy(self.net(self.Xt), self.yt))

    def setup(self) -> dict[str, Any]:
        """The static part of the views: the data and the input square."""
        return {
            "type": "setup",
            "settings": self.settings.model_dump(),
            "X": encode(_plane(self.X.numpy())),
            "y": self.y.tolist(),
            "classes": self.classes,
            "lo": self.lo,
            "hi": self.hi,
            "depth": self.net.depth,
            "dims": self.d,
        }

    def frame(self) -> dict[str, Any]:
        """The live views now (see the module docstring); also stores a snapshot when due."""
        self._record_loss()
        grid = _plane(deform_grid(self.net, self.grid).values)  # (layer, line, point, 2)
        states = _plane(propagate(self.net, self.X).values)  # (layer, sample, 2)
        probs = self._probabilities()  # (gy, gx, class)
        dead, units = self._dead()
        acts = activation_norms(self.net, self.X).mean(dim=-1)  # (layer,)
        grads = gradient_norms(self.net, self.X, self.y)  # (layer,)
        views = {
            "step": self.step,
            "probs": encode(probs),
            "grid": encode(grid),
            "states": encode(states),
            "act_norms": [_finite(float(v)) for v in acts],
            "grad_norms": [_finite(float(v)) for v in grads],
            "dead": dead,
            "units": units,
            "accuracy": self._accuracy(),
        }
        self._snapshot(views)
        return {
            "type": "frame",
            "replay": False,
            **views,
            "loss": self.curve,
            "snapshots": [snap["step"] for snap in self.snapshots],
        }

    def _snapshot(self, views: dict[str, Any]) -> None:
        if self.step < self._next_snapshot:
            return
        size = sum(len(views[k]["data"]) for k in ("probs", "grid", "states"))
        cap = max(2, min(MAX_SNAPSHOTS, self.snapshot_bytes // max(size, 1)))
        self.snapshots.append(views)
        while len(self.snapshots) > cap:  # thin: keep every other, snapshot half as often
            self.snapshots = self.snapshots[::2]
            self.snapshot_every *= 2
        self._next_snapshot = self.step + self.snapshot_every

    def replay(self, index: int) -> dict[str, Any]:
        """Snapshot ``index`` (0 … len − 1) as a frame with ``replay`` set."""
        n = len(self.snapshots)
        if not 0 <= index < n:
            raise ValueError(f"snapshot {index} out of range: choose 0 … {n - 1}")
        return {
            "type": "frame",
            "replay": True,
            "index": index,
            **self.snapshots[index],
            "loss": self.curve,
            "snapshots": [snap["step"] for snap in self.snapshots],
        }

    def advance(self, *, steps: int | None = None, seconds: float = 0.1) -> dict[str, Any]:
        """Train (``steps`` or ``seconds``), then the frame; thread-safe."""
        with self.lock:
            self.train(steps=steps, seconds=seconds)
            return self.frame()

    def current(self) -> dict[str, Any]:
        """The frame without training; thread-safe."""
        with self.lock:
            return self.frame()
