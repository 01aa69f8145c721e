"""Born-dead networks: Monte Carlo against the closed form 1 − ∏(1 − 2^{−N_l})
(docs/thesis-notes.md §2), the domain-wide probability under it, RAI below He, and Thm 8.1.3
(training gives a constant)."""

import numpy as np
import pytest
import scipy.stats
import torch

import deepdyn
from deepdyn.analysis import (
    born_dead_bound,
    born_dead_probability,
    dead_on_domain_exact,
    draw_layers,
    first_dead_layer,
    wilson_interval,
)


def test_closed_form_values():
    assert born_dead_bound([1]) == 0.5
    assert born_dead_bound([2, 2]) == 1 - (3 / 4) ** 2
    assert abs(born_dead_bound([4] * 50) - (1 - (15 / 16) ** 50)) < 1e-15


def test_wilson_interval_matches_scipy():
    for hits, n in ((0, 50), (7, 50), (480, 1000), (1000, 1000)):
        lo, hi = wilson_interval(hits, n, level=0.99)
        ref = scipy.stats.binomtest(hits, n).proportion_ci(confidence_level=0.99, method="wilson")
        assert abs(lo - ref.low) < 1e-12 and abs(hi - ref.high) < 1e-12


@pytest.mark.parametrize(
    ("init", "scale"), [("uniform", 0.1), ("uniform", 1.0), ("uniform", 10.0), ("he", 1.0)]
)
def test_pointwise_probability_is_the_closed_form_for_any_gamma(init, scale):
    for width in (2, 3, 4):
        r = born_dead_probability(
            [width] * 8, init=init, scale=scale, trials=4000, points=0, level=0.999, seed=width
        )
        inside = (r.point_ci[:, 0] <= r.bound) & (r.bound <= r.point_ci[:, 1])
        assert inside.all(), (width, r.point, r.bound)


def test_domain_probability_stays_below_the_bound():
    for init in ("uniform", "he"):
        r = born_dead_probability([3] * 10, init=init, trials=3000, points=65, level=0.999)
        assert (r.domain_ci[:, 0] <= r.bound).all()
        assert (r.domain <= r.point).all()
        assert r.domain[-1] < r.point[-1]  # strictly rarer on the whole interval


def test_rai_lowers_the_domain_probability():
    he = born_dead_probability([3] * 10, init="he", trials=4000, points=65, seed=1)
    rai = born_dead_probability([3] * 10, init="rai", trials=4000, points=65, seed=1)
    assert rai.domain_ci[-1, 1] < he.domain_ci[-1, 0]
    assert rai.point_ci[-1, 1] < he.point_ci[-1, 0]


def test_rai_rows_have_one_beta_entry():
    # with a tiny Gaussian part, each row of [W | b] shows its one Beta(2, 1) entry alone
    _, (W, b) = draw_layers(3, [50, 40], init="rai", scale=1e-9, trials=100, seed=0)
    V = torch.cat([W, b.unsqueeze(-1)], -1)  # (ensemble, unit, fan_in + 1)
    big = V.abs() > 1e-6
    assert (big.sum(-1) == 1).all()
    xi = V[big]
    assert (xi > 0).all() and (xi <= 1).all()
    assert abs(float(xi.mean()) - 2 / 3) < 0.02  # E ξ = 2/3 for Beta(2, 1)
    position = big.float().argmax(-1).double()  # uniform on 0 … 50: mean 25
    assert abs(float(position.mean()) - 25) < 1.0


def test_sampled_domain_check_agrees_with_the_exact_one():
    layers = draw_layers(1, [2] * 6, init="uniform", trials=200, seed=5)
    x = torch.linspace(-1, 1, 257, dtype=torch.float64)[:, None]
    sampled = first_dead_layer(layers, x).numpy()
    exact = np.array([dead_on_domain_exact(layers, (-1.0, 1.0), k) for k in range(200)])
    assert (exact >= sampled).all()  # dead on the domain ⇒ dead on the samples
    assert (exact == sampled).mean() > 0.97
    assert (sampled <= 6).sum() > 20  # the check is not vacuous


def test_born_dead_network_trains_to_the_best_constant():
    """Thesis Thm 8.1.3: a born-dead ReLU network can only become the best constant."""
    X, y = deepdyn.data.step(200, seed=0, dtype=torch.float64, grid=True)
    net = deepdyn.MLP(1, 2, 12, activation="relu", ensemble=64, seed=0, dtype=torch.float64)
    layers = [
        (s.weight.detach(), s.bias.detach()) for l in range(12) for s in net.field.sublayers(l)
    ]
    first = first_dead_layer(layers, X)
    k = int(torch.nonzero(first <= 12)[0])
    dead = net.member(k)
    deepdyn.fit(dead, X, y, optimizer="adam", lr=0.05, steps=400)
    with torch.no_grad():
        p = dead(X)[:, 0]
    assert float(p.max() - p.min()) < 1e-12  # constant on the data
    assert abs(float(p.mean()) - float(y.double().mean())) < 1e-3  # σ(c) = mean(y) minimizes BCE


def test_born_dead_errors_are_one_line():
    with pytest.raises(ValueError, match="trials must be ≥ 1, got 0"):
        born_dead_probability([2, 2], trials=0)
    with pytest.raises(ValueError, match='init "xavier" unknown: choose one of uniform, he, rai'):
        born_dead_probability([2, 2], init="xavier")
    with pytest.raises(ValueError, match=r"domain has shape \(2,\), expected \(\(x_lo"):
        born_dead_probability([2, 2], in_features=2, domain=(-1.0, 1.0))
    with pytest.raises(ValueError, match="x0 must be ≠ 0"):
        born_dead_probability([2, 2], x0=[0.0])
    with pytest.raises(ValueError, match="widths is empty"):
        draw_layers(1, [])
