"""What the store runs: an experiment = a config dataclass + run + figure + numbers.

The catalogue (``deepdyn.experiments``) registers its entries as :class:`Experiment` objects; the
store and the sweeps (this package) run any Experiment, registered or not. An entry is a frozen
config dataclass plus three functions:

* ``run(config, progress) -> xarray.Dataset`` computes the arrays (the only step that trains);
* ``figure(dataset) -> Figure`` draws from the arrays alone;
* ``numbers(dataset) -> dict[str, float]`` picks the key numbers for the report;

and, optionally, ``batch(configs, progress) -> list[Dataset]`` with ``batch_fields``: configs
that differ only in those fields (seeds, init scales) run as one ensemble (sweeps group them).

``run_experiment`` stores the arrays first and draws the figure from the dataset read back from
disk, so every picture provably comes from stored arrays. The library is silent: progress is a
callable passed in, the CLI wires it to a progress bar.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import shutil
import time
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import xarray as xr
from matplotlib.figure import Figure

from deepdyn._files import atomic_write, write_text
from deepdyn._version import deepdyn_version
from deepdyn.runs import _networks

Progress = Callable[[int, int, str], None]
"""``progress(done, total, message)``: reports ``done`` of ``total`` units of work."""

ProgressFactory = Callable[[str], Progress | None]
"""``progress_for(experiment_id)``: the progress callback for one catalogue entry (or None)."""


class ProgressCounter:
    """Counts the units of work of a run for a ``progress`` callback that may be None.

    ``count = ProgressCounter(progress, total)``, then ``count("width 4")`` after each unit
    reports ``progress(done, total, "width 4")`` with ``done`` one more than before.
    """

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self, message: str) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total, message)


_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_SCALARS: dict[Any, str] = {int: "int", float: "float", bool: "bool", str: "str"}
_TUPLES: dict[Any, str] = {
    int: "tuple[int, ...]",
    float: "tuple[float, ...]",
    str: "tuple[str, ...]",
}
_TRUE = ("true", "1")
_FALSE = ("false", "0")
_DPI = 110


def field_types(config: type) -> dict[str, Any]:
    """The resolved type of each field of the config dataclass ``config``."""
    hints = typing.get_type_hints(config)
    return {f.name: hints[f.name] for f in dataclasses.fields(config)}


def type_name(tp: Any) -> str | None:
    """``"int"``, ``"tuple[float, ...]"``, …; None when ``tp`` is not a supported field type."""
    if tp in _SCALARS:
        return _SCALARS[tp]
    args = typing.get_args(tp)
    if typing.get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis:
        return _TUPLES.get(args[0])
    return None


@dataclasses.dataclass(frozen=True)
class Experiment:
    """One catalogue entry: a thesis figure or study, as config + run + figure + numbers.

    ``config`` is a frozen dataclass class whose fields all have defaults and are int, float,
    bool, str or ``tuple[int | float | str, ...]``; it validates itself in ``__post_init__``
    (raising ValueError). ``quick`` holds the config overrides for ``--quick`` mode, which must
    keep the entry under a few seconds. ``dims`` names the study axes the entry's arrays add
    to the vocabulary of :data:`deepdyn.DIMENSIONS` (``("gamma", "width")``); its ensemble axis
    is always ``ensemble``.
    """

    id: str
    title: str
    reference: str
    caption: str
    config: type
    run: Callable[[Any, Progress | None], xr.Dataset]
    figure: Callable[[xr.Dataset], Figure]
    numbers: Callable[[xr.Dataset], dict[str, float]]
    quick: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    batch: Callable[[Sequence[Any], Progress | None], list[xr.Dataset]] | None = None
    batch_fields: tuple[str, ...] = ()
    dims: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _ID.match(self.id):
            raise ValueError(
                f"experiment id {self.id!r} invalid: use lower-case letters, digits and '-'"
            )
        cls = self.config
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
            raise TypeError(f'experiment "{self.id}": config must be a dataclass class')
        if not cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
            raise TypeError(f'experiment "{self.id}": config {cls.__name__} must be frozen')
        types = field_types(cls)
        for f in dataclasses.fields(cls):
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise TypeError(f'experiment "{self.id}": config field "{f.name}" needs a default')
            if type_name(types[f.name]) is None:
                raise TypeError(
                    f'experiment "{self.id}": config field "{f.name}" has type '
                    f"{types[f.name]!r}: use int, float, bool, str or tuple[int|float|str, ...]"
                )
        for name, fn in (("run", self.run), ("figure", self.figure), ("numbers", self.numbers)):
            if not callable(fn):
                raise TypeError(f'experiment "{self.id}": {name} must be callable')
        unknown = sorted(set(self.quick) - set(types))
        if unknown:
            raise TypeError(
                f'experiment "{self.id}": quick keys {", ".join(unknown)} are not config fields'
            )
        unknown = sorted(set(self.batch_fields) - set(types))
        if unknown:
            raise TypeError(
                f'experiment "{self.id}": batch_fields {", ".join(unknown)} are not config fields'
            )
        if not isinstance(self.dims, tuple) or not all(isinstance(d, str) for d in self.dims):
            raise TypeError(
                f'experiment "{self.id}": dims must be a tuple of names, got {self.dims!r}'
            )
        if self.batch_fields and not callable(self.batch):
            raise TypeError(f'experiment "{self.id}": batch_fields need a batch function')

    def group_key(self, config: Any) -> str:
        """Configs with equal keys differ only in ``batch_fields``: they can run as one batch."""
        values = dataclasses.asdict(config)
        if self.batch is None:
            return json.dumps(values, sort_keys=True)  # every config its own group
        kept = {k: v for k, v in values.items() if k not in self.batch_fields}
        return json.dumps(kept, sort_keys=True)

    def compute(self, configs: Sequence[Any], progress: Progress | None = None) -> list[xr.Dataset]:
        """The datasets of ``configs`` (one per config, in order); nothing is stored.

        With a ``batch`` function every config goes through it, alone or in a group, so a config
        gives the same arrays either way (the entry's batch runs under
        ``deepdyn.dynamics.batch_invariant``); otherwise ``run`` is called once per config.
        """
        for config in configs:
            _check_config(self, config)
        if self.batch is not None:
            if len({self.group_key(c) for c in configs}) > 1:
                raise ValueError(
                    f'experiment "{self.id}": a batch may differ only in '
                    f"{', '.join(self.batch_fields) or '(no field)'}"
                )
            datasets = list(self.batch(list(configs), progress))
        else:
            datasets = [self.run(c, progress) for c in configs]
        if len(datasets) != len(configs):
            raise TypeError(
                f'experiment "{self.id}": got {len(datasets)} datasets for {len(configs)} configs'
            )
        for dataset in datasets:
            if not isinstance(dataset, xr.Dataset):
                raise TypeError(
                    f'experiment "{self.id}": run must return an xarray.Dataset, '
                    f"got {type(dataset).__name__}"
                )
        return datasets


@dataclasses.dataclass(frozen=True)
class Result:
    """What ``run_experiment`` stored: the config, the key numbers, the file paths, the time."""

    experiment_id: str
    config: Any
    numbers: dict[str, float]
    figure_path: Path
    arrays_path: Path
    seconds: float


# ---------------------------------------------------------------- configs


def _parse(key: str, tp: Any, value: Any) -> Any:
    """Convert an override to the field type ``tp``; strings are parsed (``--set key=value``)."""
    name = type_name(tp)
    is_tuple = name is not None and name.startswith("tuple")
    if not isinstance(value, str):
        if is_tuple and isinstance(value, list):
            return tuple(value)
        if tp is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return value  # the config validates it in __post_init__
    if tp is str:
        return value
    element = typing.get_args(tp)[0] if is_tuple else tp
    try:
        if is_tuple:
            text = value.strip().strip("()[]").strip()
            parts = [p.strip() for p in text.split(",")] if text else []
            if parts and parts[-1] == "":  # "1," is a one-element tuple
                parts.pop()
            return tuple(_scalar(element, p) for p in parts)
        return _scalar(element, value.strip())
    except ValueError:
        hint = ""
        if tp is bool:
            hint = " (true, false, 1 or 0)"
        elif is_tuple:
            hint = " (comma-separated, e.g. 1,2,3)"
        raise ValueError(f'config key "{key}" expects {name}{hint}, got "{value}"') from None


def _scalar(tp: Any, text: str) -> Any:
    if tp is bool:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError(text)
    if tp is str:
        return text
    return tp(text)  # int(...) or float(...): ValueError when unparsable


def make_config(
    experiment: Experiment,
    *,
    quick: bool = False,
    overrides: Mapping[str, Any] | None = None,
) -> Any:
    """Build the config of ``experiment``: defaults, then ``quick`` overrides, then ``overrides``.

    String values (from ``--set key=value``) are parsed by the field's type: int, float, bool
    (true/false/1/0), str, tuples from comma-separated text ``"1,2,3"``. Other values are passed
    as they are; the config validates itself.
    """
    types = field_types(experiment.config)
    merged: dict[str, Any] = dict(experiment.quick) if quick else {}
    for key, value in (overrides or {}).items():
        if key not in types:
            raise ValueError(
                f'config key "{key}" unknown for experiment "{experiment.id}": '
                f"choose one of {', '.join(types)}"
            )
        merged[key] = value
    values = {k: _parse(k, types[k], v) for k, v in merged.items()}
    for key, value in values.items():  # every seed alike, before anything runs or is stored
        seed = (key == "seed" or key.endswith("_seed")) and types[key] is int
        valid = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63
        if seed and not valid:
            raise ValueError(
                f'config key "{key}" is a seed: it expects an integer in 0 … 2**63 - 1, '
                f"got {value!r}"
            )
    return experiment.config(**values)


# ---------------------------------------------------------------- running and storing


class _Relay:
    """Forwards progress and remembers the last count, to report the storing phase on it."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.done, self.total = 0, 1

    def __call__(self, done: int, total: int, message: str) -> None:
        self.done, self.total = done, total
        self.progress(done, total, message)


