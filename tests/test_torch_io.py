"""deepdyn.from_torch / Network.to_torch: plain PyTorch models read with the same θ (float64,
1e-12), written back, and the analysis run on them."""

import itertools

import pytest
import torch
from torch import nn

import deepdyn
from deepdyn import from_torch
from deepdyn.analysis import dead_neurons, jacobians, linear_regions, lyapunov_exponents
from deepdyn.dynamics import ResidualBlock
from deepdyn.train.pmp import costates

D = torch.float64
TOL = 1e-12


def _x(n=13, d=2, seed=1):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=D)


def _close(a, b):
    assert a.shape == b.shape
    assert (a - b).abs().max().item() <= TOL


@pytest.mark.parametrize(
    ("widths", "act", "end"),
    [
        ((2, 5, 7, 3), nn.ReLU, None),
        ((3, 4, 4, 4, 4), nn.Tanh, nn.Sigmoid),
        ((2, 16, 1), nn.Softplus, nn.Sigmoid),
        ((4, 3, 9, 2, 6), nn.LeakyReLU, "softmax"),
        ((2, 6, 6), nn.Tanh, "none"),  # no readout: ends with a hidden layer
    ],
)
def test_mlp_outputs_equal(widths, act, end):
    torch.manual_seed(0)
    layers = []
    hidden = widths[:-1] if end != "none" else widths
    for a, b in itertools.pairwise(hidden):
        layers += [nn.Linear(a, b), act()]
    if end != "none":
        layers.append(nn.Linear(widths[-2], widths[-1]))
        if end == "softmax":
            layers.append(nn.Softmax(dim=-1))
        elif end is not None:
            layers.append(end())
    m = nn.Sequential(*layers).to(D)
    net = from_torch(m)
    x = _x(d=widths[0])
    _close(net(x), m(x))
    assert net.spec.scheme == "map"
    assert net.depth == len(hidden) - 1
    back = net.to_torch()
    _close(back(x), m(x))
    again = from_torch(back)
    assert again.spec == net.spec
    _close(again(x), m(x))


class MyBlock(nn.Module):
    """A user's own residual block: z + h tanh(W z + b) with tanh applied in forward."""

    def __init__(self, c, h):
        super().__init__()
        self.lin = nn.Linear(c, c)
        self.h = h

    def forward(self, z):
        return z + self.h * torch.tanh(self.lin(z))


class MyMLPBlock(nn.Module):
    def __init__(self, c, m, h):
        super().__init__()
        self.f = nn.Sequential(nn.Linear(c, m), nn.ReLU(), nn.Linear(m, c))
        self.h = h

    def forward(self, z):
        return z + self.h * self.f(z)


def test_residual_stack_with_adapter():
    torch.manual_seed(1)
    hs = [0.1, 0.25, 0.05, 0.3]
    m = nn.Sequential(nn.Linear(2, 5), *[MyBlock(5, h) for h in hs], nn.Linear(5, 1)).to(D)
    net = from_torch(m, residual={MyBlock: lambda b: (b.h, [b.lin, "tanh"])})
    x = _x()
    _close(net(x), m(x))
    assert net.spec.scheme == "euler" and net.spec.lift == "affine"
    assert net.h == hs
    _close(net.to_torch()(x), m(x))


def test_residual_two_linear_blocks_with_bias_and_pad_lift():
    torch.manual_seed(2)
    m = nn.Sequential(
        nn.ConstantPad1d((0, 2), 0.0),
        *[MyMLPBlock(4, 7, 0.2) for _ in range(3)],
        nn.Linear(4, 3),
        nn.Softmax(dim=-1),
    ).to(D)
    net = from_torch(m, residual={MyMLPBlock: lambda b: (b.h, list(b.f))})
    assert net.spec.field in ("bottleneck_bias", "mlp") and net.spec.hidden == 7
    assert net.spec.lift == "pad"
    x = _x()
    _close(net(x), m(x))
    back = net.to_torch()
    _close(back(x), m(x))
    _close(from_torch(back)(x), m(x))


@pytest.mark.parametrize("scheme", ["euler", "heun", "rk4"])
@pytest.mark.parametrize("field", ["perceptron", "bottleneck", "block"])
def test_deepdyn_round_trip(scheme, field):
    net = deepdyn.ResNet(
        3, 3, 4, 2, scheme=scheme, field=field, hidden=5, q=3, readout="softmax", dtype=D, seed=3
    )
    x = _x(d=3)
    t = net.to_torch()
    assert all(
        type(m).__module__.startswith(("torch.", "deepdyn.dynamics._torch_io")) for m in t.modules()
    )
    _close(t(x), net(x))
    back = from_torch(t)
    assert back.spec.scheme == scheme and back.spec.field == field
    _close(back(x), net(x))


