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
