"""Training by the maximum principle: MSA, extended MSA and the gradient form (thesis ch. 4).

Every iteration runs the forward pass (z_l), the backward pass (costates p_l, by the recursion
of :mod:`deepdyn.train.pmp._costates`), then updates each control θ_l from (z_l, p_{l+1}):

* ``msa``      basic MSA (eq. 4.10): θ_l ← argmax_θ H_l(z_l, p_{l+1}, θ), by an inner optimizer.
  It can stall or diverge (thesis notes §7): the maximizer of H_l ignores that moving θ_l moves
  the states the costates were computed on.
* ``emsa``     extended MSA (Li, Chen, Tai & E 2018, JMLR 18:165, Alg. 2): maximize instead the
  augmented Hamiltonian
  H̃_l(θ) = H_l(θ) − ρ/(2N) Σ_i ‖z_{l+1}^i − F_l(z_l^i; θ)‖² − ρN/2 Σ_i ‖p_l^i − ∇_z H_l^i(θ)‖²,
  (per-sample costates N p as in the paper), which penalizes leaving the forward and the
  backward equations of the current iterate; ρ = 0 is basic MSA.
* ``gradient`` the gradient form (eq. 4.11): θ_l ← θ_l + lr ∂H_l/∂θ_l, which by eq. 4.17 is
  the gradient-descent step θ_l − lr ∂J/∂θ_l.

The lift (when affine) is the control of a layer with costate p_0 and is treated the same way.
The readout (W, μ) is the terminal control: MSA and E-MSA minimize the terminal cost
(1/N) Σ loss(g(W z_L + μ), y) + R over it with z_L held (the exact maximization of its
Hamiltonian −Φ); the gradient form takes a gradient step.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch

from deepdyn import _checks
from deepdyn.dynamics import SCHEMES, Network
from deepdyn.train._problem import Problem, problem, regularization, running_cost, terminal_loss
from deepdyn.train.pmp._costates import backward, fixed_schemes, forward, hamiltonian
from deepdyn.train.pmp._result import member_norm
from deepdyn.trajectory import History

METHODS = ("emsa", "msa", "gradient")
INNER_OPTIMIZERS = ("lbfgs", "adam", "sgd")
ON_NONFINITE = ("raise", "stop")
Progress = Callable[[int, int, str], None]


PMPHistory = History
"""What :func:`msa` returns: a :class:`deepdyn.History` whose ``metrics`` also hold, per
iteration, ``hamiltonian`` (Σ_l H_l at θ before the update), ``residual`` (the PMP residual
max_l ‖Σ_samples ∂H_l/∂θ_l‖) and ``seconds`` (wall-clock from the start); ``stopped_at`` marks
the iteration whose loss was not finite (``on_nonfinite="stop"``). The name is kept for
existing code; it is the same class."""


def _hint(method: str, rho: float, lr: float) -> str:
    if method == "msa":
        return 'basic MSA can diverge (thesis notes §7): use method="emsa" with rho > 0'
    if method == "emsa":
        return f"raise rho (rho={rho:g})"
    return f"lower the learning rate (lr={lr!r})"


def msa(
    net: Network,
    X: Any,
    y: Any,
    *,
    method: str = "emsa",
    rho: float = 30.0,
    steps: int = 100,
    lr: float = 0.1,
    inner: str = "lbfgs",
    inner_steps: int = 10,
    inner_lr: float = 1.0,
    loss: str = "auto",
    regularizer: Any = None,
    X_test: Any = None,
    y_test: Any = None,
    on_nonfinite: str = "raise",
    progress: Progress | None = None,
) -> PMPHistory:
    """Train ``net`` in place by the method of successive approximations; return its history.

    Args:
        net, X, y, loss, regularizer, X_test, y_test, progress: as for :func:`deepdyn.fit`
            (the full batch every iteration).
        method: ``emsa`` (extended MSA, Li et al. 2018), ``msa`` (basic MSA, eq. 4.10) or
            ``gradient`` (eq. 4.11, equal to gradient descent with step ``lr``).
        rho: ρ ≥ 0 of the augmented Hamiltonian (``emsa``; ρ = 0 is basic MSA). The default
            30 never let the loss rise above its start in 10 iterations on Li et al.'s toy, the
            rings and the moons (ρ = 1 oscillates or diverges there; docs/optimal-control.md);
            a smaller ρ takes larger steps where it is stable (ρ = 5 reaches the toy's
            zero-init basin in 2 iterations).
        steps: outer iterations (forward pass, backward pass, update).
        lr: step of the gradient form.
        inner: the optimizer that maximizes each layer's (augmented) Hamiltonian: ``lbfgs``
            (``inner_steps`` iterations with a strong-Wolfe line search), ``adam`` or ``sgd``
            (``inner_steps`` steps of size ``inner_lr``).
        on_nonfinite: ``raise`` a ValueError when the loss becomes NaN or inf, or ``stop``
            there and return the history so far (``stopped_at`` marks the iteration).

    Schemes: map, euler, heun, leapfrog (``emsa``: map, euler, heun, whose step is one-layer).
    ``msa`` and ``emsa`` train single networks; ``gradient`` trains ensembles too.
    """
    _checks.choice("method", method, METHODS)
    one_step = [n for n in fixed_schemes() if SCHEMES[n].one_step]
    schemes = one_step if method == "emsa" else fixed_schemes()
    pb = problem(net, X, y, loss, regularizer, schemes=schemes)
    rho = _checks.positive("rho", rho, allow_zero=True)
    steps = _checks.integer("steps", steps)
    lr = _checks.positive("lr", lr)
    _checks.choice("inner optimizer", inner, INNER_OPTIMIZERS)
    inner_steps = _checks.integer("inner_steps", inner_steps)
    inner_lr = _checks.positive("inner_lr", inner_lr)
    _checks.choice("on_nonfinite", on_nonfinite, ON_NONFINITE)
    if method != "gradient" and net.ensemble is not None:
        raise ValueError(
            f'method "{method}" trains single networks: pass net.member(k) for each member, '
            'or use method="gradient"'
        )
    test = None
    if (X_test is None) != (y_test is None):
        raise ValueError("pass X_test and y_test together, or neither")
    if X_test is not None:
        test = problem(net, X_test, y_test, pb.loss, None, schemes=schemes)
    hint = _hint(method, rho, lr)
    rows: dict[str, list[torch.Tensor]] = {"loss": [], "H": [], "res": [], "test": []}
    seconds: list[float] = []
    stopped = None
    start = time.perf_counter()
    for k in range(steps):
        states = forward(net, pb.Xe)
        with torch.no_grad():
            J = terminal_loss(net, states[-1], pb)
            r = regularization(net, pb)
            if r is not None:
                J = J + r
        if not bool(torch.isfinite(J).all()):
            if on_nonfinite == "stop":
                stopped = k
                break
            word = "nan" if math.isnan(float(J.sum())) else "inf"
            raise ValueError(f"loss became {word} at iteration {k}: {hint}")
        p = backward(net, states, pb)
        H, res, grads = _layer_gradients(net, states, p, pb)
        rows["loss"].append(J)
        rows["H"].append(H)
        rows["res"].append(res)
        if test is not None:
            with torch.no_grad():
                rows["test"].append(terminal_loss(net, forward(net, test.Xe)[-1], test))
        if method == "gradient":
            _gradient_step(net, states, p, pb, grads, lr)
        else:
            _msa_step(
                net, states, p, pb, rho if method == "emsa" else 0.0, inner, inner_steps, inner_lr
            )
        seconds.append(time.perf_counter() - start)
        if progress is not None:
            progress(k + 1, steps, f"iteration {k + 1}/{steps} loss {J.mean().item():.4g}")

    def curve(name: str) -> torch.Tensor | None:
        if not rows[name]:
            return None
        t = torch.stack(rows[name]).detach().cpu()  # (iteration, ensemble)
        return t if net.ensemble is not None else t[:, 0]

    loss_curve = curve("loss")
    metrics = {"hamiltonian": curve("H"), "residual": curve("res"),
               "seconds": torch.tensor(seconds, dtype=torch.float64)}  # fmt: skip
    return History(
        loss=loss_curve if loss_curve is not None else torch.zeros(0),
        test_loss=curve("test"),
        ensemble=net.ensemble,
        metrics={k: v for k, v in metrics.items() if v is not None},
        stopped_at=stopped,
    )


# --------------------------------------------------------------------------- the controls
def _controls(net: Network) -> list[list[torch.nn.Parameter]]:
    return [net.field.layer_parameters(l) for l in range(net.depth)]


def _lift_params(net: Network) -> list[torch.nn.Parameter]:
    return list(net.lift.parameters())


def _readout_params(net: Network) -> list[torch.nn.Parameter]:
    return [] if net.readout is None else list(net.readout.parameters())


def _layer_gradients(
    net: Network, states: list[torch.Tensor], p: list[torch.Tensor], pb: Problem
) -> tuple[torch.Tensor, torch.Tensor, list[tuple[torch.Tensor, ...]]]:
    """(Σ_l H_l per member, PMP residual per member, ∂H_l/∂θ_l for every layer)."""
    Hsum = states[0].new_zeros(net.members)
    norms, grads = [], []
    with torch.enable_grad():
        for l, params in enumerate(_controls(net)):
            H = hamiltonian(net, l, states, p, pb)
            g = torch.autograd.grad(H.sum(), params)
            Hsum = Hsum + H.detach()
            norms.append(member_norm(g, net.members))
            grads.append(g)
    return Hsum, torch.stack(norms).max(dim=0).values, grads


def _lift_hamiltonian(net: Network, p0: torch.Tensor, pb: Problem) -> torch.Tensor:
    """H of the lift: Σ_samples p_0 · lift(x; θ) − R(θ), per member."""
    return (p0 * net.lift(pb.Xe)).sum(dim=(1, 2)) - running_cost(net, _lift_params(net), pb)


def _readout_cost(net: Network, zL: torch.Tensor, pb: Problem) -> torch.Tensor:
    """The terminal cost in the readout's θ: data loss from z_L plus R, per member."""
    return terminal_loss(net, zL, pb) + running_cost(net, _readout_params(net), pb)


