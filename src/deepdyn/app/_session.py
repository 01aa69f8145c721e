"""One playground session: data, network, optimizer, training in small chunks, and the arrays
of the live views.

A session is driven from a worker thread, one call at a time (a lock guards it). Each
:meth:`Session.advance` trains for a time budget (or until :attr:`Session.halt` is set) and
returns a frame: the output on a mesh of the input square (class probabilities, or the value
for regression), the grid lines and the data at every layer Φ(x, l) in the chosen components,
the train and test loss curves, the dead ReLU count and the per-layer activation and gradient
norms, the units of the chosen layer over the input plane with their incoming weights, the
vector field of that layer and, when that view is on, the FTLE field of the network over the
input plane (:meth:`Session._ftle_view`). Frames are kept as snapshots Φ̃(x, l, τ) within a
byte budget, thinned by half when it is full, for the training-time scrubber.
"""

from __future__ import annotations

import base64
import itertools
import math
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from deepdyn.analysis import ftle_field, gradient_norms
from deepdyn.app._data import dimensions, l1_penalty, training_data
from deepdyn.app._settings import Settings, check_work, network_spec
from deepdyn.dynamics import Network, build
from deepdyn.train import OPTIMIZERS, _losses, batches, compute_loss
from deepdyn.viz import grid_lines

GRID_POINTS = 40  # points per grid line
MAX_CURVE = 2000  # loss-curve points kept (thinned by half beyond)
MAX_SNAPSHOTS = 60
UNIT_MESH = 24  # points per side of the per-unit heatmaps
FIELD_MESH = 15  # arrows per side of the vector field
MAX_LOSSES = 10**6  # per-step losses kept for the run store
FTLE_MESH = 32  # points per side of the FTLE view (map, Euler: forward tangents, ~1–100 ms)
FTLE_MESH_REVERSE = 16  # leapfrog, ode: one backward pass per state component (~0.3–0.6 s)
FTLE_SHARE = 0.25  # while training, the FTLE view takes at most this share of the time
_VIEWS = ("probs", "grid", "states", "grid_z", "states_z")


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


def _pick(a: np.ndarray, comps: Sequence[int]) -> np.ndarray:
    """Components ``comps`` of (..., component), zeros for a component the state lacks."""
    cols = [a[..., c] if c < a.shape[-1] else np.zeros(a.shape[:-1], a.dtype) for c in comps]
    return np.stack(cols, axis=-1)


def _plane(a: np.ndarray, comps: Sequence[int] = (0, 1)) -> np.ndarray:
    """Components ``comps[:2]`` (by default the first two), zero-padded when missing."""
    return _pick(a, comps[:2])


class Diverged(ValueError):
    """The loss became NaN or inf: training stops at ``step``; ``hint`` says what to change."""

    def __init__(self, step: int, hint: str) -> None:
        super().__init__(f"the loss became non-finite at step {step}: {hint}")
        self.step = step
        self.hint = hint


def build_network(s: Settings, d: int, classes: int) -> Network:
    """The network of the settings for d inputs and ``classes`` classes (its spec:
    :func:`deepdyn.app.network_spec`)."""
    return build(network_spec(s, d, classes))


