"""The matmul FLOP count used by benchmarks/throughput.py equals PyTorch's FlopCounterMode on a real step."""

from __future__ import annotations

import doctest

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import gankit.train.flops as flops_mod
from gankit.config import RunConfig, apply_overrides
from gankit.run import build
from gankit.train.flops import mlp_step_flops
from gankit.train.trainer import Trainer

CONFIGS = [
    ["model.g_width=32", "model.d_width=48", "train.batch_size=16"],
    ["model.g_width=16", "model.d_width=24", "model.g_depth=1", "model.d_depth=4", "model.latent_dim=5",
     "train.batch_size=8", "train.d_steps=3", "objective.name=fgan:kl"],
    ["model.g_width=16", "model.d_width=16", "train.batch_size=8", "model.pack=3"],
]


@pytest.mark.parametrize("overrides", CONFIGS)
def test_step_flops_equal_flop_counter(overrides):
    cfg = apply_overrides(RunConfig(), overrides)
    b = build(cfg)
    t = Trainer(b.G, b.D, b.objective, b.source, cfg.train)
    before = {k: v.clone() for k, v in b.G.state_dict().items()}
    count = mlp_step_flops(b.G, b.D, cfg.train.batch_size, cfg.train.d_steps)
    assert all(torch.equal(v, b.G.state_dict()[k]) for k, v in before.items())  # G is left as it was
    with FlopCounterMode(display=False) as counter:
        t.train_step()
    assert counter.get_total_flops() == count


def _linear_weights(module: nn.Module) -> tuple[int, int]:
    sizes = [m.weight.numel() for m in module.modules() if isinstance(m, nn.Linear)]
    return sum(sizes), sizes[0]


@pytest.mark.parametrize("overrides", CONFIGS[:2])
def test_step_flops_equal_the_closed_form_for_mlps(overrides):
    cfg = apply_overrides(RunConfig(), overrides)
    b = build(cfg)
    (pg, pg1), (pd, pd1), k, B = _linear_weights(b.G), _linear_weights(b.D), cfg.train.d_steps, cfg.train.batch_size
    formula = B * (2 * k * pg + 12 * k * pd - 4 * k * pd1 + 6 * pg - 2 * pg1 + 4 * pd)
    assert mlp_step_flops(b.G, b.D, B, k) == formula


def test_docstring_example():
    assert doctest.testmod(flops_mod).failed == 0
