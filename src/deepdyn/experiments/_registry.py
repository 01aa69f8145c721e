"""The catalogue's registry: entries in registration order (= report order)."""

from __future__ import annotations

from deepdyn.runs import Experiment

_REGISTRY: dict[str, Experiment] = {}


def register(experiment: Experiment, *, replace: bool = False) -> Experiment:
    """Add ``experiment`` to the catalogue (registration order is report order); returns it.

    An id already registered is a ValueError unless ``replace``: then the new entry takes the
    old one's place (and position)."""
    if not isinstance(experiment, Experiment):
        raise TypeError(f"register expects an Experiment, got {type(experiment).__name__}")
    if experiment.id in _REGISTRY and not replace:
        raise ValueError(
            f'experiment "{experiment.id}" is already registered: pass replace=True to replace it'
        )
    _REGISTRY[experiment.id] = experiment
    return experiment


def unregister(experiment_id: str) -> None:
    """Remove the entry ``experiment_id`` from the catalogue; a missing id is ignored."""
    _REGISTRY.pop(experiment_id, None)


def get(experiment_id: str) -> Experiment:
    """The catalogue entry ``experiment_id``; a ValueError naming the valid ids otherwise."""
    try:
        return _REGISTRY[experiment_id]
    except (KeyError, TypeError):
        choices = ", ".join(_REGISTRY) or "(the catalogue is empty)"
        raise ValueError(f'experiment "{experiment_id}" unknown: choose one of {choices}') from None


def catalogue() -> list[Experiment]:
    """All entries, in registration order."""
    return list(_REGISTRY.values())
