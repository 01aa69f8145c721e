"""Gradient training: batch, mini-batch and on-line learning (thesis App. A.2, B.1), recording
Φ̃(x, l, τ) of a probe set along the way (thesis eq. 3.9)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any

import torch

from deepdyn import _checks
from deepdyn.dynamics import Network
from deepdyn.train import _losses
from deepdyn.train._divergence import DivergenceWatch
from deepdyn.train._newton import NewtonStepper
from deepdyn.train._problem import check_inputs, problem
from deepdyn.trajectory import History


def _foreach(cls: Callable[..., torch.optim.Optimizer]) -> Callable[..., torch.optim.Optimizer]:
    """``cls`` with its multi-tensor (foreach) update, which torch uses by default on GPUs
    only: on CPU it is one kernel per operation for all tensors instead of one per tensor — the
    update of a deep narrow network's many small tensors costs ~3× less (same arithmetic)."""

    def make(params: Any, lr: float, **kwargs: Any) -> torch.optim.Optimizer:
        return cls(params, lr=lr, foreach=True, **kwargs)

    make.__name__ = make.__qualname__ = getattr(cls, "__name__", "optimizer")
    return make


OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer] | None] = {
    "sgd": _foreach(torch.optim.SGD),
    "adam": _foreach(torch.optim.Adam),
    "adagrad": _foreach(torch.optim.Adagrad),
    "rmsprop": _foreach(torch.optim.RMSprop),
    # one L-BFGS iteration per step; its strong-Wolfe line search gets up to 25 evaluations
    # (torch's default max_eval = 5/4 max_iter would leave it none)
    "lbfgs": lambda params, lr: torch.optim.LBFGS(
        params, lr=lr, max_iter=1, max_eval=26, line_search_fn="strong_wolfe"
    ),
    "newton": None,  # the damped Newton method with the exact Hessian (NewtonStepper), per member
}
"""The optimizers by name: ``factory(params, lr=…)`` of a torch optimizer (None: ``newton``)."""
OPTIMIZER_NAMES = tuple(OPTIMIZERS)
ELEMENTWISE = ("sgd", "adam", "adagrad", "rmsprop")
"""Optimizers whose update is element-wise: ensemble members train as they would alone."""

OptimizerSpec = str | torch.optim.Optimizer | Callable[[list[torch.nn.Parameter]], Any]
Progress = Callable[[int, int, str], None]
Callback = Callable[[int, torch.Tensor], None]
Check = Callable[[torch.Tensor], None]
StepFn = Callable[[torch.Tensor, torch.Tensor, Check, list[torch.Tensor]], torch.Tensor]


