"""Catalogue entry: training by the maximum principle against gradient methods (thesis ch. 4).

Case ``toy`` is the function-approximation problem of Li, Chen, Tai & E (2018): the target
sin(x) on [−π, π], 100 training and 100 test points drawn uniformly (one draw per seed), the
input repeated into 5 components, 20 tanh residual layers with δ = 0.25 and no readout (the
target is sin(x) in every component), regularization λ = 1e-3, zero initial weights, full batch.
Case ``rings`` is the disk-inside-annulus classification (thesis §10.1): width 3 (zero-padded
lift), 10 tanh residual layers with δ = 0.25, a sigmoid readout, BCE, λ = 1e-3, uniform initial
weights (seeded). Methods: E-MSA for each ρ in ``rhos``, basic MSA (eq. 4.10), SGD, Adagrad and
Adam (``deepdyn.fit``). The loss is recorded per iteration and per wall-clock second. The
gradient methods train all seeds as one ensemble (member k exactly as alone; each seed its own
data), so their seconds are the ensemble's — an upper bound of one network's.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
import xarray as xr
from matplotlib.figure import Figure

from deepdyn import _checks
from deepdyn.data import rings
from deepdyn.dynamics import ResNet
from deepdyn.experiments import (
    Claim,
    Experiment,
    Progress,
    ProgressCounter,
    register,
    register_claims,
)
from deepdyn.train import compute_loss, fit
from deepdyn.train._problem import problem, terminal_loss
from deepdyn.train.pmp import costates, msa
from deepdyn.train.pmp._costates import hamiltonian

D = torch.float64
GRADIENT = ("sgd", "adagrad", "adam")
CASES = ("toy", "rings")


@dataclass(frozen=True)
class Config:
    cases: tuple[str, ...] = CASES
    seeds: tuple[int, ...] = (0, 1, 2)
    rhos: tuple[float, ...] = (1.0, 5.0)  # one E-MSA run per ρ
    basic_msa: bool = True
    gradient: tuple[str, ...] = GRADIENT
    lrs: tuple[float, ...] = (0.1, 0.1, 0.005)  # one per gradient method
    pmp_steps: int = 30
    gradient_steps: int = 600
    msa_inner_steps: int = 10
    emsa_inner_steps: int = 3
    toy_points: int = 100
    toy_depth: int = 20
    rings_points: int = 200
    rings_depth: int = 10
    delta: float = 0.25
    regularizer: float = 1e-3

    def __post_init__(self) -> None:
        if not self.cases:
            raise ValueError("cases is empty: choose some of toy, rings")
        for c in self.cases:
            _checks.choice("case", c, CASES)
        for m in self.gradient:
            _checks.choice("gradient method", m, GRADIENT)
        if len(self.lrs) != len(self.gradient):
            raise ValueError(
                f"lrs has {len(self.lrs)} values, expected one per gradient method "
                f"({', '.join(self.gradient)})"
            )
        for v in (*self.lrs, self.delta):
            _checks.positive("lr/delta", v)
        for r in self.rhos:
            _checks.positive("rho", r, allow_zero=True)
        _checks.integers("seeds", self.seeds, item="seed", minimum=0, example="0")
        for name in (
            "pmp_steps",
            "gradient_steps",
            "msa_inner_steps",
            "emsa_inner_steps",
            "toy_points",
            "toy_depth",
            "rings_points",
            "rings_depth",
        ):
            _checks.integer(name, getattr(self, name))
        _checks.positive("regularizer", self.regularizer, allow_zero=True)

    def methods(self) -> list[str]:
        pmp = [f"E-MSA rho={r:g}" for r in self.rhos] + (["MSA"] if self.basic_msa else [])
        return pmp + [m.capitalize() if m != "sgd" else "SGD" for m in self.gradient]


def _toy_data(cfg: Config, seed: int) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    n = cfg.toy_points
    x = (torch.rand(2 * n, 1, generator=g, dtype=D) * 2 - 1) * math.pi  # (sample, 1)
    X, Y = x.repeat(1, 5), torch.sin(x).repeat(1, 5)  # (sample, component = 5)
    return X[:n], Y[:n], X[n:], Y[n:]


def _rings_data(cfg: Config, seed: int) -> tuple[torch.Tensor, ...]:
    X, y = rings(cfg.rings_points, seed=1000 + seed, dtype=D)
    Xt, yt = rings(cfg.rings_points, seed=2000 + seed, dtype=D)
    return X, y, Xt, yt


def _net(cfg: Config, case: str, seed: int | tuple[int, ...]) -> ResNet:
    """The network of ``case``; a tuple of seeds gives one ensemble member per seed (member k
    equals the network built alone with seed[k])."""
    ens = len(seed) if isinstance(seed, tuple) else None
    if case == "toy":
        return ResNet(5, 5, cfg.toy_depth, h=cfg.delta, readout=None, init="zero", dtype=D,
                      ensemble=ens)  # fmt: skip
    return ResNet(
        2,
        3,
        cfg.rings_depth,
        h=cfg.delta,
        lift="pad",
        init="uniform",
        scale=0.5,
        seed=seed,
        ensemble=ens,
        dtype=D,
    )


def _data(cfg: Config, case: str, seed: int) -> tuple[torch.Tensor, ...]:
    return (_toy_data if case == "toy" else _rings_data)(cfg, seed)


def _train(cfg: Config, case: str, method: str, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """E-MSA or MSA on one seed: (loss per iteration, seconds at the end of each iteration,
    final test loss)."""
    X, y, Xt, yt = _data(cfg, case, seed)
    net = _net(cfg, case, seed)
    emsa = method.startswith("E-MSA")
    h = msa(
        net,
        X,
        y,
        method="emsa" if emsa else "msa",
        rho=float(method.split("=")[1]) if emsa else 0.0,
        steps=cfg.pmp_steps,
        inner_steps=cfg.emsa_inner_steps if emsa else cfg.msa_inner_steps,
        regularizer=cfg.regularizer,
        on_nonfinite="stop",
    )
    loss, seconds = h.loss.numpy(), h.seconds.numpy() if h.seconds is not None else None
    assert seconds is not None
    with torch.no_grad():
        test = float(compute_loss(net, Xt, yt)) if np.isfinite(loss).all() else float("nan")
    return loss, seconds, test


def _train_gradient(
    cfg: Config, case: str, method: str, seeds: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SGD, Adagrad or Adam on every seed at once, one ensemble member per seed with its own
    data (element-wise updates: member k trains exactly as the network alone). Returns the loss
    (seed, iteration), the ensemble's seconds at the end of each iteration (the same for every
    seed: an upper bound of one network's, since a small network's step costs about as much as
    the ensemble's) and the test losses (seed,)."""
    data = [_data(cfg, case, s) for s in seeds]
    X, y, Xt, yt = (torch.stack([d[i] for d in data]) for i in range(4))
    net = _net(cfg, case, tuple(seeds))
    name = method.lower()
    stamps: list[float] = []
    start = time.perf_counter()
    hist = fit(
        net,
        X,
        y,
        optimizer=name,
        lr=cfg.lrs[cfg.gradient.index(name)],
        steps=cfg.gradient_steps,
        regularizer=cfg.regularizer,
        callback=lambda _s, _l: stamps.append(time.perf_counter() - start),
    )
    loss = hist.loss.numpy().T  # (seed, iteration)
    seconds = np.tile(np.asarray(stamps), (len(seeds), 1))
    with torch.no_grad():
        test = compute_loss(net, Xt, yt).numpy()
    test = np.where(np.isfinite(loss).all(axis=1), test, np.nan)
    return loss, seconds, test


