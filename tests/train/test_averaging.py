"""EMA of the generator, learning-rate schedules, and exact resume with both."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

from gankit.config import RunConfig, apply_overrides
from gankit.errors import GankitError
from gankit.run import Run, build
from gankit.train.averaging import EMA, LRSchedule, lr_factor
from gankit.train.checkpoint import load_latest
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
    Run(full, tmp_path / "a").fit(progress=False, pictures=False)
    with pytest.raises(TrainingInterrupted):  # stop the same run half way, as Ctrl-C does
        Run(full, tmp_path / "b").fit(progress=False, pictures=False, callbacks=[_StopAt(8)])
    Run(full, tmp_path / "b").fit(resume=True, progress=False, pictures=False)
    sa, sb = (load_latest(tmp_path / x / "checkpoints") for x in ("a", "b"))
    assert sa["step"] == sb["step"] == 16
    for k, v in sa["G_ema"]["model"].items():
        assert torch.equal(v, sb["G_ema"]["model"][k]), k
    assert not math.isclose(float(sa["opt_g"]["param_groups"][0]["lr"]), full.train.lr_g)


def _record_lrs(schedule: str, final: float, steps: int, extra: list[Callback] | None = None,
                state: dict | None = None) -> tuple[Trainer, list[tuple[float, float]]]:
    """Train a tiny run with ``LRSchedule(schedule, final)``; the (lr_g, lr_d) after every step."""
    cfg = apply_overrides(RunConfig(), ["model.g_width=8", "model.d_width=8", "train.batch_size=4",
                                        f"train.steps={steps}", "train.lr_g=0.002", "train.lr_d=0.0037"])
    b = build(cfg)
    seen: list[tuple[float, float]] = []

    class Record(Callback):
        def on_step_end(self, trainer: Trainer) -> None:
            seen.append((trainer.opt_g.param_groups[0]["lr"], trainer.opt_d.param_groups[0]["lr"]))

    tr = Trainer(b.G, b.D, b.objective, b.source, cfg.train, (extra or []) + [LRSchedule(schedule, final), Record()])
    if state is not None:
        tr.load_state_dict(state)
    return tr.fit(), seen


@pytest.mark.parametrize("schedule", ["linear", "cosine", "constant"])
def test_lr_schedule_equals_the_closed_form_at_every_step(schedule):
    steps, final = 40, 0.05
    _, seen = _record_lrs(schedule, final, steps)
    t = np.arange(1, steps + 1) / steps
    closed = {"linear": 1 + (final - 1) * t, "constant": np.ones_like(t),
              "cosine": final + (1 - final) * (1 + np.cos(np.pi * t)) / 2}[schedule]
    np.testing.assert_allclose(np.array(seen), np.c_[0.002 * closed, 0.0037 * closed], rtol=1e-13)
    if schedule == "constant":
        return
    # and PyTorch's own schedulers of the same shape (recursive forms: equal to rounding)
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.002)
    ref = (torch.optim.lr_scheduler.LinearLR(opt, 1.0, final, total_iters=steps) if schedule == "linear"
           else torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=0.002 * final))
    torch_lrs = []
    for _ in range(steps):
        opt.step()
        ref.step()
        torch_lrs.append(opt.param_groups[0]["lr"])
    np.testing.assert_allclose([g for g, _ in seen], torch_lrs, rtol=1e-12)


class _HalveAt(Callback):
    """Multiplies both learning rates by 0.5 after step ``at``, as the health guard's rollback does."""

    def __init__(self, at: int) -> None:
        self.at = at

    def on_step_end(self, trainer: Trainer) -> None:
        if trainer.step == self.at:
            for opt in (trainer.opt_g, trainer.opt_d):
                for group in opt.param_groups:
                    group["lr"] *= 0.5


def test_lr_schedule_keeps_a_rollbacks_lower_rate_and_resumes_exactly():
    steps, final = 20, 0.1
    tr, seen = _record_lrs("linear", final, steps, extra=[_HalveAt(7)])
    f = np.array([lr_factor("linear", s, steps, final) for s in range(1, steps + 1)])
    scale = np.where(np.arange(1, steps + 1) >= 7, 0.5, 1.0)
    np.testing.assert_allclose(np.array(seen), np.c_[0.002 * scale * f, 0.0037 * scale * f], rtol=1e-13)
    # resume at step 12 from the state (no schedule state beyond the optimisers): the same rates after
    stopped, _ = _record_lrs("linear", final, 12, extra=[_HalveAt(7)])
    state = stopped.state_dict()
    resumed, seen2 = _record_lrs("linear", final, steps, state=state)
    assert seen2 == seen[12:]
    assert resumed.opt_g.state_dict()["param_groups"] == tr.opt_g.state_dict()["param_groups"]


def test_lr_schedule_rejects_an_unknown_schedule():
    with pytest.raises(ValueError, match="step"):
        LRSchedule("step", 0.1)


def test_ema_model_is_a_plain_generator_and_copies_buffers():
    G = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    G.latent_dim = 2
    ema = EMA(G, beta=0.5)
    assert ema.model.latent_dim == 2 and isinstance(ema.model, nn.Sequential)
    assert not any(p.requires_grad for p in ema.model.parameters())
    with torch.no_grad():
        G[1].running_mean.fill_(3.0)
        G[0].weight.add_(1.0)
    before = ema.model[0].weight.clone()
    ema.update()  # t = 1: decay min(0.5, 2/11)
    b = 2 / 11
    assert torch.allclose(ema.model[0].weight, b * before + (1 - b) * G[0].weight, rtol=1e-6)
    assert torch.equal(ema.model[1].running_mean, G[1].running_mean)  # copied, not averaged
    fresh = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    fresh.load_state_dict(ema.state_dict()["model"])  # a checkpoint's "G_ema"/"model" loads into a plain G
    assert torch.equal(fresh[0].weight, ema.model[0].weight)
    assert int(ema.averaged.n_averaged) == 2  # the starting copy and one update


class _RestoreStartAndHalve(Callback):
    """Before the schedule: keep the state at train start; after step ``at`` restore it and halve the rates.

    This is what the health guard does when it rolls back to its first copy of the state.
    """

    def __init__(self, at: int) -> None:
        self.at, self.start = at, None

    def on_train_start(self, trainer: Trainer) -> None:
        self.start = copy.deepcopy(trainer.state_dict())

    def on_step_end(self, trainer: Trainer) -> None:
        if trainer.step == self.at and self.start is not None:
            trainer.load_state_dict(self.start)
            self.start = None  # once
            _HalveAt(0).on_step_end(trainer)


def test_lr_schedule_after_a_rollback_to_a_state_saved_before_it_started():
    steps, final = 12, 0.1
    _, seen = _record_lrs("cosine", final, steps, extra=[_RestoreStartAndHalve(4)])
    # steps 1-3, then (after step 4) back to step 0 at half the rate, and 12 more steps
    t = [1, 2, 3, 0, *range(1, steps + 1)]
    f = np.array([lr_factor("cosine", s, steps, final) for s in t])
    scale = np.r_[np.ones(3), np.full(steps + 1, 0.5)]
    np.testing.assert_allclose(np.array(seen), np.c_[0.002 * scale * f, 0.0037 * scale * f], rtol=1e-13)
