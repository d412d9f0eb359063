"""Shared test fixtures: small, fast configs; one torch thread per test process."""

from __future__ import annotations

import pytest
import torch

torch.set_num_threads(1)  # the one place: two shared cores, a thread pool only adds contention


@pytest.fixture
def tiny_overrides() -> list[str]:
    """A run that trains in well under a second."""
    return [
        "train.steps=20",
        "train.batch_size=32",
        "model.g_width=16",
        "model.d_width=16",
        "model.g_depth=1",
        "model.d_depth=1",
        "train.eval_every=10",
        "train.checkpoint_every=10",
        "train.progress=false",
        "eval.n_samples=200",
        "eval.w1_samples=100",
    ]
