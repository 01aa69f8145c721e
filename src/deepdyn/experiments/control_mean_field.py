"""Catalogue entry: the mean-field control theorems of chapter 9, measured (Thm 9.1.1, 9.1.3,
9.2.1; Thm 9.1.2's rates are the entry ``control-risk``).

(a) **Maximum condition (Thm 9.1.1, eq. 9.8).** At an optimal θ every θ_l maximizes the
sample-mean Hamiltonian H_l(θ) = Σ_i p_{l+1}^i · F_l(z_l^i; θ) − λ‖θ‖² (p = −∂J/∂z, which
carries the 1/N of the mean loss), with the states and costates of θ held fixed. Measured:
the gap max_θ H_l(θ) − H_l(θ_l), found by L-BFGS ascent from θ_l, the largest over the layers,
for tanh ResNets on the rings trained by Adam (an ensemble, one member per seed) and by E-MSA
(one network per seed), against training progress. A gap of 0 says θ_l is a local maximizer;
the ascent cannot certify a global one.

(c) **Small-time uniqueness (Thm 9.1.3).** With λ‖θ‖² the Hamiltonian is strongly concave in θ
when h·|p·∂²f/∂θ²| < 2λ, which small horizons T (steps h = T/L) give. Networks are trained
from ``inits`` different random initializations for each T, all in one ensemble (a horizon per
member); measured: the spread of the trained θ across initializations (median pairwise
distance over the median norm) and of the reached objective. Unique solutions have spread 0.

(d) **Dynamic programming (Thm 9.2.1).** For one input (the law μ a Dirac, where the
mean-field HJB equation is the classical one) and a width-1 tanh ResNet
x_{l+1} = x_l + h tanh(a_l x_l + b_l) with cost J = (x_L − y)² + λ Σ_l (a_l² + b_l²), the
Bellman recursion V_L(x) = (x − y)², V_l(x) = min_{a,b} λ(a² + b²) + V_{l+1}(x + h tanh(ax + b))
is solved on a state grid (linear interpolation) over a grid of controls in a box. V_0(x_0) is
the global minimum over that box up to the grid's error; it is compared with the costs GD
(Adam, several random restarts, one ensemble) and E-MSA reach from the same x_0, and the DP
policy, run forward, is plugged into the network. (The mean-field HJB on the space of measures,
for a law of many inputs, has no grid that fits in seconds; that part is not checked.)
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
import xarray as xr
from matplotlib.figure import Figure

from deepdyn import _checks
from deepdyn.data import rings
from deepdyn.dynamics import Network, ResNet
from deepdyn.experiments import (
    Claim,
    Experiment,
    Progress,
    ProgressCounter,
    register,
    register_claims,
)
from deepdyn.train import fit
from deepdyn.train.pmp import costates, msa

D = torch.float64


@dataclass(frozen=True)
class Config:
    # (a), (c): the rings, one ensemble of ``inits`` initializations per horizon
    samples: int = 120
    width: int = 3
    depth: int = 4
    horizons: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
    inits: int = 4
    regularizer: float = 1e-2
    steps: int = 250
    lr: float = 0.05
    emsa_steps: int = 3
    rho: float = 5.0
    ascent_steps: int = 15
    # (d) the Bellman recursion
    bellman_layers: int = 4
    bellman_T: float = 2.0
    target: float = 1.0
    bellman_regularizer: float = 0.05
    starts: tuple[float, ...] = (-1.0, -0.5, 0.0, 0.5, 1.0)
    state_grid: int = 401
    control_grid: int = 41
    control_box: float = 3.0
    restarts: int = 4
    bellman_steps: int = 300
    bellman_emsa_steps: int = 5
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("samples", "width", "depth", "steps", "emsa_steps", "ascent_steps"):
            _checks.integer(name, getattr(self, name))
        for name in ("inits", "bellman_layers", "restarts", "bellman_steps",
                     "bellman_emsa_steps"):  # fmt: skip
            _checks.integer(name, getattr(self, name))
        _checks.integer("state_grid", self.state_grid, minimum=3)
        _checks.integer("control_grid", self.control_grid, minimum=2)
        _checks.integer("seed", self.seed, minimum=0)
        for name in ("lr", "bellman_T", "control_box", "rho"):
            _checks.positive(name, getattr(self, name))
        for name in ("regularizer", "bellman_regularizer"):
            _checks.positive(name, getattr(self, name), allow_zero=True)
        if not self.horizons or not self.starts:
            raise ValueError("horizons and starts need at least one value each")
        for t in self.horizons:
            _checks.positive("horizon", t)
        if self.inits < 2:
            raise ValueError(f"inits must be ≥ 2 to compare initializations, got {self.inits}")


# ---------------------------------------------------------------- (a) the maximum condition
def hamiltonian_gaps(
    net: Network, X: torch.Tensor, y: torch.Tensor, regularizer: float, steps: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(gap, H, objective): per (layer, member) max_θ H_l(θ) − H_l(θ_l) by ``steps`` L-BFGS
    iterations of ascent from θ_l (states and costates of the current θ held fixed) and
    H_l(θ_l); per member the objective J. ``net`` is not changed."""
    c = costates(net, X, y, regularizer=regularizer)
    work = copy.deepcopy(net)
    M, L = net.members, net.depth
    layers = [work.field.layer_parameters(l) for l in range(L)]

    def H() -> torch.Tensor:  # (layer, member); the layers are separable: one ascent for all
        rows = []
        for l, params in enumerate(layers):
            F = work.layer_step(l, c.states[l])
            reg = sum((p**2).reshape(M, -1).sum(1) for p in params)
            rows.append((c.costates[l + 1] * F).sum((1, 2)) - regularizer * reg)
        return torch.stack(rows)

    with torch.no_grad():
        h0 = H()
    flat = [p for params in layers for p in params]
    opt = torch.optim.LBFGS(flat, lr=1.0, max_iter=steps, max_eval=2 * steps,
                            line_search_fn="strong_wolfe")  # fmt: skip

    def closure() -> torch.Tensor:
        opt.zero_grad()
        value = -H().sum()
        value.backward()
        return value

    with torch.enable_grad():
        opt.step(closure)  # type: ignore[arg-type]
    with torch.no_grad():
        h1 = H()
    return (h1 - h0).clamp(min=0).numpy(), h0.numpy(), c.loss.detach().numpy()