def _costate_checks(cfg: Config, case: str, seed: int) -> tuple[float, float, float]:
    """Eq. 4.11–4.17 on the untrained network of ``case`` (first seed), each a relative
    deviation: (the costates p_l of the backward recursion against −∂J/∂z_l by autograd through
    the whole forward pass; ∂H_l/∂θ_l against −∂J/∂θ_l, J = data loss + λ‖θ‖² from
    ``compute_loss``; the loss curve of the gradient form of the MSA, eq. 4.11, against plain
    gradient descent, ``fit`` with SGD, over ``pmp_steps`` iterations)."""
    X, y, _, _ = _data(cfg, case, seed)
    net = _net(cfg, case, seed)
    c = costates(net, X, y, regularizer=cfg.regularizer)
    pb = problem(net, X, y, "auto", cfg.regularizer)
    z = [net.lift(pb.Xe)]
    eps = []  # ∂J/∂ε_l at ε_l = 0 is ∂J/∂z_l
    for l in range(net.depth + 1):
        eps.append(torch.zeros_like(z[l], requires_grad=True))
        z[l] = z[l] + eps[l]
        if l < net.depth:
            z.append(net.layer_step(l, z[l], z[l - 1] if l > 0 else None))
    grads = torch.autograd.grad(terminal_loss(net, z[-1], pb).sum(), eps)
    scale = max(float(g.norm()) for g in grads)
    dev_p = max(float((p + g).norm()) for p, g in zip(c.costates, grads)) / scale
    J = compute_loss(net, X, y) + cfg.regularizer * sum((q**2).sum() for q in net.parameters())
    dev_h = 0.0
    for l in range(net.depth):
        params = net.field.layer_parameters(l)
        dJ = torch.autograd.grad(J, params, retain_graph=True)
        H = hamiltonian(net, l, c.states, c.costates, pb).sum()
        dH = torch.autograd.grad(H, params)
        num = sum(float(((a + b) ** 2).sum()) for a, b in zip(dH, dJ)) ** 0.5
        den = sum(float((b**2).sum()) for b in dJ) ** 0.5
        dev_h = max(dev_h, num / den)
    lr = cfg.lrs[cfg.gradient.index("sgd")] if "sgd" in cfg.gradient else 0.1
    steps = cfg.pmp_steps
    a, b = _net(cfg, case, seed), _net(cfg, case, seed)
    form = msa(a, X, y, method="gradient", lr=lr, steps=steps, regularizer=cfg.regularizer)
    sgd = fit(b, X, y, optimizer="sgd", lr=lr, steps=steps, regularizer=cfg.regularizer)
    gap = float((form.loss - sgd.loss).abs().max() / sgd.loss[0])
    return dev_p, dev_h, gap


