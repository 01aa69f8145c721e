"""NetworkSpec: one validated, JSON-round-trippable description; per-member steps; setting θ."""

import json

import pytest
import torch

import deepdyn as dd
from deepdyn.dynamics import SCHEMES, NetworkSpec, residual_fixed

D = torch.float64


def _x(n=9, d=2, seed=0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=D)


BUILT = {
    "mlp": lambda: dd.MLP(2, [4, 3], 2, 3, readout="softmax", dtype=D, seed=3),
    "resnet": lambda: dd.ResNet(
        2,
        3,
        4,
        scheme="heun",
        h=[0.1, 0.2, 0.3, 0.4],
        lift="affine",
        field="bottleneck",
        hidden=5,
        dtype=D,
        seed=1,
    ),
    "ode": lambda: dd.NeuralODE(2, 3, 2, solver="rk4", step_size=0.1, readout=None, dtype=D),
    "ensemble": lambda: dd.ResNet(2, 3, 3, ensemble=3, T=[0.5, 1, 2], scale=[1, 2, 3], dtype=D),
}


@pytest.mark.parametrize("kind", sorted(BUILT))
def test_spec_round_trips_through_json_and_builds_the_same_network(kind):
    net = BUILT[kind]()
    text = json.dumps(net.spec.to_dict())
    spec = NetworkSpec.from_dict(json.loads(text))
    assert spec == net.spec
    again = dd.build(spec)
    assert again.spec == net.spec
    x = _x()
    torch.testing.assert_close(again(x), net(x), rtol=0, atol=0)  # same θ from the same seeds
    assert NetworkSpec.from_json(net.spec.to_json()) == net.spec


def test_spec_is_frozen_and_canonical():
    spec = dd.ResNet(2, 3, 4).spec
    with pytest.raises(AttributeError):
        spec.width = 5  # type: ignore[misc]
    assert spec.lift == "pad"  # "auto" is resolved when the spec is made
    assert spec.replace(width=2).lift == "pad"  # replace keeps the resolved value…
    assert NetworkSpec(2, 2, 4).lift == "identity"  # …a fresh spec resolves again


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"in_features": 2, "width": 3, "depth": 2, "colour": "red"},
         'network spec key "colour" unknown: choose one of in_features, width'),
        ({"in_features": 2, "width": 3, "depth": 2, "scheme": "rk5"},
         'scheme "rk5" unknown: choose one of map, euler, heun, leapfrog, ode, rk4'),
        ({"in_features": 2, "width": 3, "depth": 2, "activation": "rleu"},
         'activation "rleu" unknown: choose one of relu, tanh'),
        ({"in_features": 2, "width": 3, "depth": 2, "version": 2},
         "format version 2 is not supported by this deepdyn .*: upgrade deepdyn"),
        ({"in_features": 2, "width": 3, "depth": 2, "ensemble": 3, "T": [1, 2]},
         r"T has 2 values, expected one per member \(ensemble = 3\)"),
        ({"in_features": 2, "width": 3, "depth": 2, "T": [1, 2]},
         "T has 2 values but this is one network"),
        ({"in_features": 2, "width": 3, "depth": 2, "h": [0.1]},
         r"h has 1 steps, expected one per layer \(depth = 2\)"),
        ({"in_features": 2, "width": 3},
         "network spec is missing depth"),
        ({"in_features": 2, "width": 3, "depth": 2, "scheme": "ode", "ensemble": 2, "T": [1, 2]},
         'per-member T or h is for the fixed-step schemes, not "ode"'),
        ({"in_features": 2, "width": 3, "depth": 2, "ode": {"solver": "rk45"}},
         'solver "rk45" unknown'),
        ({"in_features": 3, "width": 2, "depth": 2, "lift": "pad"},
         r'lift "pad" needs width ≥ input dimension \(3\), got width 2: use lift="affine"'),
        ({"in_features": 3, "width": 4, "depth": 2, "lift": "identity"},
         'lift "identity" needs width = input dimension'),
    ],
)  # fmt: skip
def test_bad_specs_are_one_line_errors(data, message):
    with pytest.raises(ValueError, match=message) as err:
        NetworkSpec.from_dict(data)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("scheme", residual_fixed())