def fit(
    net: Network,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    loss: str = "auto",
    optimizer: OptimizerSpec = "adam",
    lr: float = 1e-2,
    steps: int = 1000,
    batch_size: int | None = None,
    regularizer: _losses.Regularizer = None,
    probe: torch.Tensor | None = None,
    snapshots: int | Sequence[int] | None = None,
    X_test: torch.Tensor | None = None,
    y_test: torch.Tensor | None = None,
    seed: int = 0,
    newton_damping: float = 1e-3,
    progress: Progress | None = None,
    callback: Callback | None = None,
    diverge_factor: float | None = 1e3,
    parameter_bound: float | None = 1e6,
) -> History:
    """Train ``net`` in place by gradient descent on (X, y); return its :class:`History`.

    Each member's loss is a mean over samples; the objective is their sum, so every member of
    an ensemble gets the gradient it would get alone, and with ``sgd``, ``adam``, ``adagrad``
    or ``rmsprop`` (element-wise updates) member k of ``ensemble=E, seed=s`` trains exactly as
    the network built alone with ``seed=s + k``.

    Args:
        net: the network (or ensemble) to train; its parameters change in place.
        X: (sample, input), shared by all members, or (ensemble, sample, input). Cast to the
            network's dtype and device.
        y: targets. ``bce``: (sample,) or (sample, output) in {0, 1}; ``cross_entropy``:
            (sample,) class labels 0 … k−1; ``mse``: (sample, output), or (sample,) for one
            output. With a 3-D X, y carries the same leading ensemble axis.
        loss: ``bce``, ``cross_entropy``, ``mse`` or ``auto`` (bce for a sigmoid readout,
            cross_entropy for softmax, mse otherwise); see :mod:`deepdyn.train._losses`.
        optimizer: ``sgd``, ``adam``, ``adagrad``, ``rmsprop``, ``lbfgs``, ``newton``, a
            ``torch.optim.Optimizer`` built on ``net.parameters()``, or a callable
            ``params -> Optimizer``. ``lbfgs`` takes one L-BFGS iteration per step with a
            strong-Wolfe line search; on an ensemble its line search and curvature history span
            all members, so the members are *coupled* (use adam for independent members).
            ``newton`` is the damped Newton method (thesis App. A.1.2.2) with the exact Hessian,
            per member; at most 5000 parameters per member.
        lr: learning rate of a named optimizer (unused by newton).
        steps: number of optimizer steps (iterations).
        batch_size: None for batch learning; m for mini-batches of m samples drawn epoch after
            epoch from a permutation seeded by ``seed`` (the last batch of an epoch may be
            smaller); 1 for on-line learning (thesis App. B.1). The batches are shared by all
            members.
        regularizer: None; a float λ, adding λ Σ‖θ‖² over all parameters of each member; or a
            callable ``net -> tensor`` of shape (ensemble,) (one term per member) or () (one
            term, added to the objective once and shared equally in the recorded per-member
            losses). With newton a callable is evaluated on each member as a network alone.
        probe: (sample, input) inputs whose trajectories are recorded at the ``snapshots``.
        snapshots: training steps τ in 0 … steps at which to record ``net.trajectory(probe)``
            (τ = 0 is the initialization, τ the state after τ steps), or an int k for every k
            steps (0 and ``steps`` always included). Default with a probe: [0, steps].
        X_test, y_test: a held-out set whose loss is recorded at every step (no gradients).
        seed: seed of the mini-batch permutations (a local ``torch.Generator``).
        newton_damping: initial damping λ of the Newton step (H + λI) Δ = g.
        progress: called as ``progress(done, total, message)`` after each step.
        callback: called as ``callback(step, loss)`` after each step with the per-member losses.
        diverge_factor: stop with :class:`~deepdyn.train._divergence.Diverged` when a member's
            loss exceeds this factor × max(its initial loss, 1); None switches it off.
        parameter_bound: stop likewise when a parameter's magnitude exceeds it; None: off.

    Returns:
        History with ``loss`` (iteration, [ensemble]) — the objective of each member at
        θ_τ, before step τ, on that step's batch, regularizer included — ``test_loss``
        likewise without the regularizer, and ``states`` (step, layer, [ensemble,] sample,
        component) at ``snapshot_steps``.

    Raises:
        ValueError: for invalid arguments or data, and when the loss becomes NaN or inf;
            ``Diverged`` (a ValueError) when training diverges (see ``diverge_factor``).
    """
    pb = problem(net, X, y, loss, regularizer)
    X, target, loss_name, regularizer = pb.X, pb.target, pb.loss, pb.regularizer
    n = X.shape[-2]
    steps = _checks.integer("steps", steps)
    if batch_size is not None:
        batch_size = _checks.integer("batch_size", batch_size)
        if batch_size > n:
            raise ValueError(f"batch_size must be between 1 and n ({n}), got {batch_size}")
    schedule = _snapshot_steps(snapshots, steps, probe)
    if probe is not None:
        probe = check_inputs(net, probe, "probe")
    test = None
    if (X_test is None) != (y_test is None):
        raise ValueError("pass X_test and y_test together, or neither")
    if X_test is not None:
        tp = problem(net, X_test, y_test, loss_name, names=("X_test", "y_test"))
        test = (tp.X, tp.target)
    seed = _checks.integer("seed", seed, minimum=0)
    hint, step_fn = _stepper(net, optimizer, lr, newton_damping, loss_name, regularizer)
    watch = DivergenceWatch(net, hint, factor=diverge_factor, parameter_bound=parameter_bound)

    losses: list[torch.Tensor] = []
    test_losses: list[torch.Tensor] = []
    accuracy: list[torch.Tensor] = []
    test_accuracy: list[torch.Tensor] = []
    classifier = loss_name != "mse"
    states: list[torch.Tensor] = []
    times: torch.Tensor | None = None
    batch_iter = batches(n, batch_size, seed)
    solver = net.solver_totals if net.scheme == "ode" else None  # per-step NFE and steps
    solver_rows: list[dict[str, int]] = []

    def snapshot() -> torch.Tensor:
        assert probe is not None
        with torch.no_grad():
            tr = net.trajectory(probe)
        states.append(tr.states.detach().cpu())
        return tr.times.detach().cpu()

    for step in range(steps):
        if step in schedule:
            times = snapshot()
        if test is not None:
            with torch.no_grad():
                outs: list[torch.Tensor] = []
                test_losses.append(_losses.per_member(net, test[0], test[1], loss_name, outs))
                if classifier:
                    test_accuracy.append(_accuracy(outs[0], test[1], loss_name, X.dim()))
        idx = next(batch_iter)
        if idx is None:
            Xb, tb = X, target
        else:
            idx = idx.to(X.device)
            Xb = X.index_select(X.dim() - 2, idx)
            tb = target.index_select(1 if X.dim() == 3 else 0, idx)
        outputs: list[torch.Tensor] = []
        check = partial(_check_loss, step=step, net=net, hint=hint)
        before = solver.snapshot() if solver is not None else None
        per = step_fn(Xb, tb, check, outputs).detach()
        if solver is not None and before is not None:
            after = solver.snapshot()
            solver_rows.append({k: after[k] - before[k] for k in after})
        losses.append(per)
        watch.loss(step, per)
        watch.parameters(step)
        if classifier:
            if not outputs:  # newton: the loss was not computed from the batch outputs
                with torch.no_grad():
                    _losses.per_member(net, Xb, tb, loss_name, outputs)
            accuracy.append(_accuracy(outputs[0], tb, loss_name, X.dim()))
        if callback is not None:
            callback(step, per if net.ensemble is not None else per[0])
        if progress is not None:
            progress(step + 1, steps, f"step {step + 1}/{steps} loss {per.mean().item():.4g}")
    _check_parameters(net, steps, hint)
    if steps in schedule:
        times = snapshot()

    def curve(rows: list[torch.Tensor]) -> torch.Tensor:
        t = torch.stack(rows).cpu()  # (iteration, ensemble)
        return t if net.ensemble is not None else t[:, 0]

    metrics = {}
    if accuracy:
        metrics["accuracy"] = curve(accuracy)
    if test_accuracy:
        metrics["test_accuracy"] = curve(test_accuracy)
    for key in ("nfe_forward", "nfe_backward", "accepted_forward", "rejected_forward"):
        if solver_rows:  # (iteration,): one solve serves every member of an ensemble
            metrics[key] = torch.tensor([r[key] for r in solver_rows], dtype=torch.float64)
    return History(
        loss=curve(losses),
        snapshot_steps=sorted(schedule),
        states=torch.stack(states) if states else None,  # (step, layer, [ensemble,] sample, C)
        times=times,
        test_loss=curve(test_losses) if test_losses else None,
        ensemble=net.ensemble,
        metrics=metrics,
    )


