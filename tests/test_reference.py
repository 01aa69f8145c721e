"""Outputs recorded before the Core v2 refactor (tests/reference/) are reproduced to 1e-12."""

import numpy as np
import pytest

from reference import make_reference as ref

STORED = np.load(ref.HERE / "reference_outputs.npz")
CASES = ref.cases()


@pytest.mark.parametrize("name", sorted(CASES))
def test_outputs_match_the_recorded_reference(name):
    arrays = ref.compute(name, CASES[name], ref.inputs())
    recorded = {k for k in STORED.files if k.startswith(name + "/")}
    assert set(arrays) == recorded
    for key, value in arrays.items():
        np.testing.assert_allclose(value, STORED[key], rtol=1e-12, atol=1e-12, err_msg=key)