def _checkpoints(steps: int) -> list[int]:
    """0, then about log-spaced steps up to ``steps``."""
    pts = {0, steps, *np.unique(np.geomspace(1, steps, 3).astype(int)).tolist()}
    return sorted(pts)


def _theta(net: Network) -> np.ndarray:
    """(member, parameter) all parameters of each member, flattened."""
    with torch.no_grad():
        return torch.cat([p.reshape(net.members, -1) for p in net.parameters()], 1).numpy()


def _horizons(cfg: Config, X: torch.Tensor, y: torch.Tensor) -> dict[str, np.ndarray]:
    """(a) and (c) on one ensemble: ``inits`` random initializations per horizon, trained by
    Adam; the Hamiltonian gap and the PMP residual at log-spaced steps; the spread at the end.
    E-MSA trains member 0 of the smallest and of the largest horizon alone."""
    H, K = len(cfg.horizons), cfg.inits
    Ts = [t for t in cfg.horizons for _ in range(K)]
    seed = cfg.seed + 100

    def make(T: float | list[float], ensemble: int | None, s: int) -> ResNet:
        return ResNet(2, cfg.width, cfg.depth, T=T, lift="pad", init="uniform", scale=1.0,
                      seed=s, ensemble=ensemble, dtype=D)  # fmt: skip

    net = make(Ts, H * K, seed)
    lam = cfg.regularizer
    at = _checkpoints(cfg.steps)
    gaps, residuals = [], []

    def record(n: Network) -> None:
        g, _, _ = hamiltonian_gaps(n, X, y, lam, cfg.ascent_steps)
        gaps.append(g.max(0))
        residuals.append(costates(n, X, y, regularizer=lam).residual.detach().numpy())

    record(net)

    def callback(step: int, loss: torch.Tensor) -> None:
        if step + 1 in at:
            record(net)

    fit(net, X, y, optimizer="adam", lr=cfg.lr, steps=cfg.steps, regularizer=lam,
        callback=callback)  # fmt: skip
    theta = _theta(net).reshape(H, K, -1)
    J = costates(net, X, y, regularizer=lam).loss.detach().numpy().reshape(H, K)
    spread = np.zeros(H)
    for i in range(H):
        pairs = itertools.combinations(range(K), 2)
        d = [np.linalg.norm(theta[i, a] - theta[i, b]) for a, b in pairs]
        size = float(np.median(np.linalg.norm(theta[i], axis=1)))
        spread[i] = np.median(d) / max(size, 1e-300)
    em_gap = np.zeros((2, cfg.emsa_steps + 1))
    for e, i in enumerate((0, H - 1)):
        single = make(cfg.horizons[i], None, seed + i * K)  # = member 0 of horizon i
        for it in range(cfg.emsa_steps + 1):
            em_gap[e, it] = hamiltonian_gaps(single, X, y, lam, cfg.ascent_steps)[0].max()
            if it < cfg.emsa_steps:
                msa(single, X, y, method="emsa", rho=cfg.rho, steps=1, regularizer=lam,
                    inner_steps=5)  # fmt: skip
    return {
        "step": np.asarray(at),
        "gap": np.stack(gaps).reshape(len(at), H, K),
        "residual": np.stack(residuals).reshape(len(at), H, K),
        "theta_spread": spread,
        "objective": J,
        "emsa_gap": em_gap,
    }


