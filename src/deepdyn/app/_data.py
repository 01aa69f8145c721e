"""The playground's data: the named sets of ``deepdyn.data`` with the page's options (noise,
classes, train/test sizes, regression targets), a 2-D regression surface, and the user's own
points (clicked on the page or read from a CSV file of x, y, label lines).

The training set is drawn with ``seed``, the test set by the same generator with ``seed + 1``
(as the ``train`` catalogue entry does); noise comes from its own generator, so a set without
noise is exactly the catalogue's. Own points are split by ``train_fraction`` (stratified).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from deepdyn import data
from deepdyn.app._settings import LIMITS, Settings

MAX_CLASSES = 6
COORDINATE_BOUND = 10.0
MIN_POINTS = 4
_NOISE_STREAM = 1_000_003  # the noise generator's seed offset (apart from the data's)


def surface_function(x: torch.Tensor) -> torch.Tensor:
    """The 2-D regression target f(x) = sin(π x₁) cos(π x₂ / 2): (sample, 2) → (sample, 1)."""
    return (torch.sin(math.pi * x[:, 0]) * torch.cos(0.5 * math.pi * x[:, 1]))[:, None]


def _spiral_arms(n: int, arms: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``arms`` interleaved spirals (class c is the first rotated by 2πc/arms), 1.5 turns, in
    the unit disk; n // arms points each, in random order."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % arms
    r = torch.rand(n, generator=g, dtype=torch.float64)
    theta = 3 * math.pi * r + 2 * math.pi * y.double() / arms
    x = r[:, None] * torch.stack([torch.cos(theta), torch.sin(theta)], dim=1)
    perm = torch.randperm(n, generator=g)
    return x[perm].float(), y[perm]


def _named(s: Settings, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    if s.dataset == "gaussians":
        return data.gaussians(n, centers=s.classes, seed=seed)
    if s.dataset == "spirals" and s.classes != 2:
        return _spiral_arms(n, s.classes, seed)
    if s.dataset == "oscillation":
        return data.oscillation(n, m=s.periods, seed=seed)
    if s.dataset == "surface":
        g = torch.Generator().manual_seed(seed)
        x = 2 * torch.rand(n, 2, generator=g, dtype=torch.float64) - 1
        return x.float(), surface_function(x).float()
    X, y = data.load(s.dataset, n=n, seed=seed)
    if s.problem == "regression":  # the step as a regression target (sample, 1)
        y = y.float().reshape(-1, 1)
    return X, y


def _noisy(X: torch.Tensor, noise: float, seed: int) -> torch.Tensor:
    if noise == 0:
        return X
    g = torch.Generator().manual_seed(seed + _NOISE_STREAM)
    return X + noise * torch.randn(X.shape, generator=g, dtype=torch.float64).to(X.dtype)


def training_data(
    s: Settings, points: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(X, y, X_test, y_test) of the settings; ``points`` (sample, 3) are the user's own
    (x₁, x₂, label) for ``dataset = custom``."""
    if s.dataset == "custom":
        if points is None or len(points) < MIN_POINTS:
            raise ValueError(
                f"dataset custom needs at least {MIN_POINTS} points: click on the plane to add "
                "some, or upload a CSV file of x,y,label lines"
            )
        X = _noisy(points[:, :2].float(), s.noise, s.seed)
        if s.problem == "classification":
            y: torch.Tensor = points[:, 2].long()
        else:
            y = points[:, 2:3].float()
        Xtr, ytr, Xt, yt = data.split(X, y, test=1 - s.train_fraction, seed=s.seed,
                                      stratify=s.problem == "classification")  # fmt: skip
        if len(Xtr) == 0 or len(Xt) == 0:
            raise ValueError("too few points to split into training and test: add some")
        return Xtr, ytr, Xt, yt
    X, y = _named(s, s.points, s.seed)
    Xt, yt = _named(s, s.test_points, s.seed + 1)
    return _noisy(X, s.noise, s.seed), y, _noisy(Xt, s.noise, s.seed + 1), yt


def dimensions(s: Settings, points: torch.Tensor | None = None) -> tuple[int, int]:
    """(inputs d, classes: 0 for regression) of the settings' data."""
    d = 1 if s.dataset in ("step", "oscillation") else 2
    if s.problem == "regression":
        return d, 0
    if s.dataset in ("gaussians", "spirals"):
        return d, s.classes
    if s.dataset == "custom" and points is not None and len(points):
        return d, max(int(points[:, 2].max()) + 1, 2)
    return d, 2


def l1_penalty(rate: float) -> Any:
    """The regularizer rate · Σ|θ| over all parameters (a callable for :func:`deepdyn.fit`)."""

    def penalty(net: torch.nn.Module) -> torch.Tensor:
        return rate * sum(p.abs().sum() for p in net.parameters())  # type: ignore[return-value]

    return penalty


def parse_points(text: str, problem: str = "classification") -> torch.Tensor:
    """Points (sample, 3) from CSV text of ``x,y,label`` lines (an optional header line, blank
    lines skipped): labels are classes 0 … 5 (classification) or real targets (regression).

    Raises:
        ValueError: one line naming the first problem (its line number) and what is expected.
    """
    if not isinstance(text, str):
        raise ValueError("the points must be CSV text of x,y,label lines")
    rows: list[list[float]] = []
    most = int(LIMITS["points"][1])
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = [p.strip() for p in line.split(",")]
        if number == 1 and not _numeric(parts[0]):
            continue  # a header such as x,y,label
        if len(parts) != 3:
            raise ValueError(f"line {number}: expected 3 values x,y,label, got {len(parts)}")
        values = []
        for p in parts:
            if not _numeric(p):
                raise ValueError(f"line {number}: {p[:20]!r} is not a number")
            values.append(float(p))
        if not all(math.isfinite(v) and abs(v) <= COORDINATE_BOUND for v in values):
            raise ValueError(
                f"line {number}: values must be finite numbers in −{COORDINATE_BOUND:g} … "
                f"{COORDINATE_BOUND:g}"
            )
        label = values[2]
        if problem == "classification" and (label != int(label) or not 0 <= label < MAX_CLASSES):
            raise ValueError(
                f"line {number}: the label must be a class 0 … {MAX_CLASSES - 1}, got {parts[2]}"
            )
        rows.append(values)
        if len(rows) > most:
            raise ValueError(f"more than {most} points: keep at most {most}")
    if len(rows) < MIN_POINTS:
        raise ValueError(f"{len(rows)} points: give at least {MIN_POINTS} lines x,y,label")
    return torch.tensor(rows, dtype=torch.float64)


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_points(path: str | Path, problem: str = "classification") -> torch.Tensor:
    """:func:`parse_points` of a CSV file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"cannot read {path}: {e.__class__.__name__}") from None
    return parse_points(text, problem)


def points_csv(points: torch.Tensor) -> str:
    """The points as CSV text with a header (what :func:`parse_points` reads)."""
    lines = ["x,y,label"] + [f"{a:.6g},{b:.6g},{c:.6g}" for a, b, c in points.tolist()]
    return "\n".join(lines) + "\n"