def _gradient_step(
    net: Network,
    states: list[torch.Tensor],
    p: list[torch.Tensor],
    pb: Problem,
    grads: Sequence[tuple[torch.Tensor, ...]],
    lr: float,
) -> None:
    """Eq. 4.11: θ_l ← θ_l + lr ∂H_l/∂θ_l; readout θ ← θ − lr ∂Φ/∂θ."""
    with torch.enable_grad():
        extra: list[tuple[list[torch.nn.Parameter], tuple[torch.Tensor, ...]]] = []
        if _lift_params(net):
            g = torch.autograd.grad(_lift_hamiltonian(net, p[0], pb).sum(), _lift_params(net))
            extra.append((_lift_params(net), g))
        if _readout_params(net):
            cost = _readout_cost(net, states[-1], pb).sum()
            g = torch.autograd.grad(cost, _readout_params(net))
            extra.append((_readout_params(net), tuple(-t for t in g)))
    with torch.no_grad():
        for params, g in [*zip(_controls(net), grads), *extra]:
            for q, d in zip(params, g):
                q.add_(d, alpha=lr)


def _maximize(
    params: list[torch.nn.Parameter],
    objective: Callable[[], torch.Tensor],
    inner: str,
    inner_steps: int,
    inner_lr: float,
) -> None:
    """θ ← argmax objective(θ) approximately, by ``inner`` from the current θ."""
    if not params:
        return
    with torch.enable_grad():
        if inner == "lbfgs":
            opt: torch.optim.Optimizer = torch.optim.LBFGS(
                params, lr=inner_lr, max_iter=inner_steps, line_search_fn="strong_wolfe"
            )

            def closure() -> torch.Tensor:
                opt.zero_grad()
                value = -objective()
                value.backward()
                return value

            opt.step(closure)  # type: ignore[arg-type]
            return
        opt = (torch.optim.Adam if inner == "adam" else torch.optim.SGD)(params, lr=inner_lr)
        for _ in range(inner_steps):
            opt.zero_grad()
            (-objective()).backward()
            opt.step()


