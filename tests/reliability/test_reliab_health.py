"""Training health: non-finite values found at the exact step; stop and rollback policies; collapse warning."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from reliab_helpers import Attach, assert_same_tree, final_state, tiny_args, tiny_config

import gankit.run.parts as run_mod
from gankit.cli import main
from gankit.data.toy import DataSource, ring8
from gankit.run import Run, build
from gankit.train.averaging import EMA
from gankit.train.health import TrainingDiverged
from gankit.train.trainer import Callback, Trainer

torch.set_num_threads(1)


class NanSource(DataSource):
    """ring8, but the real batch of step ``at`` holds a NaN (only while lr_d is ``only_lr``, if given).

    The trigger reads the trainer's step counter and learning rate, which the checkpointed
    state holds, so a replay from an earlier state meets the same NaN at the same step.
    """

    def __init__(self, at: int, only_lr: float | None = None) -> None:
        self.inner, self.at, self.only_lr, self.trainer = ring8(), at, only_lr, None
        self.shape, self.centres, self.std, self.name = (2,), self.inner.centres, self.inner.std, "ring8"

    def sample(self, n, generator=None):
        x = self.inner.sample(n, generator)
        t = self.trainer
        if t is not None and t.step == self.at - 1 and (self.only_lr is None
                                                         or t.opt_d.param_groups[0]["lr"] == self.only_lr):
            x[0, 0] = float("nan")
        return x


def _patch(monkeypatch: pytest.MonkeyPatch, source: DataSource) -> None:
    monkeypatch.setattr(run_mod, "make_source", lambda name, **kw: source)


def _events(out: Path) -> list[dict]:
    return [r for r in map(json.loads, (out / "history.jsonl").read_text().splitlines()) if "event" in r]


class StopAt(Callback):
    def __init__(self, step: int) -> None:
        self.at = step

    def on_step_end(self, trainer) -> None:
        if trainer.step == self.at:
            trainer.request_stop()


def test_stop_names_the_exact_step_and_saves_the_last_good_state(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tiny_config("train.checkpoint_every=0", "train.eval_every=0", "train.health_every=5")
    src = NanSource(at=13)
    _patch(monkeypatch, src)
    with pytest.raises(TrainingDiverged) as info:
        Run(cfg, tmp_path / "bad").fit(callbacks=[Attach(src)], pictures=False)
    err = info.value
    assert (err.step, err.good_step, err.quantity) == (13, 12, "d_loss")
    assert "at step 13" in str(err) and "d_loss" in str(err) and "\n" not in str(err)
    saved = final_state(tmp_path / "bad")
    assert saved["step"] == 12
    # the saved state is exactly the state of a clean run after 12 steps
    monkeypatch.undo()
    from gankit.train.trainer import TrainingInterrupted

    with pytest.raises(TrainingInterrupted):
        Run(cfg, tmp_path / "clean").fit(callbacks=[StopAt(12)], pictures=False)
    clean = final_state(tmp_path / "clean")
    for key in ("G", "D", "opt_g", "opt_d", "rng"):
        assert_same_tree(saved[key], clean[key], key)
    assert _events(tmp_path / "bad") == [{"step": 12, "event": "non_finite", "bad_step": 13, "quantity": "d_loss",
                                          "terms": {}, "action": "stop"}]


def test_rollback_lowers_the_rates_logs_an_event_and_finishes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tiny_config("train.on_nan=rollback", "train.nan_lr_factor=0.25", "train.checkpoint_every=10")
    src = NanSource(at=13, only_lr=cfg.train.lr_d)
    _patch(monkeypatch, src)
    warnings: list[str] = []
    final = Run(cfg, tmp_path / "run").fit(callbacks=[Attach(src)], pictures=False, warn=warnings.append)
    assert final["step"] == 30 and math.isfinite(final["d_loss"])
    state = final_state(tmp_path / "run")
    assert state["health"]["rollbacks"] == 1
    assert state["opt_d"]["param_groups"][0]["lr"] == cfg.train.lr_d * 0.25
    assert state["opt_g"]["param_groups"][0]["lr"] == cfg.train.lr_g * 0.25
    assert all(torch.isfinite(v).all() for v in state["G"].values())
    ev = _events(tmp_path / "run")
    assert [(e["event"], e["step"], e["bad_step"], e["quantity"]) for e in ev] == [("rollback", 12, 13, "d_loss")]
    assert len(warnings) == 1 and "rolled back to step 12" in warnings[0]


def test_rollbacks_are_limited_then_stop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tiny_config("train.on_nan=rollback", "train.max_rollbacks=2")
    src = NanSource(at=8)  # NaN whatever the learning rate: rollback cannot help
    _patch(monkeypatch, src)
    with pytest.raises(TrainingDiverged) as info:
        Run(cfg, tmp_path / "run").fit(callbacks=[Attach(src)], pictures=False, warn=lambda m: None)
    assert "after 2 rollback(s)" in str(info.value)
    assert [e["event"] for e in _events(tmp_path / "run")] == ["rollback", "rollback", "non_finite"]
    assert final_state(tmp_path / "run")["step"] == 7


def test_resume_after_a_rollback_is_bit_exact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gankit.train.trainer import TrainingInterrupted

    cfg = tiny_config("train.on_nan=rollback")
    src = NanSource(at=13, only_lr=cfg.train.lr_d)
    _patch(monkeypatch, src)
    Run(cfg, tmp_path / "ref").fit(callbacks=[Attach(src)], pictures=False, warn=lambda m: None)
    with pytest.raises(TrainingInterrupted):
        Run(cfg, tmp_path / "run").fit(callbacks=[Attach(src), StopAt(17)], pictures=False, warn=lambda m: None)
    Run(cfg, tmp_path / "run").fit(resume=True, callbacks=[Attach(src)], pictures=False)
    a, b = final_state(tmp_path / "ref"), final_state(tmp_path / "run")
    for key in ("G", "D", "opt_g", "opt_d", "rng", "health"):
        assert_same_tree(a[key], b[key], key)


def test_fault_not_reproduced_on_replay_stops_at_the_last_check(tmp_path: Path) -> None:
    class Poison(Callback):  # edits a weight outside the training step: replay cannot reproduce it
        def on_step_end(self, trainer) -> None:
            if trainer.step == 8:
                with torch.no_grad():
                    next(trainer.G.parameters())[0, 0] = float("inf")

    cfg = tiny_config("train.checkpoint_every=0", "train.eval_every=0", "train.health_every=5")
    with pytest.raises(TrainingDiverged) as info:
        Run(cfg, tmp_path / "run").fit(callbacks=[Poison()], pictures=False)
    assert info.value.quantity == "unknown" and info.value.good_step == 5
    assert "not reproduced on replay" in str(info.value)
    assert final_state(tmp_path / "run")["step"] == 5


def test_cli_huge_learning_rate_exits_3_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["train", "--out", str(tmp_path / "run"), "--no-progress", *tiny_args("train.lr_d=1e30", "train.lr_g=1e30")])
    err = capsys.readouterr().err
    assert code == 3
    assert len(err.strip().splitlines()) == 1 and "at step 1" in err and "g_loss went non-finite" in err
    assert final_state(tmp_path / "run")["step"] == 0


#: checks every 10 steps, as in the default preset: the average takes in 9 non-finite steps before a check
SPARSE = ("train.checkpoint_every=10", "train.health_every=10", "train.eval_every=10")


@pytest.mark.parametrize("extra", [("train.lr_schedule=constant", "train.ema=0", *SPARSE),
                                   ("train.lr_schedule=linear", "train.ema=0", *SPARSE),
                                   ("train.lr_schedule=cosine", "train.ema=0.999", *SPARSE)],
                         ids=["constant", "linear", "cosine-ema"])
def test_cli_huge_learning_rate_rollback_recovers(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  extra: tuple[str, ...]) -> None:
    code = main(["train", "--out", str(tmp_path / "run"), "--no-progress", "--json",
                 *tiny_args("train.lr_d=1e30", "train.lr_g=1e30", "train.on_nan=rollback", "train.nan_lr_factor=1e-33",
                            *extra)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "rolled back to step 0" in captured.err
    final = json.loads(captured.out)
    assert final["step"] == 30 and math.isfinite(final["w1"])
    assert [e["event"] for e in _events(tmp_path / "run")] == ["rollback"]
    state = final_state(tmp_path / "run")
    group = state["opt_g"]["param_groups"][0]  # the lowered rate is the one the schedule scales
    assert group.get("initial_lr", group["lr"]) == pytest.approx(1e30 * 1e-33)
    for tensors in [state["G"]] + ([state["G_ema"]["model"]] if "G_ema" in state else []):
        assert all(torch.isfinite(v).all() for v in tensors.values())


def test_stop_with_ema_saves_a_finite_average_that_samples(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    code = main(["train", "--out", str(out), "--no-progress",
                 *tiny_args("train.lr_d=1e30", "train.lr_g=1e30", "train.ema=0.999", "train.lr_schedule=linear",
                            *SPARSE)])
    assert code == 3 and "at step 1" in capsys.readouterr().err
    state = final_state(out)
    assert state["step"] == 0 and state["G_ema"]["updates"] == 0
    # the average at step 0 is G's starting copy
    assert_same_tree(state["G_ema"]["model"], state["G"], "G_ema")
    assert main(["sample", str(out), "-n", "20", "--out", str(tmp_path / "x.npy")]) == 0
    assert np.isfinite(np.load(tmp_path / "x.npy")).all()


@pytest.mark.parametrize("ema", [0.0, 0.9])
def test_the_guard_does_not_change_training_nor_the_average(tmp_path: Path, ema: float) -> None:
    cfg = tiny_config(f"train.ema={ema}", "train.health_every=7")
    Run(cfg, tmp_path / "run").fit(pictures=False)
    b = build(cfg)
    average = EMA(b.G, ema) if ema else None
    t = Trainer(b.G, b.D, b.objective, b.source, cfg.train, [average] if average else []).fit()
    saved = final_state(tmp_path / "run")
    assert_same_tree(saved["G"], t.G.state_dict(), "G")
    assert_same_tree(saved["opt_d"], t.opt_d.state_dict(), "opt_d")
    if average is not None:
        assert_same_tree(saved["G_ema"], average.state_dict(), "G_ema")


class FarSource(DataSource):
    """Real data far from where G starts: D separates them at once."""

    shape, name = (2,), "far"

    def sample(self, n, generator=None):
        return 50.0 + 0.01 * torch.randn(n, 2, generator=generator)


def test_collapsed_discriminator_warns_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _patch(monkeypatch, FarSource())
    cfg = tiny_config("train.lr_g=1e-12", "train.lr_d=1e-1", "train.steps=60", "train.eval_every=0",
                      "train.checkpoint_every=0", "train.health_every=10", "train.collapse_patience=2")
    warnings: list[str] = []
    Run(cfg, tmp_path / "run").fit(pictures=False, warn=warnings.append)
    assert len(warnings) == 1 and "discriminator loss near 0" in warnings[0]
    ev = _events(tmp_path / "run")
    assert [e["event"] for e in ev] == ["collapse_warning"] and ev[0]["mean_abs_d_loss"] < 1e-3


def test_healthy_ring8_run_gives_no_collapse_warning(tmp_path: Path) -> None:
    warnings: list[str] = []
    Run(tiny_config("train.health_every=2", "train.collapse_patience=1"), tmp_path / "run").fit(pictures=False, warn=warnings.append)
    assert warnings == [] and _events(tmp_path / "run") == []


class RateAt(Callback):
    """Records the discriminator's learning rate that step ``at + 1`` trains with (set at the end of ``at``)."""

    def __init__(self, at: int) -> None:
        self.at, self.lr = at, None

    def on_step_end(self, trainer) -> None:
        if trainer.step == self.at:
            self.lr = trainer.opt_d.param_groups[0]["lr"]


@pytest.mark.parametrize("at", [11, 13])  # the first step after the last check (step 10), and a later one
def test_replay_follows_the_lr_schedule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at: int) -> None:
    """A fault that depends on the scheduled rate is found at its step: the guard's replay steps the LR
    schedule as training does (without it the replay trains at a stale rate: "not reproduced on replay")."""
    from gankit.train.trainer import TrainingInterrupted

    cfg = tiny_config("train.checkpoint_every=0", "train.eval_every=0", "train.health_every=10",
                      "train.lr_schedule=linear", "train.lr_final=0.01")
    rate = RateAt(at - 1)
    with pytest.raises(TrainingInterrupted):
        Run(cfg, tmp_path / "clean").fit(callbacks=[rate, StopAt(at - 1)], pictures=False)
    src = NanSource(at=at, only_lr=rate.lr)
    _patch(monkeypatch, src)
    with pytest.raises(TrainingDiverged) as info:
        Run(cfg, tmp_path / "bad").fit(callbacks=[Attach(src)], pictures=False)
    assert (info.value.step, info.value.good_step, info.value.quantity) == (at, at - 1, "d_loss")
