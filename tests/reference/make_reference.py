"""Reference outputs of every scheme, field, lift and readout (float64, fixed seeds).

Written once before the Core v2 refactor (objects instead of strings) and kept: the test
``tests/test_reference.py`` recomputes every case with the current code and compares to 1e-12.
Regenerate only when a change of numbers is intended and explained in its commit:

    .venv/bin/python tests/reference/make_reference.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

import deepdyn as dd
import deepdyn.analysis
import deepdyn.train

D = torch.float64
HERE = Path(__file__).parent


def cases() -> dict[str, dd.Network]:
    """name → network: a covering set of builders, schemes, fields, lifts, readouts and inits."""
    out: dict[str, dd.Network] = {}
    for act in ("relu", "tanh", "sigmoid", "softplus", "leaky_relu", "identity"):
        out[f"mlp-{act}"] = dd.MLP(2, 4, 3, 2, activation=act, readout="softmax", dtype=D, seed=1)
    out["mlp-widths"] = dd.MLP(2, [5, 3, 4], 3, 1, readout="sigmoid", dtype=D, seed=2)
    out["mlp-noreadout"] = dd.MLP(2, 3, 2, readout=None, dtype=D, seed=3, init="he")
    for scheme in ("euler", "heun", "leapfrog"):
        for field in ("perceptron", "bottleneck", "block"):
            for lift in ("pad", "affine"):
                name = f"resnet-{scheme}-{field}-{lift}"
                out[name] = dd.ResNet(
                    2, 3, 5, 2, scheme=scheme, field=field, hidden=4, lift=lift, T=1.5,
                    readout="identity", dtype=D, seed=4, scale=1.3,
                )  # fmt: skip
        out[f"resnet-{scheme}-h"] = dd.ResNet(
            2, 2, 4, scheme=scheme, h=[0.1, 0.3, 0.2, 0.4], lift="identity", dtype=D, seed=5
        )
    for init in ("normal", "glorot", "he", "lecun", "orthogonal"):
        out[f"resnet-init-{init}"] = dd.ResNet(
            2, 3, 3, init=init, dtype=D, seed=6, bias_init="normal"
        )
    out["ode-dopri5"] = dd.NeuralODE(2, 3, 3, T=1.0, rtol=1e-10, atol=1e-12, dtype=D, seed=7)
    out["ode-rk4"] = dd.NeuralODE(
        2, 2, 2, solver="rk4", options={"step_size": 0.05}, readout=None, dtype=D, seed=8
    )
    out["ensemble-euler"] = dd.ResNet(2, 3, 4, ensemble=3, scale=[0.5, 1.0, 2.0], dtype=D, seed=9)
    return out


def inputs() -> torch.Tensor:
    return torch.randn(7, 2, generator=torch.Generator().manual_seed(123), dtype=D)


def compute(name: str, net: dd.Network, x: torch.Tensor) -> dict[str, np.ndarray]:
    """The arrays recorded for one case: parameters' sum, output, trajectory, costates."""
    res: dict[str, np.ndarray] = {}
    res[f"{name}/out"] = net(x).detach().numpy()
    tr = net.trajectory(x, preactivations=net.scheme != "ode")
    res[f"{name}/states"] = tr.states.detach().numpy()
    if tr.preactivations is not None:
        res[f"{name}/pre"] = tr.preactivations.detach().numpy()
    res[f"{name}/times"] = tr.times.numpy()
    if net.readout is not None:
        k = net.readout.weight.shape[1]
        if net.readout.terminal == "softmax":
            y = (x[:, 0] > 0).long()
        elif net.readout.terminal == "sigmoid":
            y = (x[:, :k] > 0).to(D)
        else:
            y = torch.sin(x[:, :1]).expand(-1, k)
        cs = dd.train.costates(net, x, y)
        res[f"{name}/costates"] = cs.stacked("costates").numpy()
        if cs.hamiltonian is not None:
            res[f"{name}/hamiltonian"] = cs.hamiltonian.numpy()
    if net.scheme in ("map", "euler", "heun"):
        res[f"{name}/jacobians"] = dd.analysis.jacobians(net, x).numpy()
    return res


def main() -> None:
    x = inputs()
    arrays: dict[str, np.ndarray] = {}
    for name, net in cases().items():
        arrays.update(compute(name, net, x))
    np.savez_compressed(HERE / "reference_outputs.npz", **arrays)
    print(f"wrote {len(arrays)} arrays")


if __name__ == "__main__":
    main()
