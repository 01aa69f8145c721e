"""The catalogue framework: configs from strings, stored files, figures from arrays, the report."""

from __future__ import annotations

import dataclasses
import json
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr
from PIL import Image

from deepdyn import experiments
from deepdyn.experiments import Experiment, make_config, run_experiment

TOY = "toy-test"


@dataclasses.dataclass(frozen=True)
class ToyConfig:
    n: int = 50
    scale: float = 1.0
    name: str = "a"
    widths: tuple[int, ...] = (2, 3)
    rates: tuple[float, ...] = (0.1,)
    tags: tuple[str, ...] = ()
    flag: bool = False

    def __post_init__(self) -> None:
        if self.n < 2:
            raise ValueError(f"n must be ≥ 2, got {self.n}")


def _toy_run(config: ToyConfig, progress):
    x = np.linspace(0.0, 1.0, config.n)
    for i in range(3):
        if progress is not None:
            progress(i + 1, 3, "computing")
    return xr.Dataset(
        {"y": ("sample", config.scale * x**2)},
        coords={"sample": np.arange(config.n)},
    )


def _toy_figure(ds: xr.Dataset):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot(ds["sample"].values, ds["y"].values, color="tab:red", linewidth=2)
    return fig


def _toy_numbers(ds: xr.Dataset) -> dict[str, float]:
    return {"mean": float(ds["y"].mean()), "n": ds.sizes["sample"]}


@pytest.fixture
def toy():
    experiment = experiments.register(
        Experiment(
            id=TOY,
            title="Toy <parabola> & friends",
            reference="§0, eq. 0.1",
            caption="A parabola y = scale·x² drawn from stored arrays.",
            config=ToyConfig,
            run=_toy_run,
            figure=_toy_figure,
            numbers=_toy_numbers,
            quick={"n": 10},
        )
    )
    yield experiment
    experiments.unregister(TOY)


# ---------------------------------------------------------------- registry


def test_registry_get_catalogue_and_duplicates(toy):
    assert experiments.get(TOY) is toy
    assert toy in experiments.catalogue()
    with pytest.raises(ValueError, match='experiment "toy-test" is already registered'):
        experiments.register(toy)
    with pytest.raises(ValueError, match=r'experiment "nope" unknown: choose one of .*toy-test'):
        experiments.get("nope")


def test_unregister_removes_the_entry(toy):
    experiments.unregister(TOY)
    assert all(e.id != TOY for e in experiments.catalogue())
    with pytest.raises(ValueError, match="unknown"):
        experiments.get(TOY)


def test_experiment_rejects_bad_definitions():
    common = dict(
        title="t", reference="r", caption="c", run=_toy_run, figure=_toy_figure,
        numbers=_toy_numbers,
    )  # fmt: skip

    @dataclasses.dataclass(frozen=True)
    class NoDefault:
        n: int

    @dataclasses.dataclass
    class NotFrozen:
        n: int = 1

    @dataclasses.dataclass(frozen=True)
    class BadType:
        n: list = dataclasses.field(default_factory=list)

    with pytest.raises(ValueError, match="id"):
        Experiment(id="Bad Id", config=ToyConfig, **common)
    with pytest.raises(TypeError, match="needs a default"):
        Experiment(id="x", config=NoDefault, **common)
    with pytest.raises(TypeError, match="frozen"):
        Experiment(id="x", config=NotFrozen, **common)
    with pytest.raises(TypeError, match='"n" has type'):
        Experiment(id="x", config=BadType, **common)
    with pytest.raises(TypeError, match="quick keys depth"):
        Experiment(id="x", config=ToyConfig, quick={"depth": 3}, **common)


# ---------------------------------------------------------------- configs


def test_make_config_defaults_and_quick(toy):
    assert make_config(toy) == ToyConfig()
    assert make_config(toy, quick=True) == ToyConfig(n=10)
    # user overrides win over quick ones
    assert make_config(toy, quick=True, overrides={"n": "20"}).n == 20


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("n", "7", 7),
        ("n", " 12 ", 12),
        ("scale", "2.5", 2.5),
        ("scale", "3", 3.0),
        ("name", "hello world", "hello world"),
        ("flag", "true", True),
        ("flag", "True", True),
        ("flag", "1", True),
        ("flag", "false", False),
        ("flag", "0", False),
        ("widths", "1,2,3", (1, 2, 3)),
        ("widths", "4", (4,)),
        ("widths", "(5, 6)", (5, 6)),
        ("widths", "", ()),
        ("rates", "0.5,1e-3", (0.5, 1e-3)),
        ("tags", "a,b", ("a", "b")),
    ],
)
def test_make_config_parses_strings_by_field_type(toy, key, text, expected):
    value = getattr(make_config(toy, overrides={key: text}), key)
    assert value == expected
    assert type(value) is type(expected)


def test_make_config_passes_python_values(toy):
    config = make_config(toy, overrides={"scale": 2, "widths": [7, 8], "flag": True})
    assert config.scale == 2.0 and isinstance(config.scale, float)
    assert config.widths == (7, 8)
    assert config.flag is True