def test_ensemble_member_and_float32():
    ens = deepdyn.MLP(2, [4, 6], 2, ensemble=3, dtype=D, seed=5)
    with pytest.raises(ValueError, match="pass member=k"):
        ens.to_torch()
    x = _x()
    _close(ens.to_torch(member=2)(x), ens(x)[2])
    m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))  # float32
    net = from_torch(m)
    assert net.spec.dtype == "float32"
    assert torch.allclose(net(x.float()), m(x.float()), atol=1e-6)


@pytest.mark.parametrize(
    ("module", "message"),
    [
        (nn.Sequential(nn.Linear(2, 3), nn.GELU(), nn.Linear(3, 1)), r"layer 1: GELU is not"),
        (
            nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Dropout(), nn.Linear(3, 1)),
            r"layer 2: Dropout is not supported",
        ),
        (
            nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 1)),
            "different activations",
        ),
        (
            nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1), nn.ReLU(), nn.Sigmoid()),
            r"layer 4",
        ),
        (nn.Sequential(nn.Conv1d(1, 1, 3)), r"layer 0: Conv1d is not supported"),
        (nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(0.2)), "negative_slope 0.2"),
        (nn.Sequential(nn.Linear(2, 3), nn.ReLU()).half(), "float16"),
    ],
)
def test_unsupported_is_one_line(module, message):
    with pytest.raises(ValueError, match=message) as e:
        from_torch(module)
    assert "\n" not in str(e.value)


def test_unsupported_block_is_one_line():
    m = nn.Sequential(MyBlock(3, 0.1), nn.BatchNorm1d(3), MyBlock(3, 0.1))
    with pytest.raises(ValueError, match=r"layer 1: BatchNorm1d between residual blocks") as e:
        from_torch(m, residual={MyBlock: lambda b: (b.h, [b.lin, "tanh"])})
    assert "\n" not in str(e.value)
    odd = ResidualBlock(nn.Sequential(nn.Linear(3, 3), nn.Tanh(), nn.ReLU()), 0.1)
    with pytest.raises(ValueError, match="block 0: f is") as e:
        from_torch(nn.Sequential(odd))
    assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match=r"not \"ode\""):
        deepdyn.NeuralODE(2, 2, 2, dtype=D).to_torch()


def test_analysis_runs_on_an_imported_model():
    """Trajectories, regions, dead neurons, Jacobians and Lyapunov exponents of a model read
    from PyTorch equal those of the deepdyn network it was written from."""
    src = deepdyn.MLP(2, 6, 3, activation="relu", init="he", bias_init="normal", dtype=D, seed=4)
    net = from_torch(src.to_torch())
    x = _x(50)
    _close(net.trajectory(x).states, src.trajectory(x).states)
    assert (
        linear_regions(net, ((-1, 1), (-1, 1))).count
        == linear_regions(src, ((-1, 1), (-1, 1))).count
    )
    assert torch.equal(dead_neurons(net, x), dead_neurons(src, x))
    _close(jacobians(net, x), jacobians(src, x))
    a, b = lyapunov_exponents(net, x), lyapunov_exponents(src, x)  # −inf: rank-deficient ReLU
    assert torch.equal(torch.isfinite(a), torch.isfinite(b))
    _close(a[torch.isfinite(a)], b[torch.isfinite(b)])
    y = (x[:, 0] > 0).long()
    ca, cb = costates(net, x, y), costates(src, x, y)
    for pa, pb in zip(ca.costates, cb.costates, strict=True):
        _close(pa, pb)
    _close(ca.hamiltonian, cb.hamiltonian)


def test_costates_of_an_imported_residual_stack():
    """The costates p_l = −∂J/∂z_l of a residual stack read from PyTorch equal autograd's
    gradient of the loss of the torch module itself with respect to its block inputs."""
    torch.manual_seed(5)
    blocks = [MyBlock(3, 0.2) for _ in range(4)]
    m = nn.Sequential(*blocks, nn.Linear(3, 1), nn.Sigmoid()).to(D)
    net = from_torch(m, residual={MyBlock: lambda b: (b.h, [b.lin, "tanh"])})
    x = _x(9, d=3)
    y = (x[:, 1] > 0).long()
    c = costates(net, x, y)
    zs = [x.clone().requires_grad_(True)]
    for b in blocks:
        zs.append(b(zs[-1]))
        zs[-1].retain_grad()
    out = m[-1](m[-2](zs[-1]))[:, 0]
    J = nn.functional.binary_cross_entropy(out, y.double())
    J.backward()
    for l in range(1, 5):
        _close(c.costates[l][0], -zs[l].grad)