def _isotonic_bound(cfg: Config, seed: int) -> float:
    """The least MSE of any increasing map of x to sin x on the toy's training points (pool-
    adjacent-violators): a lower bound of every network whose components stay equal — the zero
    initialization's, under every method here — whose flow is then 1-D and increasing."""
    from sklearn.isotonic import IsotonicRegression

    X, Y, _, _ = _toy_data(cfg, seed)
    x, t = X[:, 0].numpy(), Y[:, 0].numpy()
    return float(np.mean((IsotonicRegression().fit_transform(x, t) - t) ** 2))


def run(cfg: Config, progress: Progress | None = None) -> xr.Dataset:
    methods = cfg.methods()
    # one untimed iteration of every method first: lazy initialization (double backward,
    # optimizer set-up) would otherwise land in the first timed iteration of the first run
    tiny = Config(
        cases=("toy",), seeds=cfg.seeds[:1], rhos=cfg.rhos, basic_msa=cfg.basic_msa,
        gradient=cfg.gradient, lrs=cfg.lrs, pmp_steps=1, gradient_steps=1, toy_depth=2,
    )  # fmt: skip
    pmp = len(methods) - len(cfg.gradient)  # E-MSA and MSA first, then the gradient methods
    for j, method in enumerate(methods):
        if j < pmp:
            _train(tiny, "toy", method, cfg.seeds[0])
        else:
            _train_gradient(tiny, "toy", method, cfg.seeds[:1])
    n_iter = max(cfg.pmp_steps, cfg.gradient_steps)
    shape = (len(cfg.cases), len(methods), len(cfg.seeds), n_iter)
    loss, seconds = np.full(shape, np.nan), np.full(shape, np.nan)
    test = np.full(shape[:3], np.nan)
    count = ProgressCounter(progress, len(cfg.cases) * (pmp * len(cfg.seeds) + len(cfg.gradient)))
    for i, case in enumerate(cfg.cases):
        for j, method in enumerate(methods):
            if j >= pmp:  # a gradient method: all seeds as one ensemble
                curves, stamps, tests = _train_gradient(cfg, case, method, cfg.seeds)
                loss[i, j, :, : curves.shape[1]] = curves
                seconds[i, j, :, : stamps.shape[1]] = stamps
                test[i, j] = tests
                count(f"{case} {method} seeds {', '.join(map(str, cfg.seeds))}")
                continue
            for k, seed in enumerate(cfg.seeds):
                lo, se, te = _train(cfg, case, method, seed)
                loss[i, j, k, : len(lo)] = lo
                seconds[i, j, k, : len(se)] = se
                test[i, j, k] = te
                count(f"{case} {method} seed {seed}")
    checks = np.array([_costate_checks(cfg, case, cfg.seeds[0]) for case in cfg.cases])
    iso = [np.median([_isotonic_bound(cfg, s) for s in cfg.seeds]) if c == "toy" else np.nan
           for c in cfg.cases]  # fmt: skip
    return xr.Dataset(
        {
            "loss": (("case", "method", "ensemble", "iteration"), loss),
            "seconds": (("case", "method", "ensemble", "iteration"), seconds),
            "test_loss": (("case", "method", "ensemble"), test),
            "costate_deviation": (("case",), checks[:, 0]),
            "hamiltonian_gradient_deviation": (("case",), checks[:, 1]),
            "gradient_form_gap": (("case",), checks[:, 2]),
            "isotonic_bound": (("case",), np.asarray(iso, dtype=float)),
        },
        coords={
            "case": list(cfg.cases),
            "method": methods,
            "seed": ("ensemble", list(cfg.seeds)),
            "iteration": np.arange(n_iter),
        },
        attrs={"regularizer": cfg.regularizer, "delta": cfg.delta},
    )