def test_members_with_their_own_horizon_equal_the_networks_built_alone(scheme):
    Ts = [0.5, 1.0, 2.0]
    x = _x(11)
    y = (x[:, :1] > 0).to(D)
    ens = dd.ResNet(2, 3, 6, scheme=scheme, ensemble=3, T=Ts, seed=4, dtype=D, init="normal",
                    scale=0.8)  # fmt: skip
    out = ens(x)
    dd.train.compute_loss(ens, x, y).sum().backward()
    for k, T in enumerate(Ts):
        alone = dd.ResNet(2, 3, 6, scheme=scheme, T=T, seed=4 + k, dtype=D, init="normal",
                          scale=0.8)  # fmt: skip
        torch.testing.assert_close(out[k], alone(x), rtol=1e-10, atol=1e-10)
        dd.train.compute_loss(alone, x, y).backward()
        for (name, p), q in zip(ens.named_parameters(), alone.parameters()):
            torch.testing.assert_close(p.grad[k], q.grad[0], rtol=1e-10, atol=1e-10, msg=name)
        member = ens.member(k)
        assert member.spec == alone.spec
        torch.testing.assert_close(member(x), alone(x), rtol=0, atol=0)
    assert ens.times.shape == (3, 7)
    torch.testing.assert_close(ens.times[:, -1], torch.tensor(Ts, dtype=D))
    with pytest.raises(ValueError, match=r"read net\.steps"):
        _ = ens.h


def test_members_with_their_own_step_sequences():
    rows = [[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]]
    ens = dd.ResNet(2, 2, 3, scheme="leapfrog", h=rows, ensemble=2, dtype=D)
    x = _x()
    for k, row in enumerate(rows):
        alone = dd.ResNet(2, 2, 3, scheme="leapfrog", h=row, seed=k, dtype=D)
        torch.testing.assert_close(ens(x)[k], alone(x), rtol=1e-12, atol=1e-12)
    tr = ens.trajectory(x)
    assert tr.times.shape == (2, 4)


def test_layers_can_be_read_set_and_frozen_by_hand():
    # a tent map on [0, 1] as a width-2 ReLU layer and a fixed readout (Telgarsky's sawtooth)
    net = dd.MLP(1, 2, 3, 1, readout="identity", dtype=D)
    for l in range(3):
        W = [[1.0], [1.0]] if l == 0 else [[2.0, -4.0], [2.0, -4.0]]
        net.layer(l).set(weight=W, bias=[0.0, -0.5])
    net.layer("readout").set(weight=[[2.0, -4.0]], bias=[0.0]).freeze()
    x = torch.linspace(0, 1, 257, dtype=D)[:, None]

    def tent(u):
        return torch.where(u < 0.5, 2 * u, 2 - 2 * u)

    torch.testing.assert_close(net(x), tent(tent(tent(x))), rtol=0, atol=1e-12)
    assert net.layer("readout").frozen and not net.layer(0).frozen
    got = net.layer(1).get()
    assert got["weight"].tolist() == [[2.0, -4.0], [2.0, -4.0]]
    before = net.layer("readout").get()["weight"].clone()
    dd.fit(net, x, tent(x), loss="mse", optimizer="adam", lr=1e-2, steps=3)
    assert torch.equal(net.layer("readout").get()["weight"], before)  # frozen: not trained
    with pytest.raises(ValueError, match=r"weight of layer 0 must have shape \(2, 1\)"):
        net.layer(0).set(weight=[[1.0, 2.0]])
    with pytest.raises(ValueError, match="layer 7 out of range"):
        net.layer(7)


def test_one_member_can_be_set_alone():
    ens = dd.ResNet(2, 2, 2, ensemble=3, dtype=D)
    ens.layer(1).set(weight=torch.eye(2, dtype=D), member=1)
    assert torch.equal(ens.layer(1).get(member=1)["weight"], torch.eye(2, dtype=D))
    assert not torch.equal(ens.layer(1).get(member=0)["weight"], torch.eye(2, dtype=D))


def test_a_projection_readout_is_fixed():
    net = dd.ResNet(2, 3, 4, 2, readout="identity", readout_map="projection", dtype=D)
    x = _x()
    torch.testing.assert_close(net(x), net.flow(x)[:, :2], rtol=0, atol=0)
    assert all("readout" not in n for n, _ in net.named_parameters())
    with pytest.raises(ValueError, match='"projection" readout is fixed'):
        net.layer("readout").set(weight=torch.zeros(2, 3))
    with pytest.raises(ValueError, match="needs out_features ≤ width"):
        dd.ResNet(2, 3, 4, 4, readout_map="projection")
    ens = dd.ResNet(2, 3, 2, 2, readout="identity", readout_map="projection", ensemble=2)
    assert ens.member(1).readout.weight.shape == (1, 2, 3)


def test_every_registered_scheme_is_a_builder_choice():
    for name, s in SCHEMES.items():
        spec = NetworkSpec(2, 2, 3, scheme=name, readout=None, dtype="float64")
        net = dd.build(spec)
        assert net.scheme is s and net.spec.scheme == name
        assert net(_x()).shape == (9, 2)