def _check_config(experiment: Experiment, config: object) -> None:
    if not isinstance(config, experiment.config):
        raise TypeError(
            f'experiment "{experiment.id}" expects a {experiment.config.__name__} config, '
            f"got {type(config).__name__}"
        )


def write_run(
    experiment: Experiment,
    config: Any,
    dataset: xr.Dataset,
    out_dir: Path | str,
    *,
    figure: bool = True,
    seconds: float = 0.0,
) -> Result:
    """Store a computed ``dataset`` under ``out_dir/<id>/``; nothing is computed.

    Files: ``arrays.nc`` (the dataset, netCDF-4), ``config.json``, ``numbers.json``,
    ``network.nc`` when the dataset carries trained networks (``keep_networks``) and, with
    ``figure``, ``figure.png`` drawn from the dataset read back from ``arrays.nc``, so every
    picture provably comes from stored arrays. Each file goes through a temporary name.
    """
    entry_dir = Path(out_dir) / experiment.id
    entry_dir.mkdir(parents=True, exist_ok=True)
    dataset, networks = _networks.split(dataset)
    if networks:
        atomic_write(entry_dir / _networks.FILE, lambda p: _networks.write(p, networks))
    arrays_path = entry_dir / "arrays.nc"
    figure_path = entry_dir / "figure.png"
    version = deepdyn_version()
    dataset = dataset.assign_attrs(deepdyn_experiment=experiment.id, deepdyn_version=version)
    atomic_write(arrays_path, lambda p: dataset.to_netcdf(p, engine="netcdf4"))
    # the figure is drawn from the file read back; the numbers need no second read (the
    # round trip is exact), which halves the cost of storing a run of a sweep
    stored = xr.load_dataset(arrays_path, engine="netcdf4") if figure else dataset
    record = {
        "experiment": experiment.id,
        "deepdyn_version": version,
        "config": dataclasses.asdict(config),
    }
    write_text(entry_dir / "config.json", json.dumps(record, indent=2) + "\n")
    if figure:
        draw_figure(experiment, stored, figure_path)
    numbers = {str(k): float(v) for k, v in experiment.numbers(stored).items()}
    write_text(entry_dir / "numbers.json", json.dumps(numbers, indent=2) + "\n")
    return Result(experiment.id, config, numbers, figure_path, arrays_path, seconds)


