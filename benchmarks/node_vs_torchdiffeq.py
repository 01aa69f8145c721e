"""deepdyn's NeuralODE against the plain torchdiffeq + nn.Module script of the augmented-neural-ODE
setting (Dupont, Doucet & Teh 2019), trained side by side in one process.

Setting: 2-D concentric spheres — inner disk r < 0.5 (500 points, label 1) and annulus
1 < r < 1.5 (1500 points, label 0), radius and angle uniform as in that paper's data code;
a field Linear(d, 32)–ReLU–Linear(32, 32)–ReLU–Linear(32, d) (deepdyn: ``field="mlp", q=3,
hidden=32``), d = 2 (+1 zero-augmented dimension), dopri5 at rtol = atol = 1e-3, T = 1, a
linear readout to one logit, BCE with logits (deepdyn's loss for a sigmoid readout; the paper
fits ±1 targets), Adam with lr 1e-3, batch 64, 10 epochs.

* (a) deepdyn: ``NeuralODE(2, 2 + aug, 1, field="mlp", hidden=32, q=3, activation="relu",
  lift="pad", rtol=1e-3, atol=1e-3)`` trained by ``deepdyn.fit(..., batch_size=64)``;
* (b) the script a user writes: an ``ODEFunc(nn.Module)`` with three ``nn.Linear``, an
  ``odeint(func, x, [0, 1], rtol, atol, method="dopri5")`` block, zero augmentation by
  ``torch.cat``, ``nn.Linear`` readout, ``BCEWithLogitsLoss``, ``torch.optim.Adam``, the loop.

Both start from the same θ (the script's modules are initialized by PyTorch; their values are
copied into deepdyn's layers) and see the same mini-batches (deepdyn's seeded permutation), so
they do the same computation; the table shows time per run (median of ``--repeat`` alternating
runs), final training loss, training and test accuracy, and function evaluations per epoch
(counted by a wrapper around each field). ``ratio`` = deepdyn / script time (target ≤ 1).

    PYTHONPATH=src .venv/bin/python benchmarks/node_vs_torchdiffeq.py [--quick] [--threads 1]

The last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time

import torch
import torchdiffeq
from torch import nn

import deepdyn as dd
from deepdyn.train import batches

HIDDEN = 32
TOL = 1e-3
LR = 1e-3
BATCH = 64


def spheres(seed: int, inner: int = 500, outer: int = 1500) -> tuple[torch.Tensor, torch.Tensor]:
    """(X (sample, 2), y (sample,) in {0, 1}): r uniform in [0, 0.5) (label 1) and in
    (1, 1.5) (label 0), angle uniform."""
    g = torch.Generator().manual_seed(seed)
    r = torch.cat([0.5 * torch.rand(inner, generator=g), 1 + 0.5 * torch.rand(outer, generator=g)])
    a = 2 * math.pi * torch.rand(inner + outer, generator=g)
    X = torch.stack([r * torch.cos(a), r * torch.sin(a)], 1)
    y = torch.cat([torch.ones(inner), torch.zeros(outer)])
    return X, y


# ------------------------------------------------------------------ (b) the plain script


class ODEFunc(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, HIDDEN)
        self.fc2 = nn.Linear(HIDDEN, HIDDEN)
        self.fc3 = nn.Linear(HIDDEN, dim)
        self.nfe = 0

    def forward(self, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        self.nfe += 1
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


class ODENet(nn.Module):
    def __init__(self, augment: int) -> None:
        super().__init__()
        self.augment = augment
        self.func = ODEFunc(2 + augment)
        self.readout = nn.Linear(2 + augment, 1)
        self.t = torch.tensor([0.0, 1.0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.augment:
            x = torch.cat([x, x.new_zeros(x.shape[0], self.augment)], 1)
        z = torchdiffeq.odeint(self.func, x, self.t, rtol=TOL, atol=TOL, method="dopri5")[-1]
        return self.readout(z).squeeze(-1)


def train_script(model: ODENet, X: torch.Tensor, y: torch.Tensor, steps: int) -> list[float]:
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.BCEWithLogitsLoss()
    losses = []
    for _, idx in zip(range(steps), batches(len(X), BATCH, 0)):
        assert idx is not None
        opt.zero_grad()
        loss = loss_fn(model(X[idx]), y[idx])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


# ------------------------------------------------------------------------ (a) deepdyn


def deepdyn_net(model: ODENet) -> dd.NeuralODE:
    net = dd.NeuralODE(2, 2 + model.augment, 1, T=1.0, field="mlp", hidden=HIDDEN, q=3,
                       activation="relu", lift="pad", rtol=TOL, atol=TOL)  # fmt: skip
    f = model.func
    for i, lin in enumerate((f.fc1, f.fc2, f.fc3)):
        net.layer(0).set(lin.weight.detach(), lin.bias.detach(), sublayer=i)
    net.layer("readout").set(model.readout.weight.detach(), model.readout.bias.detach())
    return net


def count_nfe(net: dd.NeuralODE) -> list[int]:
    """A counter around the field's evaluations (a list holding one int)."""
    counter = [0]
    inner = net.field.forward

    def counted(l: int, z: torch.Tensor) -> torch.Tensor:
        counter[0] += 1
        return inner(l, z)

    net.field.forward = counted  # type: ignore[method-assign]
    return counter


