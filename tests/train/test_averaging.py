"""EMA of the generator, learning-rate schedules, and exact resume with both."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gankit.config import RunConfig, apply_overrides
from gankit.errors import GankitError
from gankit.train.averaging import EMA, LRSchedule, lr_factor
from gankit.train.checkpoint import load_latest
from gankit.train.run import build, train_run
from gankit.train.trainer import Callback, Trainer, TrainingInterrupted

torch.set_num_threads(1)


def test_ema_matches_a_hand_computed_average():
    G = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        G.weight.fill_(0.0)
    ema = EMA(G, beta=0.9)
    avg = 0.0
    for t in range(1, 30):
        with torch.no_grad():
            G.weight.fill_(float(t))
        ema.update()
        b = min(0.9, (1 + t) / (10 + t))
        avg = b * avg + (1 - b) * t
    assert float(ema.model.weight) == pytest.approx(avg, rel=1e-6)
    other = EMA(G, 0.9)
    other.load_state_dict(ema.state_dict())
    assert torch.equal(other.model.weight, ema.model.weight) and other.updates == ema.updates


def test_lr_factor_endpoints():
    for s in ("linear", "cosine"):
        assert lr_factor(s, 0, 100, 0.05) == pytest.approx(1.0)
        assert lr_factor(s, 100, 100, 0.05) == pytest.approx(0.05)
    assert lr_factor("cosine", 50, 100, 0.0) == pytest.approx(0.5)
    assert lr_factor("constant", 70, 100, 0.0) == 1.0


def test_lr_schedule_sets_both_optimisers():
    cfg = apply_overrides(RunConfig(), ["model.g_width=8", "model.d_width=8", "train.batch_size=4", "train.steps=10",
                                        "train.lr_g=0.002", "train.lr_d=0.004"])
    b = build(cfg)
    tr = Trainer(b.G, b.D, b.objective, b.source, cfg.train, [LRSchedule("linear", 0.1)]).fit()
    assert tr.opt_g.param_groups[0]["lr"] == pytest.approx(0.002 * 0.1)
    assert tr.opt_d.param_groups[0]["lr"] == pytest.approx(0.004 * 0.1)


def test_config_rejects_bad_values():
    for bad, key in (("train.ema=1.0", "train.ema"), ("train.lr_schedule=step", "train.lr_schedule"),
                     ("train.lr_final=2", "train.lr_final"), ("model.pack=0", "model.pack")):
        with pytest.raises(GankitError, match=key):
            apply_overrides(RunConfig(), [bad])


class _StopAt(Callback):
    def __init__(self, step: int) -> None:
        self.at = step

    def on_step_end(self, trainer: Trainer) -> None:
        if trainer.step == self.at:
            trainer.request_stop()


def test_resume_with_ema_and_schedule_is_exact(tmp_path):
    base = ["model.g_width=16", "model.d_width=16", "model.g_depth=2", "model.d_depth=2", "train.batch_size=8",
            "train.ema=0.95", "train.lr_schedule=linear", "model.pack=2", "train.eval_every=0",
            "train.checkpoint_every=0", "eval.n_samples=100", "eval.w1_samples=50"]
    full = apply_overrides(RunConfig(), base + ["train.steps=16"])
    train_run(full, tmp_path / "a", progress=False, pictures=False)
    with pytest.raises(TrainingInterrupted):  # stop the same run half way, as Ctrl-C does
        train_run(full, tmp_path / "b", progress=False, pictures=False, callbacks=[_StopAt(8)])
    train_run(full, tmp_path / "b", resume=True, progress=False, pictures=False)
    sa, sb = (load_latest(tmp_path / x / "checkpoints") for x in ("a", "b"))
    assert sa["step"] == sb["step"] == 16
    for k, v in sa["G_ema"]["model"].items():
        assert torch.equal(v, sb["G_ema"]["model"][k]), k
    assert not math.isclose(float(sa["opt_g"]["param_groups"][0]["lr"]), full.train.lr_g)