def figure(ds: xr.Dataset) -> Figure:
    cases = list(ds["case"].values)
    fig, axes = plt.subplots(len(cases), 2, figsize=(11, 4.0 * len(cases)), squeeze=False)
    colors = plt.get_cmap("tab10")
    for i, case in enumerate(cases):
        ax_it, ax_t = axes[i]
        for j, method in enumerate(ds["method"].values):
            c = colors(j)
            for k in range(ds.sizes["ensemble"]):
                lo = ds["loss"].values[i, j, k]
                se = ds["seconds"].values[i, j, k]
                ok = np.isfinite(lo)
                label = str(method) if k == 0 else None
                ax_it.plot(np.flatnonzero(ok) + 1, lo[ok], color=c, lw=1.0, alpha=0.8, label=label)
                # loss[k] is J(θ_k), reached when iteration k − 1 ends, at seconds[k − 1]
                at = ok[1:] & np.isfinite(se[:-1])
                ax_t.plot(se[:-1][at], lo[1:][at], color=c, lw=1.0, alpha=0.8, label=label)
        for ax, xlabel in ((ax_it, "iteration"), (ax_t, "wall-clock seconds")):
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel(xlabel)
            ax.set_ylabel("training loss J (with λ‖θ‖²)")
            ax.grid(True, which="both", alpha=0.3)
        ax_it.set_title(f"{case}: loss per iteration")
        ax_t.set_title(f"{case}: loss against wall-clock time (2-core CPU)")
        ax_it.legend(fontsize=8)
    fig.tight_layout()
    return fig


