"""Data sets of the thesis and the usual toy problems, as ``(X, y)`` torch tensors.

X has shape (sample, input). Classification labels y are int64 of shape (sample,) with classes
0 … k-1; regression targets (``oscillation``) are floats of shape (sample, 1). Every generator is
seeded by its ``seed`` keyword through a local ``torch.Generator``: the same seed gives
bit-identical tensors.
"""

from ._digits import digits
from ._functions import oscillation, oscillation_function, step
from ._registry import DATASETS, load
from ._split import split
from ._toy import gaussians, moons, rings, spheres, spirals, xor

__all__ = [
    "DATASETS",
    "digits",
    "gaussians",
    "load",
    "moons",
    "oscillation",
    "oscillation_function",
    "rings",
    "spheres",
    "spirals",
    "split",
    "step",
    "xor",
]