def draw_figure(experiment: Experiment, dataset: xr.Dataset, path: Path | str) -> Path:
    """Draw ``experiment.figure(dataset)`` into the PNG file ``path`` (atomically)."""
    import matplotlib.pyplot as plt

    fig = experiment.figure(dataset)
    try:
        atomic_write(Path(path), lambda p: fig.savefig(p, dpi=_DPI, format="png"))
    finally:
        plt.close(fig)
    return Path(path)


def run_experiment(
    experiment: Experiment,
    config: Any,
    out_dir: Path | str,
    *,
    progress: Progress | None = None,
    figure: bool = True,
) -> Result:
    """Compute one entry (``experiment.compute([config])``) and store it under ``out_dir/<id>/``.

    ``progress(done, total, message)`` receives the entry's own progress, then
    ``(1, 1, "done")`` when everything is stored. See :func:`write_run` for the files.
    """
    _check_config(experiment, config)
    start = time.perf_counter()
    relay = _Relay(progress) if progress is not None else None
    if relay is not None:
        relay(0, 1, "starting")
    (dataset,) = experiment.compute([config], relay)
    if relay is not None:
        relay.progress(relay.done, relay.total, "storing arrays, drawing figure")
    result = write_run(experiment, config, dataset, out_dir, figure=figure)
    result = dataclasses.replace(result, seconds=time.perf_counter() - start)
    if relay is not None:
        relay.progress(1, 1, "done")
    return result


def copy_entry(result: Result, out_dir: Path | str) -> Result:
    """Copy the files of a stored run into ``out_dir/<id>/`` (for the report); the copy's Result.

    Copies every file beside ``result.arrays_path`` (arrays, figure, config, numbers, log).
    """
    source = result.arrays_path.parent
    entry_dir = Path(out_dir) / result.experiment_id
    if source.resolve() == entry_dir.resolve():
        return result
    entry_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.iterdir()):
        if path.is_file():
            atomic_write(entry_dir / path.name, functools.partial(shutil.copyfile, path))
    return dataclasses.replace(
        result,
        figure_path=entry_dir / result.figure_path.name,
        arrays_path=entry_dir / result.arrays_path.name,
    )
