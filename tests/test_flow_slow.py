"""The flow_* studies at their full configurations (slow: minutes on 2 cores)."""

import numpy as np
import pytest
import torch

import deepdyn.experiments.flow_increasing as inc
import deepdyn.experiments.flow_ring_dimension as ring


@pytest.mark.slow
def test_ring_dimension_full():
    torch.set_num_threads(1)
    ds = ring.run(ring.Config(), None)
    assert float(ds["fold_fraction"].sel(model="ode2").max()) == 0.0
    assert float(ds["enclosed"].sel(model="ode2").max()) == 0.0
    assert float(ds["accuracy"].sel(model="resnet3").min()) >= 0.99
    assert float(ds["enclosed"].sel(model="resnet3").min()) == 1.0


@pytest.mark.slow
def test_increasing_full():
    torch.set_num_threads(1)
    ds = inc.run(inc.Config(), None)
    assert float(ds["mse"].sel(model="flow1").min()) >= float(ds["isotonic_bound"]) - 1e-9
    assert float(ds["mse"].sel(model="augmented").max()) < 0.01
    assert np.all(ds["crossings"].sel(model="flow1").values == 0)