def accuracy_script(model: ODENet, X: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float(((model(X) > 0).float() == y).float().mean())


def accuracy_deepdyn(net: dd.NeuralODE, X: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float(((net(X)[:, 0] > 0.5).float() == y).float().mean())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="2 epochs")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    epochs = 2 if args.quick else 10
    repeat = args.repeat
    X, y = spheres(0)
    Xt, yt = spheres(1)
    steps = epochs * math.ceil(len(X) / BATCH)
    print(
        f"load average at start: {os.getloadavg()[0]:.2f}; torch {torch.__version__}, "
        f"threads {args.threads}; {epochs} epochs = {steps} Adam steps of batch {BATCH}"
    )
    rows = {}
    for augment in (0, 1):
        t_dd, t_sc = [], []
        for r in range(repeat):
            torch.manual_seed(r)
            model = ODENet(augment)
            net = deepdyn_net(model)
            nfe = count_nfe(net)
            start = time.perf_counter()
            hist = dd.fit(net, X, y, optimizer="adam", lr=LR, steps=steps, batch_size=BATCH)
            t_dd.append(time.perf_counter() - start)
            nfe_dd = nfe[0]
            model.func.nfe = 0
            start = time.perf_counter()
            losses = train_script(model, X, y, steps)
            t_sc.append(time.perf_counter() - start)
            nfe_sc = model.func.nfe
        row = {
            "seconds_deepdyn": statistics.median(t_dd),
            "seconds_script": statistics.median(t_sc),
            "final_loss_deepdyn": float(hist.loss[-1]),
            "final_loss_script": losses[-1],
            "train_accuracy_deepdyn": accuracy_deepdyn(net, X, y),
            "train_accuracy_script": accuracy_script(model, X, y),
            "test_accuracy_deepdyn": accuracy_deepdyn(net, Xt, yt),
            "test_accuracy_script": accuracy_script(model, Xt, yt),
            "nfe_per_epoch_deepdyn": nfe_dd / epochs,
            "nfe_per_epoch_script": nfe_sc / epochs,
        }
        row["ratio"] = row["seconds_deepdyn"] / row["seconds_script"]
        rows[f"augment={augment}"] = row
    print(f"{'':10} {'deepdyn s':>10} {'script s':>9} {'ratio':>6} {'acc dd':>7} {'acc sc':>7} "
          f"{'test dd':>8} {'test sc':>8} {'NFE/ep dd':>10} {'NFE/ep sc':>10}")  # fmt: skip
    for name, r in rows.items():
        print(f"{name:10} {r['seconds_deepdyn']:10.2f} {r['seconds_script']:9.2f} "
              f"{r['ratio']:6.2f} {r['train_accuracy_deepdyn']:7.3f} "
              f"{r['train_accuracy_script']:7.3f} {r['test_accuracy_deepdyn']:8.3f} "
              f"{r['test_accuracy_script']:8.3f} {r['nfe_per_epoch_deepdyn']:10.0f} "
              f"{r['nfe_per_epoch_script']:10.0f}")  # fmt: skip
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    ratio = max(r["ratio"] for r in rows.values())
    print(json.dumps({"benchmark": "node_vs_torchdiffeq", "ratio": round(ratio, 3),
                      "threads": args.threads, "epochs": epochs, "cases": rows}))  # fmt: skip


if __name__ == "__main__":
    main()