# ---------------------------------------------------------------- (d) dynamic programming
def bellman_values(
    target: float,
    regularizer: float,
    h: float,
    layers: int,
    states: np.ndarray,
    controls: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The Bellman recursion for x_{l+1} = x + h tanh(a x + b), cost (x_L − target)² +
    λ Σ (a² + b²): V (layer + 1, state) on the sorted grid ``states`` (values between nodes by
    linear interpolation, clamped at the ends) and the minimizing control index per
    (layer, state). ``controls``: (k, 2) candidate pairs (a, b)."""
    a, b = controls[:, 0], controls[:, 1]
    run = regularizer * (a**2 + b**2)
    V = np.zeros((layers + 1, len(states)))
    policy = np.zeros((layers, len(states)), dtype=np.int64)
    V[layers] = (states - target) ** 2
    for l in range(layers - 1, -1, -1):
        nxt = states[:, None] + h * np.tanh(a[None] * states[:, None] + b[None])
        cost = run[None] + np.interp(nxt, states, V[l + 1])
        policy[l] = np.argmin(cost, 1)
        V[l] = cost[np.arange(len(states)), policy[l]]
    return V, policy


def brute_force(
    x0: float, target: float, regularizer: float, h: float, layers: int, controls: np.ndarray
) -> float:
    """min over every sequence of ``layers`` controls from ``controls`` of the exact cost."""
    x = np.array([x0])
    cost = np.zeros(1)
    for _ in range(layers):
        a, b = controls[:, 0], controls[:, 1]
        x = (x[:, None] + h * np.tanh(a[None] * x[:, None] + b[None])).ravel()
        cost = (cost[:, None] + regularizer * (a**2 + b**2)[None]).ravel()
    return float((cost + (x - target) ** 2).min())


def control_grid(box: float, n: int) -> np.ndarray:
    c = np.linspace(-box, box, n)
    A, B = np.meshgrid(c, c, indexing="ij")
    return np.stack([A.ravel(), B.ravel()], 1)


def _policy_run(
    x0: float, cfg: Config, V: np.ndarray, states: np.ndarray, controls: np.ndarray
) -> np.ndarray:
    """The DP policy run forward from x0, re-minimizing at the exact state: (layer, 2)."""
    h = cfg.bellman_T / cfg.bellman_layers
    a, b = controls[:, 0], controls[:, 1]
    x, out = x0, []
    for l in range(cfg.bellman_layers):
        nxt = x + h * np.tanh(a * x + b)
        k = int(
            np.argmin(cfg.bellman_regularizer * (a**2 + b**2) + np.interp(nxt, states, V[l + 1]))
        )
        out.append(controls[k])
        x = float(nxt[k])
    return np.asarray(out)


def _scalar_net(cfg: Config, ensemble: int | None, seed: int, scale: float = 1.0) -> ResNet:
    return ResNet(1, 1, cfg.bellman_layers, T=cfg.bellman_T, lift="identity", readout=None,
                  init="uniform", scale=scale, seed=seed, ensemble=ensemble, dtype=D)  # fmt: skip


def _objective(net: Network, X: torch.Tensor, y: torch.Tensor, lam: float) -> np.ndarray:
    return costates(net, X, y, regularizer=lam).loss.detach().numpy()


def _dynamic_programming(cfg: Config) -> dict[str, np.ndarray]:
    S, R = len(cfg.starts), cfg.restarts
    h = cfg.bellman_T / cfg.bellman_layers
    reach = max(abs(s) for s in cfg.starts) + cfg.bellman_T + 0.5
    states = np.linspace(-reach, reach, cfg.state_grid)
    controls = control_grid(cfg.control_box, cfg.control_grid)
    lam = cfg.bellman_regularizer
    V, _ = bellman_values(cfg.target, lam, h, cfg.bellman_layers, states, controls)
    v0 = np.interp(np.asarray(cfg.starts), states, V[0])
    # the DP policy plugged into the network
    policy_net = _scalar_net(cfg, S, cfg.seed)
    with torch.no_grad():
        for s, x0 in enumerate(cfg.starts):
            u = _policy_run(x0, cfg, V, states, controls)
            for l in range(cfg.bellman_layers):
                w, bias = policy_net.field.layer_parameters(l)
                w[s] = float(u[l, 0])
                bias[s] = float(u[l, 1])
    X = torch.tensor(cfg.starts, dtype=D).reshape(S, 1, 1)
    Y = torch.full((S, 1, 1), cfg.target, dtype=D)
    policy_cost = _objective(policy_net, X, Y, lam)
    # gradient descent: every start × restart one member
    XE, YE = X.repeat_interleave(R, 0), Y.repeat_interleave(R, 0)
    gd = _scalar_net(cfg, S * R, cfg.seed + 1)
    fit(gd, XE, YE, optimizer="adam", lr=0.05, steps=cfg.bellman_steps, regularizer=lam,
        loss="mse")  # fmt: skip
    gd_cost = _objective(gd, XE, YE, lam).reshape(S, R)
    emsa_cost = np.full(S, np.nan)  # E-MSA trains single networks: every other start
    for s in range(0, S, 2):
        single = _scalar_net(cfg, None, cfg.seed + 1 + s * R)  # = restart 0 of start s
        msa(single, X[s], Y[s], method="emsa", rho=cfg.rho, steps=cfg.bellman_emsa_steps,
            regularizer=lam, loss="mse")  # fmt: skip
        emsa_cost[s] = _objective(single, X[s], Y[s], lam)[0]
    return {
        "state": states,
        "value": V,
        "value_at_start": v0,
        "policy_cost": policy_cost,
        "gd_cost": gd_cost,
        "emsa_cost": emsa_cost,
    }


def run(cfg: Config, progress: Progress | None = None) -> xr.Dataset:
    count = ProgressCounter(progress, 2)
    X, y = rings(cfg.samples, seed=cfg.seed + 11, dtype=D)
    a = _horizons(cfg, X, y)
    count("maximum condition and uniqueness")
    d = _dynamic_programming(cfg)
    count("dynamic programming")
    return xr.Dataset(
        {
            "hamiltonian_gap": (("step", "horizon", "init"), a["gap"]),
            "residual": (("step", "horizon", "init"), a["residual"]),
            "emsa_gap": (("emsa_horizon", "iteration"), a["emsa_gap"]),
            "theta_spread": (("horizon",), a["theta_spread"]),
            "objective": (("horizon", "init"), a["objective"]),
            "value": (("layer", "x"), d["value"]),
            "value_at_start": (("start",), d["value_at_start"]),
            "policy_cost": (("start",), d["policy_cost"]),
            "gd_cost": (("start", "restart"), d["gd_cost"]),
            "emsa_cost": (("start",), d["emsa_cost"]),
        },
        coords={
            "step": a["step"],
            "horizon": list(cfg.horizons),
            "init": np.arange(cfg.inits),
            "emsa_horizon": [cfg.horizons[0], cfg.horizons[-1]],
            "iteration": np.arange(cfg.emsa_steps + 1),
            "layer": np.arange(cfg.bellman_layers + 1),
            "x": d["state"],
            "start": list(cfg.starts),
            "restart": np.arange(cfg.restarts),
        },
        attrs={
            "target": cfg.target,
            "regularizer": cfg.regularizer,
            "bellman_regularizer": cfg.bellman_regularizer,
            "control_box": cfg.control_box,
            "state_step": float(d["state"][1] - d["state"][0]),
            "control_step": 2 * cfg.control_box / (cfg.control_grid - 1),
        },
    )


_FLOOR = 1e-16


def figure(ds: xr.Dataset) -> Figure:
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.6))
    ax = axes[0, 0]
    T = ds["horizon"].values
    colors = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(T)))
    step = ds["step"].values + 1
    for t, c in zip(T, colors):
        g = ds["hamiltonian_gap"].sel(horizon=t).median("init").values
        r = ds["residual"].sel(horizon=t).median("init").values
        ax.loglog(step, np.maximum(g, _FLOOR), "o-", color=c, label=f"T = {t:g}: gap")
        ax.loglog(step, np.maximum(r, _FLOOR), ":", color=c, lw=1)
    for t in ds["emsa_horizon"].values:
        it = ds["iteration"].values + 1
        g = ds["emsa_gap"].sel(emsa_horizon=t).values
        ax.loglog(it, np.maximum(g, _FLOOR), "x--", color="tab:red", ms=6,
                  label=f"E-MSA, T = {t:g} (x: iteration)")  # fmt: skip
    ax.set_xlabel("Adam step + 1 (solid: gap, dotted: PMP residual ‖∂H/∂θ‖)")
    ax.set_ylabel("max_l [max_θ H_l(θ) − H_l(θ_l)]")
    ax.set_title("(a) Thm 9.1.1: does θ_l maximize the sample-mean H_l?", fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    ax = axes[0, 1]
    final_gap = ds["hamiltonian_gap"].isel(step=-1).median("init").values
    ax.loglog(T, np.maximum(ds["theta_spread"].values, _FLOOR), "o-",
              label="spread of trained θ over initializations")  # fmt: skip
    ax.loglog(T, np.maximum(final_gap, _FLOOR), "s--", label="Hamiltonian gap, trained (a)")
    ax.set_xticks(T, [f"{t:g}" for t in T])
    ax.minorticks_off()
    ax.set_xlabel("horizon T (steps h = T/L)")
    ax.set_title(f"(c) Thm 9.1.3: {ds.sizes['init']} initializations per T, same data, "
                 f"λ = {ds.attrs['regularizer']:g}", fontsize=10)  # fmt: skip
    ax.legend(fontsize=8)
    ax = axes[1, 0]
    x = ds["x"].values
    colors = plt.get_cmap("plasma")(np.linspace(0, 0.85, ds.sizes["layer"]))
    for l, c in zip(ds["layer"].values, colors):
        ax.plot(x, ds["value"].sel(layer=l), color=c, label=f"V_{l}")
    ax.set_ylim(0, float(ds["value"].isel(layer=0).max()) * 1.2 + 0.1)
    ax.set_xlabel("state x")
    ax.set_ylabel("value V_l(x)")
    ax.set_title(f"(d) Thm 9.2.1: the Bellman recursion, target y = {ds.attrs['target']:g}",
                 fontsize=10)  # fmt: skip
    ax.legend(fontsize=8, ncol=2)
    ax = axes[1, 1]
    s = ds["start"].values
    inside = (x >= min(s) - 0.5) & (x <= max(s) + 0.5)
    ax.plot(x[inside], ds["value"].isel(layer=0).values[inside], "k-", lw=1,
            label="V_0 (dynamic programming)")  # fmt: skip
    for k in range(ds.sizes["restart"]):
        ax.plot(s, ds["gd_cost"].values[:, k], "o", mfc="none", color="tab:blue",
                label="Adam, random restarts" if k == 0 else None)  # fmt: skip
    ax.plot(s, ds["emsa_cost"], "x", color="tab:red", ms=8, label="E-MSA")
    ax.plot(s, ds["policy_cost"], "+", color="k", ms=12, label="DP policy run in the network")
    ax.set_xlabel("start x₀")
    ax.set_ylabel("cost J reached")
    ax.set_title("(d) the global minimum V_0(x₀) against the methods", fontsize=10)
    ax.legend(fontsize=8)
    for a in axes.flat:
        a.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    return fig


def numbers(ds: xr.Dataset) -> dict[str, float]:
    T = ds["horizon"].values
    gap = ds["hamiltonian_gap"].isel(step=-1).median("init").values
    res = ds["residual"].isel(step=-1).median("init").values
    spread = ds["theta_spread"].values
    v0 = ds["value_at_start"].values
    best = np.fmin(ds["gd_cost"].min("restart").values, ds["emsa_cost"].values)
    unique = [t for t, v in zip(T, spread) if v < 1e-4]
    return {
        "hamiltonian_gap_trained_smallest_T": float(gap[0]),
        "hamiltonian_gap_trained_largest_T": float(gap[-1]),
        "pmp_residual_trained_smallest_T": float(res[0]),
        "pmp_residual_trained_largest_T": float(res[-1]),
        "emsa_gap_smallest_T": float(ds["emsa_gap"].values[0, -1]),
        "emsa_gap_largest_T": float(ds["emsa_gap"].values[-1, -1]),
        "theta_spread_smallest_T": float(spread[0]),
        "theta_spread_largest_T": float(spread[-1]),
        "largest_T_with_unique_theta": float(max(unique, default=0.0)),
        "bellman_value_mean": float(v0.mean()),
        "best_method_minus_bellman_max": float(np.max(best - v0)),
        "best_method_minus_bellman_min": float(np.min(best - v0)),
        "dp_policy_minus_bellman_max_abs": float(np.max(np.abs(ds["policy_cost"].values - v0))),
        "adam_restarts_above_bellman_by_0.01": float(
            (ds["gd_cost"].values > v0[:, None] + 1e-2).mean()
        ),
    }


EXPERIMENT = register(
    Experiment(
        id="control-mean-field",
        title="Chapter 9 measured: maximum condition, small-time uniqueness, dynamic programming",
        reference="§9.1 Thm 9.1.1, §9.1.2 Thm 9.1.3, §9.2 Thm 9.2.1",
        caption=(
            "(a) Thm 9.1.1: the largest gap, over the layers, between max_θ H_l(θ) and H_l(θ_l) "
            "(states and costates held fixed; found by L-BFGS ascent) for tanh ResNets (width 3, "
            "4 layers) on 200 rings points with λ = 1e-3, trained by Adam and by E-MSA; dots "
            "are seeds. It falls by orders of magnitude as training converges: trained θ_l are "
            "local maximizers of the sample-mean Hamiltonian (a local ascent cannot certify a "
            "global maximum). (c) Thm 9.1.3: trained from 5 random initializations per "
            "horizon T, with λ = 1e-2; for small T all reach the same θ (spread ≈ 0), for large "
            "T they do not. (d) Thm 9.2.1 for one input (a Dirac law): the Bellman recursion on "
            "a state grid over a box of controls (a, b) for x_{l+1} = x + h tanh(ax + b), cost "
            "(x_L − 1)² + 0.05 Σ(a² + b²); right, V_0(x₀) against the costs Adam (random "
            "restarts) and E-MSA reach, and the DP policy run in the network. The mean-field "
            "HJB on the space of measures is not gridded (no grid of a law fits in seconds)."
        ),
        config=Config,
        run=run,
        figure=figure,
        numbers=numbers,
        dims=("horizon", "init", "emsa_horizon", "start", "restart"),
        quick={
            "samples": 60,
            "horizons": (0.25, 4.0),
            "inits": 2,
            "steps": 80,
            "emsa_steps": 1,
            "ascent_steps": 8,
            "starts": (-0.5, 0.5),
            "state_grid": 151,
            "control_grid": 17,
            "restarts": 2,
            "bellman_steps": 100,
            "bellman_emsa_steps": 2,
        },
    )
)

register_claims(
    EXPERIMENT.id,
    [
        Claim(
            "Thm 9.1.1: at an optimal θ every θ_l maximizes the sample-mean Hamiltonian",
            "the gap max_θ H_l − H_l(θ_l) (L-BFGS ascent, states and costates fixed) at Adam-"
            "trained nets: ≈ 0 at the smallest horizon, not at the largest",
            "corrected",
            ("hamiltonian_gap_trained_smallest_T", "hamiltonian_gap_trained_largest_T"),
            lambda n: (
                n["hamiltonian_gap_trained_smallest_T"]
                < 1e-3
                < n["hamiltonian_gap_trained_largest_T"]
            ),
        ),
        Claim(
            "Thm 9.1.3: for small T (H strongly concave in θ) the PMP solution is unique",
            "relative spread of trained θ over random initializations, smallest and largest T",
            "confirmed",
            ("theta_spread_smallest_T", "theta_spread_largest_T", "largest_T_with_unique_theta"),
            lambda n: n["theta_spread_smallest_T"] < 0.3 * n["theta_spread_largest_T"],
        ),
        Claim(
            "Thm 9.2.1: the value function of the Bellman/HJB recursion gives the optimal "
            "controls (checked for a single input, where it is the classical recursion)",
            "V_0(x₀) on a grid against the best cost of Adam and E-MSA, and the DP policy run in "
            "the network",
            "confirmed",
            (
                "best_method_minus_bellman_min",
                "best_method_minus_bellman_max",
                "dp_policy_minus_bellman_max_abs",
            ),
            lambda n: (
                abs(n["best_method_minus_bellman_min"]) < 0.03
                and n["dp_policy_minus_bellman_max_abs"] < 5e-3
            ),
        ),
    ],
)
