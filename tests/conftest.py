import pytest
import torch


@pytest.fixture(autouse=True)
def _deterministic_threads():
    # Tests compare numbers, not speed: keep them independent of the machine's thread count.
    torch.set_num_threads(1)
    yield
