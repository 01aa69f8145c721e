"""Readable names and units of the key numbers, as the report shows them."""

from __future__ import annotations

import json
import re

import pytest

import deepdyn.experiments as ex
from deepdyn.experiments._names import readable, unit
from deepdyn.runs import make_config, run_experiment


@pytest.mark.parametrize(
    ("key", "words", "u"),
    [
        (
            "rings_E-MSA_rho5_seconds_per_iteration",
            "Rings, E-MSA, ρ = 5, seconds per iteration",
            "s",
        ),
        ("born_dead_share_mlp_C4", "Born dead share, MLP, C = 4", "fraction"),
        ("T1_noise0.1_gap_median_N400", "T = 1, noise 0.1, gap median, N = 400", ""),
        (
            "first_over_last_gradient_resnet_L100_trained",
            "First / last gradient, ResNet, L = 100, trained",
            "",
        ),
        (
            "minibatch_over_full_batch_epoch_seconds_M256",
            "Mini-batch / full batch epoch seconds, M = 256",
            "",
        ),
        ("memory_backprop_MiB_most_steps", "Memory backprop most steps", "MiB"),
        ("test_accuracy_ode2_min", "Test accuracy, ODE (2), min", "fraction"),
        ("theta_spread_largest_T", "θ spread largest T", ""),
        ("derivative_vs_differences_leaky_relu", "Derivative vs differences, leaky-relu", ""),
        ("mean", "Mean", ""),
    ],
)
def test_names_and_units(key, words, u):
    assert readable(key) == words
    assert unit(key) == u


def test_the_report_shows_every_key_number_with_its_name_and_unit(tmp_path):
    e = ex.get("thesis-figures")
    result = run_experiment(e, make_config(e, quick=True), tmp_path / "runs")
    page = ex.write_report([result], tmp_path / "report").read_text(encoding="utf-8")
    rows = dict(
        (k, (v, u, w))
        for k, v, u, w in re.findall(
            r'<tr><th>([^<]+)</th><td class="num">([^<]+)</td><td>([^<]*)</td>'
            r'<td class="name">([^<]+)</td></tr>',
            page,
        )
    )
    assert set(rows) == set(result.numbers)
    assert rows["rings_samples"] == ("200", "", "Rings, samples")
    stored = json.loads((tmp_path / "report" / "numbers.json").read_text())
    assert set(stored["thesis-figures"]) == set(result.numbers) | {"seconds"}
