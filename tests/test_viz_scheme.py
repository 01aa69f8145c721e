"""Architecture schemes from a NetworkSpec (deepdyn.viz.architecture_scheme / draw_architecture)
and the thesis-figures entry."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

import deepdyn
import deepdyn.experiments.thesis_figures as entry
from deepdyn.dynamics import NetworkSpec
from deepdyn.viz import architecture_scheme, draw_architecture


def test_mlp_scheme_has_a_column_per_layer_and_dense_maps():
    s = architecture_scheme(NetworkSpec(3, (4, 5), 2, scheme="map"))
    assert [(c.label, c.nodes) for c in s.columns] == [("x", 3), ("z₁", 4), ("z₂", 5), ("y", 1)]
    assert s.edges == [(0, 1, "dense"), (1, 2, "dense"), (2, 3, "readout")]
    assert s.skips == [] and s.gap is None


def test_resnet_scheme_has_lift_and_one_skip_per_step():
    s = architecture_scheme(NetworkSpec(2, 3, 3, readout=None))  # lift: pad (C > d)
    assert [c.label for c in s.columns] == ["x", "z₀", "z₁", "z₂", "z₃"]
    assert s.edges[0] == (0, 1, "pad")
    assert s.skips == [(1, 2), (2, 3), (3, 4)]


def test_block_scheme_has_inner_layers_under_each_skip():
    s = architecture_scheme(NetworkSpec(2, 2, 2, field="block", q=3))
    inner = [c for c in s.columns if c.inner]
    assert len(inner) == 2 * 2  # q − 1 inner layers per block
    assert s.skips == [(1, 4), (4, 7)]  # each skip jumps over its block


def test_leapfrog_also_reads_two_layers_back():
    s = architecture_scheme(NetworkSpec(2, 2, 3, scheme="leapfrog"))
    assert (1, 3) in s.skips and (2, 4) in s.skips


def test_deep_networks_are_shortened_with_a_gap():
    s = architecture_scheme(NetworkSpec(2, 2, 50), max_layers=4)
    labels = [c.label for c in s.columns]
    assert labels[-2:] == ["z₅₀", "y"] and "z₄" not in labels
    assert s.gap == labels.index("z₃")
    assert all(e[0] != s.gap or e[2] == "readout" for e in s.edges)


def test_draw_from_a_network_and_bad_input():
    fig, ax = plt.subplots()
    s = draw_architecture(ax, deepdyn.ResNet(2, 2, 3))
    assert len(ax.collections) == len(s.columns)  # one scatter per column of nodes
    plt.close(fig)
    with pytest.raises(TypeError, match="expects a NetworkSpec"):
        architecture_scheme("resnet")
    with pytest.raises(ValueError, match="max_layers must be ≥ 2"):
        architecture_scheme(NetworkSpec(2, 2, 3), max_layers=1)


def test_thesis_figures_entry_quick():
    ds = entry.run(entry.Config(**entry.EXPERIMENT.quick), None)
    n = entry.numbers(ds)
    assert n["rings_samples"] == 200
    for name in ("relu", "tanh", "sigmoid", "softplus", "leaky_relu", "identity"):
        assert n[f"derivative_vs_differences_{name}"] < 5e-3  # autograd = finite differences
    assert np.allclose(ds["activation"].sel(name="tanh"), np.tanh(ds["x"]), atol=1e-15)
    fig = entry.figure(ds)
    assert len(fig.axes) == 10  # Fig 5.1 (two), 10.1 and seven schemes
    titles = {ax.get_title().split(":")[0]: ax.get_title() for ax in fig.axes}
    assert "leapfrog" in titles["Fig 7.4"] and "euler" in titles["Fig 7.3"]
    plt.close(fig)
