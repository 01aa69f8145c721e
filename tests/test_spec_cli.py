"""The command line and specs: ``run train --spec FILE``, bad specs and ``--set`` values as one
line with exit 2, and a sweep that varies the scheme and the horizon as grouped ensembles."""

import json

import pytest

from deepdyn import experiments
from deepdyn.cli import main
from deepdyn.runs import Store, sweep

QUICK = ["--set", "steps=3", "--set", "depth=2", "--set", "samples=20", "--set", "test_samples=20"]


def _error(capsys, argv):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err  # one line, no traceback
    return err


def test_run_train_from_a_spec_file_builds_that_network(tmp_path, capsys):
    spec = {"in_features": 2, "width": 3, "depth": 2, "scheme": "heun", "T": 0.5, "seed": 4}
    path = tmp_path / "net.json"
    path.write_text(json.dumps(spec))
    store = tmp_path / "store"
    main(["run", "train", "--spec", str(path), "--set", "data=moons", *QUICK[2:],
          "--store", str(store), "--out", str(tmp_path / "out")])  # fmt: skip
    (rid,) = [p.name for p in (store / "runs").iterdir()]
    net = Store(store).network(rid)
    assert (net.spec.scheme, net.spec.T, net.spec.seed, net.spec.width) == ("heun", 0.5, 4, 3)
    main(["runs", "show", rid, "--store", str(store)])
    assert "network: heun d=2 C=3 L=2 k=1 tanh" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"in_features": 2, "width": 3, "depth": 2, "colour": 1}, 'key "colour" unknown'),
        ({"in_features": 2, "width": 3, "depth": 2, "scheme": "rk5"}, 'scheme "rk5" unknown'),
        ({"in_features": 2, "width": 3, "depth": 2, "version": 9}, "format version 9"),
        ({"in_features": 2, "width": 3, "depth": 2, "ensemble": 3, "T": [1, 2]}, "T has 2 values"),
        ({"in_features": 2, "width": 3, "depth": 2, "ensemble": 3}, "trains one network"),
        ({"in_features": 5, "width": 3, "depth": 2}, 'data "moons" has 2 inputs'),
    ],
)
def test_bad_spec_files_are_one_line_and_exit_2(tmp_path, capsys, spec, message):
    path = tmp_path / "net.json"
    path.write_text(json.dumps(spec))
    store = tmp_path / "store"
    err = _error(capsys, ["run", "train", "--spec", str(path), "--set", "data=moons", *QUICK,
                          "--store", str(store)])  # fmt: skip
    assert message in err
    assert not (store / "runs").exists() or not any((store / "runs").iterdir())  # nothing ran


def test_unreadable_spec_files_and_bad_set_values(tmp_path, capsys):
    err = _error(capsys, ["run", "train", "--spec", str(tmp_path / "missing.json")])
    assert "cannot read spec file" in err
    (tmp_path / "bad.json").write_text("{not json")
    assert "not valid JSON" in _error(
        capsys, ["run", "train", "--spec", str(tmp_path / "bad.json")]
    )
    err = _error(capsys, ["run", "train", "--set", "scheme=rk5", *QUICK])
    assert 'scheme "rk5" unknown: choose one of map, euler, heun, leapfrog, ode, rk4' in err
    err = _error(capsys, ["run", "train", "--set", "architecture=mlp", "--set", "scheme=heun"])
    assert 'scheme "heun" is not a mlp scheme' in err
    assert "--spec is for the train entry" in _error(
        capsys, ["run", "resnet-ode", "--spec", str(tmp_path / "bad.json")]
    )


def test_a_sweep_over_schemes_and_horizons_groups_them_into_ensembles(tmp_path):
    """``deepdyn sweep train --grid scheme=euler,heun,rk4 --grid T=0.5,1,2 --seeds 4``: 36 runs,
    one ensemble per scheme (T and seed are batch fields), each member equal to its run alone."""
    train = experiments.get("train")
    grid = {"scheme": ["euler", "heun", "rk4"], "T": ["0.5", "1", "2"], "steps": ["3"],
            "depth": ["3"], "samples": ["20"], "test_samples": ["10"]}  # fmt: skip
    store = Store(tmp_path / "store")
    items = sweep(train, grid, store=store, seeds=4, group_size=64)
    assert len(items) == 36 and {i.status for i in items} == {"finished"}
    groups = {train.group_key(i.config) for i in items}
    assert len(groups) == 3  # one ensemble of 12 members (3 horizons × 4 seeds) per scheme
    pick = next(i for i in items if i.config.scheme == "rk4" and i.config.T == 2.0
                and i.config.seed == 3)  # fmt: skip
    net = store.network(pick.run_id)
    assert (net.spec.scheme, net.spec.T, net.spec.seed) == ("rk4", 2.0, 3)
    alone = Store(tmp_path / "alone")
    rid = alone.run(train, pick.config, figure=False).arrays_path.parent.name
    assert (alone.load(rid)["loss"].values == store.load(pick.run_id)["loss"].values).all()
