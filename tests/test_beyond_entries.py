"""The beyond-the-thesis catalogue entries reproduce their published findings (quick configs)."""

import numpy as np

from deepdyn import experiments


def test_ftle_ridges_fade_with_width():
    """Storm et al. (2024): the FTLE ridge contrast at the class boundary is larger for the
    narrow network than for the wide one, and positive (ridges follow the boundary)."""
    e = experiments.get("beyond-ftle")
    (ds,) = e.compute([experiments.make_config(e, quick=True)])
    c = np.nanmean(ds["contrast"].values, axis=-1)  # (dataset, width)
    assert (c[:, 0] > 1.0).all()
    assert (c[:, 0] > c[:, -1] + 0.3).all()
    assert ds["accuracy"].values.min() > 0.8


def test_control_adjoint_reports_solver_steps():
    """control-adjoint stores dopri5's accepted and rejected steps beside the NFE; per solve
    dopri5 spends 2 evaluations to start and 6 per attempted step, so over the intervals
    NFE = 2 · intervals + 6 · (accepted + rejected), forward and (adjoint) backward."""
    e = experiments.get("control-adjoint")
    cfg = experiments.make_config(e, quick=True)
    (ds,) = e.compute([cfg])
    for phase in ("forward", "backward"):
        steps = ds[f"accepted_{phase}"] + ds[f"rejected_{phase}"]
        nfe = ds[f"nfe_{phase}"]
        for m in ("backprop", "adjoint"):
            if phase == "backward" and m == "backprop":
                assert float(steps.sel({"method": m}).max()) == 0
                continue
            expected = 2 * cfg.intervals + 6 * steps.sel({"method": m}).values
            np.testing.assert_array_equal(nfe.sel({"method": m}).values, expected)
    assert float(ds["accepted_forward"].min()) > 0