class Session:
    """Training state and views of one page. ``snapshot_bytes`` bounds the scrubber's memory;
    ``points`` are the user's own (x₁, x₂, label) rows for ``dataset = custom``."""

    def __init__(
        self,
        settings: Settings,
        *,
        snapshot_bytes: int = 8 * 2**20,
        points: torch.Tensor | None = None,
    ) -> None:
        self.settings = s = settings
        self.lock = threading.Lock()
        self.halt = threading.Event()  # set: the training loop stops after the step in flight
        self.training = threading.Event()  # set while a training loop runs
        self.points = points if s.dataset == "custom" else None
        self.X, self.y, self.Xt, self.yt = training_data(s, self.points)  # (sample, input)
        check_work(s, len(self.X), len(self.Xt))
        self.d, self.classes = dimensions(s, self.points)
        self.regression = self.classes == 0
        self.net = build_network(s, self.d, self.classes)
        factory = OPTIMIZERS[s.optimizer]
        assert factory is not None  # the page offers the element-wise torch optimizers
        self.opt = factory(list(self.net.parameters()), lr=s.lr)
        self.penalty: Any = None
        if s.regularization_rate > 0 and s.regularization == "l2":
            rate = s.regularization_rate
            self.penalty = lambda net: rate * sum((p**2).sum() for p in net.parameters())
        elif s.regularization_rate > 0 and s.regularization == "l1":
            self.penalty = l1_penalty(s.regularization_rate)
        # the same mini-batches as deepdyn.fit (and so as the exported train run)
        n, b = self.X.shape[0], s.batch_size
        self.batches = batches(n, b if 0 < b < n else None, s.seed)
        self.step = 0
        self.losses: list[float] = []  # the objective of every step (the run store's curve)
        self.curve: dict[str, list[float | None]] = {"step": [], "train": [], "test": []}
        both = torch.cat([self.X, self.Xt])
        lo = float(both.min()) - 0.2
        hi = float(both.max()) + 0.2
        self.lo, self.hi = min(lo, -1.2), max(hi, 1.2)
        if self.d == 2:
            self.grid = grid_lines(s.grid_lines, GRID_POINTS, lo=self.lo, hi=self.hi)
        else:  # one line: the real axis
            self.grid = torch.linspace(self.lo, self.hi, GRID_POINTS)[None, :, None]
        self.grid = self.grid.to(torch.float32)
        self.mesh = self._mesh(s.resolution)
        self.unit_mesh = self._mesh(UNIT_MESH)
        self.snapshot_bytes = snapshot_bytes
        self.snapshots: list[dict[str, Any]] = []
        self.snapshot_every = 10
        self._next_snapshot = 0
        self.error: str | None = None
        self.layer = self.net.depth  # the layer of the unit and field views
        self.components: tuple[int, int, int] = (0, 1, 2)
        self.ftle = False  # the FTLE view is on (it costs extra passes: off by default)
        self._ftle: dict[str, Any] | None = None  # the last FTLE view and its (step, layer)
        self._ftle_next = 0.0  # perf_counter time after which a training frame recomputes it

    def _mesh(self, r: int) -> torch.Tensor:
        u = torch.linspace(self.lo, self.hi, r)
        if self.d == 1:
            return u[:, None]  # (sample, 1): the output does not depend on x₂
        gx, gy = torch.meshgrid(u, u, indexing="xy")  # (gy, gx)
        return torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)  # (sample, 2)

    @property
    def state_width(self) -> int:
        """The widest state of the flow (the components a view can choose from)."""
        return max(self.net.field.widths)

    def set_view(
        self,
        layer: int | None = None,
        components: Sequence[int] | None = None,
        ftle: bool | None = None,
    ) -> None:
        """Choose the layer of the unit, field and FTLE views and the components shown
        (1-based on the page, 0-based here), and turn the FTLE view on or off; a ValueError
        names the valid range."""
        if ftle is not None:
            self.ftle = bool(ftle)
        if layer is not None:
            if not 0 <= layer <= self.net.depth:
                raise ValueError(f"layer must be in 0 … {self.net.depth}, got {layer}")
            self.layer = layer
        if components is not None:
            comps = tuple(int(c) for c in components)
            C = self.state_width
            if len(comps) != 3 or len(set(comps)) != 3 or not all(0 <= c < max(C, 3)
                                                                   for c in comps):  # fmt: skip
                raise ValueError(
                    f"components must be 3 different indices in 1 … {max(C, 3)}, got "
                    f"{[c + 1 for c in comps]}"
                )
            self.components = comps  # type: ignore[assignment]

    # ---------------------------------------------------------------- training
    def _objective(self, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = compute_loss(self.net, X, y)
        if self.penalty is not None:
            loss = loss + self.penalty(self.net)
        return loss

    def _train_step(self) -> float:
        idx = next(self.batches)
        Xb, yb = (self.X, self.y) if idx is None else (self.X[idx], self.y[idx])
        self.opt.zero_grad()
        loss = self._objective(Xb, yb)
        if not bool(torch.isfinite(loss)):
            s = self.settings
            raise Diverged(self.step, (
                f"lower the learning rate (lr={s.lr:g}) or the init scale (γ={s.scale:g}) "
                "and reset"))  # fmt: skip
        loss.backward()
        self.opt.step()
        self.step += 1
        value = float(loss.detach())
        if len(self.losses) < MAX_LOSSES:
            self.losses.append(value)
        return value

    def train(self, *, steps: int | None = None, seconds: float = 0.1) -> int:
        """Train ``steps`` steps, or as many as fit in ``seconds`` (at least one); stops early
        when :attr:`halt` is set (no step starts once it is)."""
        start, done = time.perf_counter(), 0
        self.training.set()
        try:
            while not self.halt.is_set():
                self._train_step()
                done += 1
                if self.halt.is_set():
                    return done
                if steps is not None and done >= steps:
                    return done
                if steps is None and time.perf_counter() - start >= seconds:
                    return done
            return done
        finally:
            self.training.clear()

    # ---------------------------------------------------------------- views
    def _scores(self) -> tuple[float, float, float | None, float | None]:
        """(train loss, test loss, train accuracy, test accuracy): data losses without the
        penalty (one forward pass per set); accuracies None for regression."""
        name = _losses.resolve_loss(self.net, "auto")
        out: list[float] = []
        accs: list[float | None] = []
        with torch.no_grad():
            for X, y in ((self.X, self.y), (self.Xt, self.yt)):
                t = _losses.check_targets(self.net, y, name, samples=len(X), ensemble_axis=False)
                keep: list[torch.Tensor] = []
                out.append(float(_losses.per_member(self.net, X, t, name, keep)[0]))
                acc = _losses.logit_accuracy(keep[0], t.unsqueeze(0), name)
                accs.append(None if acc is None else float(acc[0]))
        return out[0], out[1], accs[0], accs[1]

    def _record_loss(self, train: float, test: float) -> None:
        c = self.curve
        if c["step"] and c["step"][-1] == self.step:
            return
        for key, v in (("step", float(self.step)), ("train", train), ("test", test)):
            c[key].append(_finite(v))
        if len(c["step"]) > MAX_CURVE:
            for key in c:
                c[key] = c[key][::2]

    def _gradient_norms(self) -> list[float]:
        """‖∂J/∂θ_l‖ per layer: of the last training step (its batch, penalty included: the
        gradients it left in ``.grad``, no extra pass), at step 0 of the data loss now."""
        params = [self.net.field.layer_parameters(l) for l in range(self.net.depth)]
        if self.step == 0 or any(p.grad is None for ps in params for p in ps):
            return [float(v) for v in gradient_norms(self.net, self.X, self.y)]
        with torch.no_grad():
            return [
                math.sqrt(sum(float((p.grad**2).sum()) for p in ps if p.grad is not None))
                for ps in params
            ]

    def _field(self, states: np.ndarray) -> dict[str, Any] | None:
        """The vector field f_l of the chosen layer on the plane of the first two chosen
        components (the others 0) over the box of the data at that layer: arrows (n, n, 2) at
        an n × n lattice; None for an MLP (a map, not a flow)."""
        if self.settings.architecture == "mlp":
            return None
        a, b = self.components[:2]
        z = _plane(states[self.layer], self.components)
        fin = z[np.isfinite(z)]
        lo, hi = (float(fin.min()), float(fin.max())) if fin.size else (-1.0, 1.0)
        pad = 0.05 * (hi - lo) + 1e-6
        lo, hi = lo - pad, hi + pad
        n = FIELD_MESH
        u = torch.linspace(lo, hi, n)
        gx, gy = torch.meshgrid(u, u, indexing="xy")
        C = self.state_width
        pts = torch.zeros(n * n, C)
        if a < C:
            pts[:, a] = gx.reshape(-1)
        if b < C:
            pts[:, b] = gy.reshape(-1)
        k = min(self.layer, self.net.depth - 1)
        with torch.no_grad():
            f = self.net.field(k, pts[None])[0].numpy()  # (sample, component)
        return {"lo": lo, "hi": hi, "n": n, "layer": k, "arrows": encode(_plane(f, (a, b)))}

    def ftle_unavailable(self) -> str | None:
        """Why this session has no FTLE view (None when it has one)."""
        if self.d != 2:
            return (
                f"the FTLE field is drawn over the plane of 2 inputs; this network has {self.d} "
                "input (a curve ŷ(x) has no plane to colour)"
            )
        return None

    def _ftle_view(self, fresh: bool = True) -> dict[str, Any] | None:
        """The FTLE field λ(x) = log σ_max(∂z/∂x) / (t − t₀) over the input square
        (:func:`deepdyn.analysis.ftle_field`) of x ↦ z_l for the chosen layer l ≥ 1 and of the
        whole network x ↦ logits: rows ``values`` (row, gy, gx) with their ``layers`` (0: the
        whole network), the predicted class on the same grid (``labels``, classification),
        the ``step`` it is of and the ``seconds`` it took. None when the view is off; for a
        network without 2 inputs, ``available`` False and the ``reason``.

        It is computed when the view is turned on, when the layer changes and when the network
        changed since; while training (``fresh`` False) at most every ``seconds / FTLE_SHARE``,
        so it takes at most a quarter of the time (a stale view says its ``step``)."""
        if not self.ftle:
            return None
        reason = self.ftle_unavailable()
        if reason is not None:
            return {"available": False, "reason": reason}
        old = self._ftle
        lag = not fresh and time.perf_counter() < self._ftle_next
        if old is not None and old["layer_key"] == self.layer and (old["step"] == self.step or lag):
            return {k: v for k, v in old.items() if k != "layer_key"}
        net = self.net
        n = FTLE_MESH if net.scheme.one_step else FTLE_MESH_REVERSE
        layers = [self.layer] if self.layer >= 1 else []
        start = time.perf_counter()
        fld = ftle_field(net, ((self.lo, self.hi), (self.lo, self.hi)), n, layers=layers,
                         whole=True)  # fmt: skip
        seconds = time.perf_counter() - start
        self._ftle_next = time.perf_counter() + seconds / FTLE_SHARE
        vals = fld.values[:, 0]  # (row, gy, gx)
        fin = vals[np.isfinite(vals)]
        view = {
            "available": True,
            "n": n,
            "lo": self.lo,
            "hi": self.hi,
            "layers": list(fld.layers),
            "values": encode(vals),
            "min": float(fin.min()) if fin.size else None,
            "max": float(fin.max()) if fin.size else None,
            "labels": None if self.regression else encode(fld.labels()[0]),
            "step": self.step,
            "seconds": seconds,
        }
        self._ftle = {**view, "layer_key": self.layer}
        return view

    def setup(self) -> dict[str, Any]:
        """The static part of the views: the data and the input square."""
        Xt = self.Xt.numpy()
        return {
            "type": "setup",
            "settings": self.settings.model_dump(),
            "X": encode(_plane(self.X.numpy())),
            "y": self.y.reshape(len(self.y), -1)[:, 0].tolist(),
            "Xt": encode(_plane(Xt)),
            "yt": self.yt.reshape(len(self.yt), -1)[:, 0].tolist(),
            "classes": self.classes,
            "problem": self.settings.problem,
            "lo": self.lo,
            "hi": self.hi,
            "depth": self.net.depth,
            "dims": self.d,
            "state_width": self.state_width,
            "custom": self.points is not None,
            "ftle_unavailable": self.ftle_unavailable(),
        }

    def _pass(self) -> dict[str, Any]:
        """Every view's numbers from one flow of all the inputs at once (the data, the test
        set, the grid, the mesh and the unit mesh: one trajectory, so a deep network pays its
        per-layer overhead once): states (layer, sample, component) of the data and the grid,
        the outputs on the mesh, losses and accuracies, the dead-unit mask (relu), the units
        of the chosen layer."""
        net, n, nt = self.net, len(self.X), len(self.Xt)
        g = self.grid.reshape(-1, self.d)
        parts = [self.X, self.Xt, g, self.mesh, self.unit_mesh]
        edges = np.cumsum([0] + [len(p) for p in parts]).tolist()
        sl = [slice(a, b) for a, b in itertools.pairwise(edges)]
        name = _losses.resolve_loss(net, "auto")
        with torch.no_grad():
            tr = net.trajectory(torch.cat(parts)).at_layers()
            states = tr.states  # (layer, sample, component), padded to the widest state
            widths = tr.widths
            zL = states[-1][:, : widths[-1]][None]
            logits = zL if net.readout is None else net.readout.logits(zL)
            outputs = logits if net.readout is None else net.readout.apply_terminal(logits)
            scores: list[Any] = []
            for part, (X, y) in zip(sl[:2], ((self.X, self.y), (self.Xt, self.yt))):
                t = _losses.check_targets(net, y, name, samples=len(X), ensemble_axis=False)
                out = outputs if name == "mse" else logits
                scores.append(float(_losses.data_loss(out[:, part], t, name)[0]))
                acc = _losses.logit_accuracy(logits[:, part], t.unsqueeze(0), name)
                scores.append(None if acc is None else float(acc[0]))
            confusion = None
            if not self.regression:  # test set: rows the true class, columns the predicted
                lt = logits[0, sl[1]]
                pred = (lt[:, 0] > 0).long() if lt.shape[1] == 1 else lt.argmax(-1)
                k = max(self.classes, 2)
                cells = self.yt.long() * k + pred
                confusion = torch.bincount(cells, minlength=k * k).reshape(k, k).tolist()
            mask = None
            if self.settings.activation == "relu":
                hidden = net.field.widths[1:]
                mask = np.zeros((net.depth, max(hidden)), dtype=bool)
                for l in range(net.depth):
                    pre = net.field.evaluate(l, states[l][None, sl[0], : widths[l]])[1][0]
                    mask[l, : hidden[l]] = (pre[:, : hidden[l]] <= 0).all(dim=0).numpy()
            k = max(self.layer, 1) - 1  # layer l's units compute z_l from z_{l−1}
            pre_k = net.field.evaluate(k, states[k][None, sl[4], : widths[k]])[1][0]
        out = outputs[0, sl[3]]  # (mesh sample, output)
        pt = torch.cat([1 - out, out], dim=1) if self.classes == 2 else out
        r = self.settings.resolution
        p = pt.numpy()
        probs = (np.broadcast_to(p[None], (r, r, p.shape[1])) if self.d == 1
                 else p.reshape(r, r, -1))  # fmt: skip
        st = states.numpy()
        return {
            "states": st[:, sl[0]],
            "grid": st[:, sl[2]].reshape(st.shape[0], *self.grid.shape[:2], -1),
            "probs": probs,
            "train": scores[0], "train_acc": scores[1], "test": scores[2], "test_acc": scores[3],
            "mask": mask,
            "confusion": confusion,
            "units_pre": pre_k,
            "n": n + nt,
        }  # fmt: skip

    def _units_from(self, pre: torch.Tensor, dead: np.ndarray | None) -> dict[str, Any]:
        """The unit view from the pre-activations (sample, unit) of the chosen layer."""
        k = max(self.layer, 1) - 1
        width = self.net.field.widths[k + 1]
        act = self.net.field.activation(pre[:, :width]).numpy()  # (sample, unit)
        r = UNIT_MESH
        maps = act.T.reshape(width, 1, r).repeat(r, 1) if self.d == 1 else act.T.reshape(
            width, r, r)  # fmt: skip
        params = self.net.field.layer_parameters(k)
        W = params[0].detach()[0].numpy()  # (unit, input)
        b = params[1].detach()[0].numpy() if len(params) > 1 else np.zeros(width)
        return {
            "layer": k + 1,
            "maps": encode(maps),
            "weights": [[_finite(float(v)) for v in row] for row in W],
            "biases": [_finite(float(v)) for v in b],
            "dead": None if dead is None else [bool(v) for v in dead[k, :width]],
        }

    def frame(self, *, fresh: bool = True) -> dict[str, Any]:
        """The live views now (see the module docstring); also stores a snapshot when due.
        ``fresh`` False (a training frame) lets the FTLE view lag (:meth:`_ftle_view`)."""
        v = self._pass()
        train, test = v["train"], v["test"]
        self._record_loss(train, test)
        comps = self.components
        states, grid, mask = v["states"], v["grid"], v["mask"]
        units = int(sum(self.net.field.widths[1:]))
        dead = None if mask is None else int(mask.sum())
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging state: inf, sent as null
            acts = np.linalg.norm(states, axis=-1).mean(axis=-1)  # mean |z_l| over the data
        grads = self._gradient_norms()  # (layer,)
        views: dict[str, Any] = {
            "step": self.step,
            "probs": encode(v["probs"]),
            "grid": encode(_plane(grid, comps)),
            "states": encode(_plane(states, comps)),
            "act_norms": [_finite(float(a)) for a in acts],
            "grad_norms": [_finite(float(a)) for a in grads],
            "dead": dead,
            "units": units,
            "accuracy": v["test_acc"],
            "train_accuracy": v["train_acc"],
            "train_loss": _finite(train),
            "test_loss": _finite(test),
            "confusion": v["confusion"],
            "components": list(comps),
        }
        if self.state_width >= 3:
            views["grid_z"] = encode(_pick(grid, comps[2:]))
            views["states_z"] = encode(_pick(states, comps[2:]))
        self._snapshot(views)
        return {
            "type": "frame",
            "replay": False,
            **views,
            "neurons": self._units_from(v["units_pre"], mask),
            "field": self._field(states),
            "ftle": self._ftle_view(fresh),
            "loss": self.curve,
            "snapshots": [snap["step"] for snap in self.snapshots],
        }

    def _snapshot(self, views: dict[str, Any]) -> None:
        if self.step < self._next_snapshot:
            return
        size = sum(len(views[k]["data"]) for k in _VIEWS if k in views)
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

    def advance(self, *, steps: int | None = None, seconds: float = 0.1) -> dict[str, Any] | None:
        """Train (``steps`` or ``seconds``), then the frame (None when :attr:`halt` stopped
        the training: whoever halted it asks for the frame); thread-safe."""
        with self.lock:
            self.train(steps=steps, seconds=seconds)
            return None if self.halt.is_set() else self.frame(fresh=False)

    def current(self) -> dict[str, Any]:
        """The frame without training; thread-safe."""
        with self.lock:
            return self.frame()