def _msa_step(
    net: Network,
    states: list[torch.Tensor],
    p: list[torch.Tensor],
    pb: Problem,
    rho: float,
    inner: str,
    inner_steps: int,
    inner_lr: float,
) -> None:
    """Eq. 4.10 (ρ = 0) or Li et al.'s E-MSA step (ρ > 0), layer by layer, from the states
    and costates of the current iterate."""
    N = pb.Xe.shape[1]
    for l, params in enumerate(_controls(net)):

        def objective(l: int = l) -> torch.Tensor:
            H = hamiltonian(net, l, states, p, pb)
            if rho == 0.0:
                return H.sum()
            z = states[l].detach().requires_grad_(True)
            F = net.layer_step(l, z)  # (ensemble, sample, C_{l+1})
            (gz,) = torch.autograd.grad((p[l + 1] * F).sum(), z, create_graph=True)
            feasible = ((states[l + 1] - F) ** 2).sum()
            adjoint = ((p[l] - gz) ** 2).sum()
            return H.sum() - rho / (2 * N) * feasible - rho * N / 2 * adjoint

        _maximize(params, objective, inner, inner_steps, inner_lr)
    lift = _lift_params(net)
    if lift:

        def lift_objective() -> torch.Tensor:
            H = _lift_hamiltonian(net, p[0], pb).sum()
            return H - rho / (2 * N) * ((states[0] - net.lift(pb.Xe)) ** 2).sum()

        _maximize(lift, lift_objective, inner, inner_steps, inner_lr)
    readout = _readout_params(net)
    if readout:
        _maximize(
            readout,
            lambda: -_readout_cost(net, states[-1], pb).sum(),
            inner,
            inner_steps,
            inner_lr,
        )
