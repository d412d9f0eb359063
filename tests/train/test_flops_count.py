"""The matmul FLOP count used by benchmarks/throughput.py equals PyTorch's FlopCounterMode."""

from __future__ import annotations

import pytest
from torch.utils.flop_counter import FlopCounterMode

from gankit.config import RunConfig, apply_overrides
from gankit.train.flops import mlp_step_flops
from gankit.train.run import build
from gankit.train.trainer import Trainer


@pytest.mark.parametrize("overrides", [
    ["model.g_width=32", "model.d_width=48", "train.batch_size=16"],
    ["model.g_width=16", "model.d_width=24", "model.g_depth=1", "model.d_depth=4", "model.latent_dim=5",
     "train.batch_size=8", "train.d_steps=3", "objective.name=fgan:kl"],
])
def test_step_flops_equal_flop_counter(overrides):
    cfg = apply_overrides(RunConfig(), overrides)
    b = build(cfg)
    t = Trainer(b.G, b.D, b.objective, b.source, cfg.train)
    with FlopCounterMode(display=False) as counter:
        t.train_step()
    assert counter.get_total_flops() == mlp_step_flops(b.G, b.D, cfg.train.batch_size, cfg.train.d_steps)