def numbers(ds: xr.Dataset) -> dict[str, float]:
    out: dict[str, float] = {}
    for case in ds["case"].values:
        # per seed, the target is 1.01 × the least loss any method reached on that seed's data
        best = np.nanmin(ds["loss"].sel({"case": case}).values, axis=(0, 2))  # (ensemble,)
        for method in ds["method"].values:
            at = {"case": case, "method": method}  # (sel's own "method" keyword is taken)
            lo = ds["loss"].sel(at).values  # (ensemble, iteration)
            se = ds["seconds"].sel(at).values
            last = [row[np.isfinite(row)][-1] if np.isfinite(row).any() else np.nan for row in lo]
            key = f"{case}_{str(method).replace(' ', '_').replace('=', '')}"
            out[f"{key}_final_loss"] = float(np.median(last))
            out[f"{key}_best_loss"] = float(np.nanmedian(np.nanmin(lo, axis=1)))
            out[f"{key}_test_loss"] = float(np.nanmedian(ds["test_loss"].sel(at).values))
            n = np.isfinite(lo).sum(axis=1)
            per = [s[m - 1] / m for s, m in zip(se, n) if m > 0]
            out[f"{key}_seconds_per_iteration"] = float(np.median(per)) if per else math.nan
            # the largest loss over the start (> 1: the method raised the loss) and the
            # iterations k until J(θ_k) ≤ 1.01 × best (median over the seeds; left out when
            # most seeds never get there: every key number is finite)
            out[f"{key}_max_loss_over_start"] = float(np.median(np.nanmax(lo, axis=1) / lo[:, 0]))
            hits = [np.flatnonzero(row <= 1.01 * b) for row, b in zip(lo, best)]
            its = np.median([h[0] if len(h) else np.inf for h in hits])
            if np.isfinite(its):
                out[f"{key}_iterations_to_target"] = float(its)
    if "costate_deviation" in ds:
        out["costate_deviation_max"] = float(ds["costate_deviation"].max())
        out["hamiltonian_gradient_deviation_max"] = float(
            ds["hamiltonian_gradient_deviation"].max()
        )
        out["gradient_form_gap_max"] = float(ds["gradient_form_gap"].max())
        if "toy" in ds["case"].values:
            out["toy_isotonic_bound"] = float(ds["isotonic_bound"].sel({"case": "toy"}))
    return out


EXPERIMENT = register(
    Experiment(
        id="control-msa",
        title="MSA and E-MSA against gradient methods",
        reference="ch. 4 eq. 4.6–4.17; Li, Chen, Tai & E 2018",
        caption=(
            "Training by the maximum principle. Top: Li et al.'s toy problem (sin on [−π, π], "
            "5 components, 20 tanh residual layers, δ = 0.25, λ = 1e-3, zero initial weights); "
            "bottom: the rings. Left: loss per iteration; right: per wall-clock second, one "
            "line per seed (SGD, Adagrad and Adam train the seeds as one ensemble: their seconds "
            "are the ensemble's, an upper bound of one network's). "
            "E-MSA takes far fewer iterations than SGD/Adagrad/Adam but each "
            "costs an inner L-BFGS maximization per layer; basic MSA oscillates (thesis notes §7)."
        ),
        config=Config,
        run=run,
        figure=figure,
        numbers=numbers,
        dims=("case", "method"),
        quick={
            "seeds": (0,),
            "pmp_steps": 3,
            "gradient_steps": 20,
            "toy_depth": 6,
            "rings_points": 60,
            "rings_depth": 4,
            "rhos": (5.0,),
        },
    )
)

