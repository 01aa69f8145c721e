"""The installed deepdyn version (light: the ``deepdyn --version`` path imports only this)."""

from __future__ import annotations

import functools
import importlib.metadata


@functools.cache  # reading the metadata costs ~3-5 ms; a sweep asks several times per config
def deepdyn_version() -> str:
    """The installed deepdyn version, or ``"0.0.0+local"`` when running from a source tree."""
    try:
        return importlib.metadata.version("deepdyn")
    except importlib.metadata.PackageNotFoundError:
        return "0.0.0+local"