def _accuracy(out: torch.Tensor, target: torch.Tensor, loss: str, x_dims: int) -> torch.Tensor:
    """(members,) accuracy of logits ``out`` (ensemble, sample, output); targets with an
    ensemble axis when X had one."""
    t = target if x_dims == 3 else target.unsqueeze(0)
    acc = _losses.logit_accuracy(out, t, loss)
    assert acc is not None
    return acc


# --------------------------------------------------------------------------- validation
def _snapshot_steps(
    snapshots: int | Sequence[int] | None, steps: int, probe: torch.Tensor | None
) -> set[int]:
    if snapshots is None:
        return set() if probe is None else {0, steps}
    if probe is None:
        raise ValueError("snapshots need a probe: pass probe=<(sample, input) tensor>")
    if isinstance(snapshots, bool):
        raise ValueError(f"snapshots must be an int or a list of steps, got {snapshots!r}")
    if isinstance(snapshots, int):
        every = _checks.integer("snapshots", snapshots)
        return set(range(0, steps + 1, every)) | {steps}
    out = set()
    for s in snapshots:
        if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s <= steps:
            raise ValueError(f"snapshot step {s!r} out of range: choose integers in 0 … {steps}")
        out.add(int(s))
    return out


def _check_loss(per: torch.Tensor, step: int, net: Network, hint: str) -> None:
    finite = torch.isfinite(per)
    if bool(finite.all()):
        return
    k = int(torch.nonzero(~finite)[0, 0])
    value = per[k].item()
    member = f" (member {k})" if net.ensemble is not None else ""
    raise ValueError(f"loss became {_word(value)} at step {step}{member}: {hint}")


