"""train.precision and train.compile: validation, CPU bf16 autocast, compiled steps equal eager ones."""

from __future__ import annotations

import pytest
import torch

from gankit.config import RunConfig, apply_overrides
from gankit.errors import GankitError
from gankit.run import Run, build
from gankit.train.trainer import Trainer

SMALL = ["train.batch_size=32", "model.g_width=16", "model.d_width=16", "model.g_depth=1", "model.d_depth=1"]


def _trainer(overrides: list[str]) -> Trainer:
    cfg = apply_overrides(RunConfig(), SMALL + overrides)
    b = build(cfg)
    return Trainer(b.G, b.D, b.objective, b.source, cfg.train, device=b.device)


def test_precision_validation():
    with pytest.raises(GankitError, match="train.precision must be one of fp32, bf16, fp16"):
        apply_overrides(RunConfig(), ["train.precision=fp64"])
    if not torch.cuda.is_available():
        with pytest.raises(GankitError, match="fp16 needs a CUDA device"):
            _trainer(["train.precision=fp16"])
        with pytest.raises(GankitError, match="no CUDA device is available"):
            Run(apply_overrides(RunConfig(), ["train.device=cuda"]), "/nonexistent/never-written").fit()


def test_bf16_autocast_on_cpu_tracks_fp32():
    torch.set_num_threads(1)
    a, b = _trainer([]), _trainer(["train.precision=bf16"])
    for _ in range(5):
        a.train_step()
        b.train_step()
    la, lb = a.pop_logs(), b.pop_logs()
    # bf16 has 8 mantissa bits: the same losses to ~1e-2, weights stay float32
    assert abs(la["d_loss"] - lb["d_loss"]) < 5e-2 and abs(la["g_loss"] - lb["g_loss"]) < 5e-2
    assert all(p.dtype == torch.float32 for p in b.G.parameters())
    assert b.scaler_d is None  # GradScaler only for fp16


@pytest.mark.slow
def test_compiled_steps_equal_eager():
    torch.set_num_threads(1)
    a, b = _trainer([]), _trainer(["train.compile=true"])
    for _ in range(5):
        a.train_step()
        b.train_step()
    pa, pb = list(a.G.parameters()) + list(a.D.parameters()), list(b.G.parameters()) + list(b.D.parameters())
    for p, q in zip(pa, pb, strict=True):
        assert torch.allclose(p, q, atol=1e-5)