register_claims(
    EXPERIMENT.id,
    [
        Claim(
            "eq. 4.9–4.10 (ch. 4): the PMP suggests a training algorithm, the method of "
            "successive approximations (MSA: every θ_l ← argmax H_l at the current states and "
            "costates), more robust than gradient descent",
            "basic MSA (eq. 4.10, 10 L-BFGS steps per layer, 30 iterations, 3 seeds): its "
            "largest loss over the starting loss on the toy (zero weights) and on the rings, "
            "and its final toy loss against Adam's. It raises the loss and oscillates (thesis "
            "notes §7): maximizing H_l ignores that θ_l moves the states the costates were "
            "computed on",
            "refuted",
            (
                "toy_MSA_max_loss_over_start",
                "rings_MSA_max_loss_over_start",
                "toy_MSA_final_loss",
                "toy_Adam_final_loss",
            ),
            lambda n: (
                n["toy_MSA_max_loss_over_start"] > 2
                and n["rings_MSA_max_loss_over_start"] > 2
                and n["toy_MSA_final_loss"] > 3 * n["toy_Adam_final_loss"]
            ),
        ),
        Claim(
            "Li, Chen, Tai & E 2018 (thesis ref. [38]): the extended MSA (E-MSA) converges in "
            "far fewer iterations than gradient methods, to as low a loss",
            "Li et al.'s toy from zero weights (median of 3 data draws): iterations until the "
            "loss is within 1% of the least any method reaches on that draw, E-MSA ρ = 5 "
            "against SGD, Adagrad and Adam; the final losses of E-MSA and Adam; seconds per "
            "iteration (one E-MSA iteration maximizes every layer's H̃ by 3 L-BFGS steps; "
            "Adam's are the 3-seed ensemble's, an upper bound). All end at one value, the "
            "zero initialization's basin (the components stay equal, the flow is 1-D and "
            "increasing), not the problem's floor: the isotonic bound of increasing maps on "
            "the same points is far lower, and on the evenly spaced toy random "
            "initializations end below the basin (thesis notes §9, tests/test_toy_basin.py)",
            "confirmed",
            (
                "toy_E-MSA_rho5_iterations_to_target",
                "toy_SGD_iterations_to_target",
                "toy_Adagrad_iterations_to_target",
                "toy_Adam_iterations_to_target",
                "toy_E-MSA_rho5_final_loss",
                "toy_Adam_final_loss",
                "toy_isotonic_bound",
                "toy_E-MSA_rho5_seconds_per_iteration",
                "toy_Adam_seconds_per_iteration",
            ),
            lambda n: (
                3 * n["toy_E-MSA_rho5_iterations_to_target"]
                < min(n[f"toy_{m}_iterations_to_target"] for m in ("SGD", "Adagrad", "Adam"))
                and abs(n["toy_E-MSA_rho5_final_loss"] - n["toy_Adam_final_loss"]) < 0.01
                and n["toy_isotonic_bound"] < 0.7 * n["toy_Adam_final_loss"]
            ),
        ),
        Claim(
            "Li, Chen, Tai & E 2018: E-MSA is a training method as good as gradient methods "
            "beyond regression — here on a classification, the rings",
            "final BCE on the rings (median of 3 seeds) of E-MSA with ρ = 1 and 5 against Adam; "
            "E-MSA's largest loss over its start; on the toy, ρ = 1 against ρ = 5. E-MSA stays "
            "near chance (BCE ≈ ln 2) and can raise the loss; the layer-wise maximization does "
            "not find the coordinated change of all layers that separates the classes, and the "
            "toy's result depends on ρ",
            "refuted",
            (
                "rings_E-MSA_rho1_final_loss",
                "rings_E-MSA_rho5_final_loss",
                "rings_Adam_final_loss",
                "rings_E-MSA_rho5_max_loss_over_start",
                "toy_E-MSA_rho1_final_loss",
                "toy_E-MSA_rho5_final_loss",
            ),
            lambda n: (
                min(n["rings_E-MSA_rho1_final_loss"], n["rings_E-MSA_rho5_final_loss"])
                > 4 * n["rings_Adam_final_loss"]
                and n["rings_E-MSA_rho5_max_loss_over_start"] > 1.2
                and n["toy_E-MSA_rho1_final_loss"] > 1.5 * n["toy_E-MSA_rho5_final_loss"]
            ),
        ),
        Claim(
            "§4.1 eq. 4.11–4.17: with p_N = −∇loss the costates are negative gradients, "
            "p_n = −∂J/∂x_n, ∂H_n/∂θ_n = −∂J/∂θ_n, and the MSA with a gradient step on H_n "
            "is gradient descent",
            "relative deviations, max over the toy and the rings at the initial weights: the "
            "backward recursion's p_l against −∂J/∂z_l by autograd through the whole forward "
            "pass; ∂H_l/∂θ_l against −∂J/∂θ_l (J = data loss + λ‖θ‖²); the loss curve of the "
            "gradient form (eq. 4.11) against SGD's over 30 iterations",
            "confirmed",
            (
                "costate_deviation_max",
                "hamiltonian_gradient_deviation_max",
                "gradient_form_gap_max",
            ),
            lambda n: (
                n["costate_deviation_max"] < 1e-10
                and n["hamiltonian_gradient_deviation_max"] < 1e-10
                and n["gradient_form_gap_max"] < 1e-10
            ),
        ),
    ],
)
