"""The theory lab runs small 1-D computations: one torch thread is fastest (and fair to a shared machine)."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