def test_make_config_unknown_key(toy):
    message = (
        'config key "depth" unknown for experiment "toy-test": '
        "choose one of n, scale, name, widths, rates, tags, flag"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        make_config(toy, overrides={"depth": "3"})


@pytest.mark.parametrize(
    ("key", "text", "expects"),
    [
        ("n", "abc", "int"),
        ("n", "2.5", "int"),
        ("scale", "fast", "float"),
        ("flag", "maybe", "bool (true, false, 1 or 0)"),
        ("widths", "1,x", "tuple[int, ...] (comma-separated, e.g. 1,2,3)"),
    ],
)
def test_make_config_bad_value(toy, key, text, expects):
    message = f'config key "{key}" expects {expects}, got "{text}"'
    with pytest.raises(ValueError, match=re.escape(message)):
        make_config(toy, overrides={key: text})


def test_make_config_runs_the_config_validation(toy):
    with pytest.raises(ValueError, match="n must be ≥ 2, got 1"):
        make_config(toy, overrides={"n": "1"})


# ---------------------------------------------------------------- running and storing


def _colours(path) -> int:
    with Image.open(path) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    return len(colours) if colours is not None else 1 << 20


def test_run_experiment_writes_all_files(toy, tmp_path):
    calls = []
    config = make_config(toy, overrides={"n": "20", "scale": "2"})
    result = run_experiment(toy, config, tmp_path, progress=lambda *a: calls.append(a))

    entry = tmp_path / TOY
    assert sorted(p.name for p in entry.iterdir()) == [
        "arrays.nc",
        "config.json",
        "figure.png",
        "numbers.json",
    ]
    assert result.experiment_id == TOY
    assert result.config == config
    assert result.arrays_path == entry / "arrays.nc"
    assert result.figure_path == entry / "figure.png"
    assert result.seconds > 0

    expected_mean = float(np.mean(2.0 * np.linspace(0, 1, 20) ** 2))
    assert result.numbers == pytest.approx({"mean": expected_mean, "n": 20.0})
    assert json.loads((entry / "numbers.json").read_text()) == pytest.approx(result.numbers)

    record = json.loads((entry / "config.json").read_text())
    assert record["experiment"] == TOY
    assert isinstance(record["deepdyn_version"], str)
    assert record["config"] == {
        "n": 20,
        "scale": 2.0,
        "name": "a",
        "widths": [2, 3],
        "rates": [0.1],
        "tags": [],
        "flag": False,
    }

    stored = xr.load_dataset(entry / "arrays.nc", engine="netcdf4")
    np.testing.assert_allclose(stored["y"].values, 2.0 * np.linspace(0, 1, 20) ** 2)
    assert stored.attrs["deepdyn_experiment"] == TOY

    assert _colours(result.figure_path) > 1  # not a blank canvas
    assert plt.get_fignums() == []  # the figure was closed

    # progress: start, the entry's own reports, the storing phase, done
    assert calls[0] == (0, 1, "starting")
    assert (3, 3, "computing") in calls
    assert calls[-1] == (1, 1, "done")
    assert not list(entry.glob(".*tmp"))  # no temporary files left behind


def test_figure_is_drawn_from_stored_arrays(toy, tmp_path):
    seen = []

    def figure(ds):
        seen.append(ds)
        return _toy_figure(ds)

    entry = dataclasses.replace(toy, figure=figure)
    run_experiment(entry, make_config(entry), tmp_path)
    (ds,) = seen
    assert ds.attrs["deepdyn_experiment"] == TOY  # the attributes only the stored file carries


def test_run_experiment_rejects_a_foreign_config(toy, tmp_path):
    @dataclasses.dataclass(frozen=True)
    class Other:
        n: int = 1

    with pytest.raises(TypeError, match="expects a ToyConfig config, got Other"):
        run_experiment(toy, Other(), tmp_path)


def test_failed_run_leaves_no_files(toy, tmp_path):
    def broken(config, progress):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run_experiment(dataclasses.replace(toy, run=broken), ToyConfig(), tmp_path)
    assert not (tmp_path / TOY).exists()


# ---------------------------------------------------------------- report


def test_write_report_and_reproduce_only(toy, tmp_path):
    seen = []

    def progress_for(experiment_id):
        seen.append(experiment_id)
        return lambda done, total, message: None

    results = experiments.reproduce(tmp_path, quick=True, only=[TOY], progress=progress_for)
    assert [r.experiment_id for r in results] == [TOY]
    assert seen == [TOY]
    assert results[0].config == ToyConfig(n=10)

    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "deepdyn — Deep Learning as Dynamical Systems, reproduced" in page
    assert "Toy &lt;parabola&gt; &amp; friends" in page  # escaped
    assert "<parabola>" not in page
    assert '<img src="toy-test/figure.png"' in page  # relative path
    assert "§0, eq. 0.1" in page
    assert "A parabola y = scale·x² drawn from stored arrays." in page
    assert "quick mode" in page
    assert "<th>mean</th>" in page and "<th>widths</th>" in page

    summary = json.loads((tmp_path / "numbers.json").read_text())
    assert set(summary) == {TOY}
    assert summary[TOY]["mean"] == pytest.approx(results[0].numbers["mean"])
    assert summary[TOY]["seconds"] == pytest.approx(results[0].seconds)


def test_reproduce_rejects_unknown_ids_before_running(toy, tmp_path):
    with pytest.raises(ValueError, match='experiment "nope" unknown'):
        experiments.reproduce(tmp_path, only=[TOY, "nope"])
    assert not (tmp_path / TOY).exists()


def test_full_mode_report_says_so(toy, tmp_path):
    result = run_experiment(toy, make_config(toy), tmp_path)
    index = experiments.write_report([result], tmp_path, quick=False)
    assert index == tmp_path / "index.html"
    assert "quick mode" not in index.read_text(encoding="utf-8")
