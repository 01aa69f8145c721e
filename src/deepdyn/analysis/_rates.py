"""Rates read off a log-log plot: errors against depth, width or sample size."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def loglog_fit(
    x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray
) -> tuple[float, float]:
    """The least-squares line through (log x, log y): ``(slope, intercept)``.

    So y ≈ exp(intercept) · x^slope: a convergence order (error against depth L, slope −1 for
    Euler, thesis eq. 3.22), an approximation rate (error against width N), a generalization
    rate (gap against N). Every x and y must be positive; two points at least.
    """
    slope, intercept = np.polyfit(
        np.log(np.asarray(x, dtype=float)), np.log(np.asarray(y, dtype=float)), 1
    )
    return float(slope), float(intercept)
