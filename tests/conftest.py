import pytest
import torch

# Tests compare numbers, not speed: one thread, set at import so that module-scoped fixtures
# (which run before the autouse fixture below) get it too.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _deterministic_threads():
    # Tests compare numbers, not speed: keep them independent of the machine's thread count.
    torch.set_num_threads(1)
    yield


@pytest.fixture(autouse=True)
def _close_figures():
    # A figure a test forgets to close must not leak into the next test's pyplot state.
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(autouse=True)
def _store_in_tmp(tmp_path, monkeypatch):
    # The CLI's default run store is ./deepdyn-runs: keep every test's store in its tmp_path.
    monkeypatch.setenv("DEEPDYN_STORE", str(tmp_path / "deepdyn-runs"))
    yield
