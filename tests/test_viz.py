"""deepdyn.viz: the arrays behind each picture equal independent computations (float64), every
drawing writes a non-blank image, and bad input gives one-line errors naming the valid range."""

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from PIL import Image

import deepdyn
from deepdyn import viz

D = torch.float64


def _resnet(L=5, width=2, activation="tanh", seed=0, **kw):
    return deepdyn.ResNet(2, width, L, activation=activation, T=1.0, dtype=D, seed=seed, **kw)


@torch.no_grad()
def _manual_euler(net, x):
    """z_{l+1} = z_l + h σ(A_l z_l + b_l), written out from the parameters (thesis eq. 7.8)."""
    z = torch.nn.functional.pad(x, (0, net.width - x.shape[-1]))
    act = torch.tanh if net.field.activation == "tanh" else torch.relu
    out = [z]
    for l in range(net.depth):
        (sub,) = net.field.sublayers(l)
        z = z + net.h[l] * act(z @ sub.weight[0].T + sub.bias[0])
        out.append(z)
    return torch.stack(out)  # (layer, sample, component)


@torch.no_grad()
def _manual_map(net, x):
    act = torch.tanh if net.field.activation == "tanh" else torch.relu
    z, out = x, [x]
    for l in range(net.depth):
        (sub,) = net.field.sublayers(l)
        z = act(z @ sub.weight[0].T + sub.bias[0])
        out.append(z)
    return torch.stack(out)