def _check_parameters(net: Network, steps: int, hint: str) -> None:
    for name, p in net.named_parameters():
        if not bool(torch.isfinite(p).all()):
            raise ValueError(f"parameter {name} became non-finite after step {steps - 1}: {hint}")


def _word(value: float) -> str:
    return "nan" if math.isnan(value) else "inf"


# --------------------------------------------------------------------------- steps
def batches(n: int, batch_size: int | None, seed: int) -> Iterator[torch.Tensor | None]:
    """Index batches of :func:`fit`, epoch after epoch: None (full batch) or (batch,) sample
    indices from permutations seeded by ``seed`` (a local generator). Front ends that train step
    by step (the playground) draw the same batches from it."""
    if batch_size is None or batch_size == n:
        while True:
            yield None
    gen = torch.Generator().manual_seed(seed)
    while True:
        perm = torch.randperm(n, generator=gen)
        yield from perm.split(batch_size)


def _stepper(
    net: Network,
    optimizer: OptimizerSpec,
    lr: float,
    damping: float,
    loss: str,
    regularizer: _losses.Regularizer,
) -> tuple[str, StepFn]:
    """(hint for a diverging loss, step function (X, target, check) -> (members,) losses
    before the step; ``check`` raises on a non-finite loss before any update)."""
    if isinstance(optimizer, str):
        _checks.choice("optimizer", optimizer, OPTIMIZER_NAMES)
        if optimizer == "newton":
            damping = _checks.positive("newton_damping", damping)
            hint = f"raise the damping (newton_damping={damping:g}) or use another optimizer"
            newton = NewtonStepper(net, loss, regularizer, damping)
            return hint, lambda Xb, tb, check, _outputs: newton(Xb, tb, check)
        lr = _checks.positive("lr", lr)
        factory = OPTIMIZERS[optimizer]
        assert factory is not None
        opt = factory(list(net.parameters()), lr=lr)
    elif isinstance(optimizer, torch.optim.Optimizer):
        opt = optimizer
    elif callable(optimizer):
        opt = optimizer(list(net.parameters()))
        if not isinstance(opt, torch.optim.Optimizer):
            raise ValueError(
                f"optimizer callable must return a torch.optim.Optimizer, got {type(opt).__name__}"
            )
    else:
        raise ValueError(
            f"optimizer {optimizer!r} unknown: choose one of {', '.join(OPTIMIZER_NAMES)}, "
            "a torch.optim.Optimizer or a callable params -> Optimizer"
        )
    own = {id(p) for p in net.parameters()}
    if any(id(p) not in own for g in opt.param_groups for p in g["params"]):
        raise ValueError("optimizer holds parameters that are not the network's: build it on "
                         "net.parameters()")  # fmt: skip
    hint = f"lower the learning rate (lr={opt.param_groups[0].get('lr', lr)!r})"

    def step_fn(
        Xb: torch.Tensor, tb: torch.Tensor, check: Check, outputs: list[torch.Tensor]
    ) -> torch.Tensor:
        first: list[torch.Tensor] = []

        def closure() -> torch.Tensor:
            opt.zero_grad()
            keep = outputs if not first else None
            obj, per = _losses.objective(net, Xb, tb, loss, regularizer, keep)
            if not first:
                check(per.detach())  # before the update: θ stays finite
                first.append(per.detach())
            obj.backward()
            return obj

        opt.step(closure)  # type: ignore[arg-type]  # torch's stub says float, tensors work
        return first[0]

    return hint, step_fn