# ---------------------------------------------------------------------------- arrays
def test_grid_lines_are_a_lattice():
    g = viz.grid_lines(3, 5, lo=-2.0, hi=1.0)
    assert g.shape == (6, 5, 2)
    run = torch.linspace(-2, 1, 5, dtype=D)
    for i, level in enumerate(torch.linspace(-2, 1, 3, dtype=D)):
        torch.testing.assert_close(g[i, :, 0], run)  # horizontal: x₂ fixed
        assert torch.all(g[i, :, 1] == level)
        torch.testing.assert_close(g[3 + i, :, 1], run)  # vertical: x₁ fixed
        assert torch.all(g[3 + i, :, 0] == level)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_deformed_grid_is_the_trajectory_of_the_grid_points(activation):
    net = _resnet(6, activation=activation, scale=2.0)
    grid = viz.grid_lines(4, 7)
    out = viz.deform_grid(net, grid)
    assert out.dims == ("layer", "line", "point", "component")
    assert out.shape == (7, 8, 7, 2)
    ref = _manual_euler(net, grid.reshape(-1, 2)).reshape(7, 8, 7, 2)
    np.testing.assert_allclose(out.values, ref.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(out["time"].values, np.linspace(0, 1, 7), atol=1e-15)


def test_deformed_grid_mlp_and_width_three():
    mlp = deepdyn.MLP(2, 2, 4, activation="tanh", dtype=D, scale=2.0, seed=3)
    grid = viz.grid_lines(3, 4)
    ref = _manual_map(mlp, grid.reshape(-1, 2)).reshape(5, 6, 4, 2)
    np.testing.assert_allclose(viz.deform_grid(mlp, grid).values, ref.numpy(), atol=1e-12)
    net3 = _resnet(3, width=3)  # zero-padded lift: z₀ = (x, 0)
    out = viz.deform_grid(net3, grid)
    assert out.shape == (4, 6, 4, 3)
    assert np.all(out.values[0, ..., 2] == 0)
    ref3 = _manual_euler(net3, grid.reshape(-1, 2)).reshape(4, 6, 4, 3)
    np.testing.assert_allclose(out.values, ref3.numpy(), atol=1e-12)


def test_deformed_grid_of_an_ode_keeps_only_the_layer_knots():
    net = deepdyn.NeuralODE(2, 2, 3, dtype=D, solver="rk4", options={"step_size": 0.05})
    grid = viz.grid_lines(3, 4)
    out = viz.deform_grid(net, grid)
    assert out.shape == (4, 6, 4, 2)
    with torch.no_grad():
        z1 = net.flow(grid.reshape(-1, 2))
    np.testing.assert_allclose(out.values[-1].reshape(-1, 2), z1.numpy(), atol=1e-12)


def test_level_sets_closed_form_orientation():
    # zero field: Φ(x, L) = x, so the output is w·x + c exactly; checks the (gy, gx) layout
    net = _resnet(3, scale=0.0, readout="identity")
    with torch.no_grad():
        net.readout.weight[0] = torch.tensor([[0.7, -1.9]], dtype=D)
        net.readout.bias[0] = torch.tensor([0.3], dtype=D)
    lv = viz.level_sets(net, lo=-2.0, hi=1.0, resolution=9)
    assert lv.dims == ("gy", "gx")
    gx, gy = lv["gx"].values, lv["gy"].values
    expected = 0.7 * gx[None, :] - 1.9 * gy[:, None] + 0.3
    np.testing.assert_allclose(lv.values, expected, atol=1e-13)


def test_level_sets_equal_network_outputs_point_by_point():
    net = deepdyn.MLP(2, 3, 3, activation="tanh", dtype=D, scale=1.5, seed=2)
    lv = viz.level_sets(net, resolution=13)
    rng = np.random.default_rng(0)
    for i, j in rng.integers(0, 13, size=(10, 2)):
        x = torch.tensor([[lv["gx"].values[j], lv["gy"].values[i]]], dtype=D)
        with torch.no_grad():
            assert abs(float(net(x)[0, 0]) - float(lv.values[i, j])) < 1e-13


def test_propagation_equals_trajectory_states():
    X, _ = deepdyn.data.rings(50, seed=1, dtype=D)
    net = _resnet(4, activation="relu", scale=1.5)
    out = viz.propagate(net, X)
    assert out.dims == ("layer", "sample", "component")
    np.testing.assert_allclose(out.values, _manual_euler(net, X).numpy(), atol=1e-12)


def test_layer_field_residual_and_map():
    net = _resnet(3, scale=1.3)
    f = viz.layer_field(net, 1, lo=-1, hi=1, resolution=5)
    (sub,) = net.field.sublayers(1)
    gx, gy = np.meshgrid(f["gx"].values, f["gy"].values)
    z = torch.tensor(np.stack([gx, gy], -1), dtype=D)  # (gy, gx, component)
    with torch.no_grad():
        expected = torch.tanh(z @ sub.weight[0].T + sub.bias[0])
    np.testing.assert_allclose(f.values, expected.numpy(), atol=1e-13)
    mlp = deepdyn.MLP(2, 2, 2, activation="tanh", dtype=D)
    (sub,) = mlp.field.sublayers(0)
    with torch.no_grad():
        expected = torch.tanh(z @ sub.weight[0].T + sub.bias[0]) - z  # displacement of one layer
    np.testing.assert_allclose(viz.layer_field(mlp, 0, resolution=5).values, expected.numpy(),
                               atol=1e-13)  # fmt: skip


def test_history_arrays_over_training_time():
    X, y = deepdyn.data.rings(80, seed=0, dtype=D)
    grid = viz.grid_lines(3, 5)
    probe = torch.cat([grid.reshape(-1, 2), X[:10]])
    net = _resnet(3, seed=4)
    fresh = _resnet(3, seed=4)
    hist = deepdyn.fit(net, X, y, steps=6, lr=0.05, probe=probe, snapshots=3)
    arr = viz.history_arrays(hist, grid_shape=(6, 5))
    assert list(arr["step"].values) == [0, 3, 6]
    assert arr["grid"].shape == (3, 4, 6, 5, 2) and arr["states"].shape == (3, 4, 10, 2)
    np.testing.assert_allclose(arr["grid"].values[0], viz.deform_grid(fresh, grid).values,
                               atol=1e-12)  # fmt: skip
    np.testing.assert_allclose(arr["grid"].values[-1], viz.deform_grid(net, grid).values,
                               atol=1e-12)  # fmt: skip
    np.testing.assert_allclose(arr["states"].values[-1], viz.propagate(net, X[:10]).values,
                               atol=1e-12)  # fmt: skip
    assert not np.allclose(arr["grid"].values[0], arr["grid"].values[-1])  # training moved it


# ---------------------------------------------------------------------------- drawings
def _ink(fig) -> int:
    """Dark pixels of the figure with every axis, tick and pane hidden: only what was drawn."""
    for ax in fig.axes:
        ax.set_axis_off()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    img = np.asarray(Image.open(buf).convert("L"), dtype=int)
    return int((np.abs(img - 255) > 30).sum())


def _blank(projection=None) -> int:
    fig = plt.figure(figsize=(3, 3))
    fig.add_subplot(projection=projection)
    return _ink(fig)


@pytest.fixture(scope="module")
def arrays():
    X, y = deepdyn.data.rings(60, seed=0, dtype=D)
    net2, net3 = _resnet(4, scale=2.0), _resnet(4, width=3, scale=2.0)
    grid = viz.grid_lines(5, 20)
    return {
        "X": X, "y": y, "grid2": viz.deform_grid(net2, grid), "grid3": viz.deform_grid(net3, grid),
        "s2": viz.propagate(net2, X), "s3": viz.propagate(net3, X),
        "levels": viz.level_sets(net2, resolution=40), "field": viz.layer_field(net2, 0),
    }  # fmt: skip


@pytest.mark.parametrize(
    "projection, draw",
    [
        (None, lambda ax, a: viz.draw_grid(ax, a["grid2"], layer=2)),
        ("3d", lambda ax, a: viz.draw_grid(ax, a["grid3"])),
        (None, lambda ax, a: viz.draw_propagation(ax, a["s2"], a["y"], layer=-1)),
        ("3d", lambda ax, a: viz.draw_propagation(ax, a["s3"], a["y"])),
        (None, lambda ax, a: viz.draw_flow_lines(ax, a["s2"], a["y"])),
        ("3d", lambda ax, a: viz.draw_flow_lines(ax, a["s3"], a["y"])),
        (None, lambda ax, a: viz.draw_time_lines(ax, a["s2"], a["s2"]["time"])),
        (None, lambda ax, a: viz.draw_level_sets(ax, a["levels"], X=a["X"], labels=a["y"])),
        (None, lambda ax, a: viz.draw_field(ax, a["field"])),
        (None, lambda ax, a: viz.draw_field(ax, a["field"], kind="stream")),
    ],
)
def test_drawings_are_not_blank(arrays, projection, draw):
    fig = plt.figure(figsize=(3, 3))
    draw(fig.add_subplot(projection=projection), arrays)
    assert _blank(projection) == 0
    assert _ink(fig) > 300


def test_gifs_have_one_frame_per_layer_and_step(tmp_path, arrays):
    p = viz.animate_layers(tmp_path / "layers.gif", arrays["grid2"], arrays["s2"], arrays["y"])
    with Image.open(p) as im:
        assert im.n_frames == 5
    X, y = deepdyn.data.rings(40, seed=0, dtype=D)
    grid = viz.grid_lines(3, 5)
    net = _resnet(3)
    hist = deepdyn.fit(net, X, y, steps=4, lr=0.05, probe=torch.cat([grid.reshape(-1, 2), X]),
                       snapshots=2)  # fmt: skip
    p = viz.animate_training(tmp_path / "train.gif", viz.history_arrays(hist, grid_shape=(6, 5)),
                             y)  # fmt: skip
    with Image.open(p) as im:
        assert im.n_frames == 3


# ---------------------------------------------------------------------------- errors
def _one_line(excinfo, *needles):
    msg = str(excinfo.value)
    assert "\n" not in msg
    for n in needles:
        assert n in msg, msg


def test_bad_input_errors(arrays):
    ax = plt.figure().add_subplot()
    with pytest.raises(ValueError) as e:  # 3-D states on a 2-D view
        viz.draw_grid(ax, arrays["grid3"])
    _one_line(e, "3 components", "draws 2", "0 … 2")
    with pytest.raises(ValueError) as e:
        viz.draw_propagation(ax, arrays["s3"], arrays["y"])
    _one_line(e, "3 components")
    with pytest.raises(ValueError) as e:  # a layer index past the depth
        viz.draw_grid(ax, arrays["grid2"], layer=5)
    _one_line(e, "layer 5 out of range", "0 … 4")
    with pytest.raises(ValueError) as e:
        viz.draw_propagation(ax, arrays["s2"], layer=-6)
    _one_line(e, "0 … 4")
    with pytest.raises(ValueError) as e:
        viz.layer_field(_resnet(4), 4)
    _one_line(e, "layer 4 out of range", "0 … 3")
    with pytest.raises(ValueError) as e:  # empty grids
        viz.deform_grid(_resnet(2), torch.zeros(0, 5, 2, dtype=D))
    _one_line(e, "empty", "lines ≥ 2")
    with pytest.raises(ValueError) as e:
        viz.grid_lines(0)
    _one_line(e, "lines must be ≥ 2")
    with pytest.raises(ValueError) as e:
        viz.draw_grid(ax, np.zeros((3, 0, 4, 2)))
    _one_line(e, "empty")
    with pytest.raises(ValueError) as e:  # a 3-D input space to a 2-D view
        viz.level_sets(deepdyn.MLP(3, 2, 2, dtype=D))
    _one_line(e, "2-D input space", "in_features = 3")
    with pytest.raises(ValueError) as e:
        viz.deform_grid(_resnet(2), torch.zeros(2, 3, 3, dtype=D))
    _one_line(e, "in_features = 2")
    with pytest.raises(ValueError) as e:
        viz.deform_grid(_resnet(2, ensemble=3), viz.grid_lines(2, 2))
    _one_line(e, "net.member(k)", "0 … 2")
    with pytest.raises(ValueError) as e:
        viz.draw_field(ax, arrays["field"], kind="arrows")
    _one_line(e, "quiver, stream")
    plt.close("all")
