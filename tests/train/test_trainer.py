import os
import signal

import pytest
import torch

from gankit.config import RunConfig, apply_overrides
from gankit.errors import GankitError
from gankit.run import Run, build
from gankit.train.checkpoint import list_checkpoints, load_checkpoint, save_checkpoint
from gankit.train.trainer import Callback, Trainer, TrainingInterrupted


def cfg_of(overrides, *extra):
    return apply_overrides(RunConfig(), list(overrides) + list(extra))


def weights(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


def same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_same_seed_same_weights_different_seed_different(tmp_path, tiny_overrides):
    a = Run(cfg_of(tiny_overrides), tmp_path / "a").fit(pictures=False)
    b = Run(cfg_of(tiny_overrides), tmp_path / "b").fit(pictures=False)
    c = Run(cfg_of(tiny_overrides, "train.seed=1"), tmp_path / "c").fit(pictures=False)
    wa, wb, wc = (Run.load(tmp_path / n).state for n in "abc")
    assert same(wa["G"], wb["G"]) and same(wa["D"], wb["D"])
    assert not same(wa["G"], wc["G"])
    assert a["w1"] == b["w1"]
    assert c["seed"] == 1


class CountSteps(Callback):
    def __init__(self):
        self.d_steps = 0

    def on_train_start(self, trainer):
        opt = trainer.opt_d
        orig = opt.step

        def step(*args, **kwargs):
            self.d_steps += 1
            return orig(*args, **kwargs)

        opt.step = step


def test_algorithm_1_does_k_discriminator_steps_per_generator_step(tiny_overrides):
    cfg = cfg_of(tiny_overrides, "train.d_steps=3", "train.steps=7")
    b = build(cfg)
    counter = CountSteps()
    Trainer(b.G, b.D, b.objective, b.source, cfg.train, [counter]).fit()
    assert counter.d_steps == 21


def test_discriminator_is_fixed_during_the_generator_step(tiny_overrides):
    cfg = cfg_of(tiny_overrides)
    b = build(cfg)
    t = Trainer(b.G, b.D, b.objective, b.source, cfg.train)
    snapshots = {}
    orig = t.opt_g.step

    def g_step(*a, **k):
        snapshots["before"] = weights(t.D)
        out = orig(*a, **k)
        snapshots["after"] = weights(t.D)
        return out

    t.opt_g.step = g_step
    t.train_step()
    assert same(snapshots["before"], snapshots["after"])
    assert all(p.requires_grad for p in t.D.parameters())  # restored after the G step


class StopAt(Callback):
    def __init__(self, step, use_signal=False):
        self.step, self.use_signal = step, use_signal

    def on_step_end(self, trainer):
        if trainer.step == self.step:
            if self.use_signal:
                os.kill(os.getpid(), signal.SIGINT)
            else:
                trainer.request_stop()


@pytest.mark.parametrize("use_signal", [False, True])
def test_stop_and_resume_gives_the_same_weights_as_an_uninterrupted_run(tmp_path, tiny_overrides, use_signal):
    cfg = cfg_of(tiny_overrides, "train.steps=30", "train.checkpoint_every=7")
    Run(cfg, tmp_path / "full").fit(pictures=False)
    with pytest.raises(TrainingInterrupted):
        Run(cfg, tmp_path / "part").fit(pictures=False, callbacks=[StopAt(13, use_signal)])
    assert list_checkpoints(tmp_path / "part" / "checkpoints")[-1][0] == 13  # saved on interrupt
    final = Run(cfg, tmp_path / "part").fit(resume=True, pictures=False)
    full, part = Run.load(tmp_path / "full").state, Run.load(tmp_path / "part").state
    assert same(full["G"], part["G"]) and same(full["D"], part["D"])
    assert final["step"] == 30
    # history has one record per evaluation, none duplicated by the resume
    steps = [int(line.split('"step": ')[1].split(",")[0]) for line in (tmp_path / "part" / "history.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) == [10, 20, 30]


def test_run_directory_holds_the_contract_files(tmp_path, tiny_overrides):
    out = tmp_path / "run"
    Run(cfg_of(tiny_overrides), out).fit()
    for name in ["config.toml", "metrics.json", "history.jsonl", "samples.png", "losses.png"]:
        assert (out / name).is_file(), name
    assert list_checkpoints(out / "checkpoints")


def test_existing_run_directory_is_never_overwritten(tmp_path, tiny_overrides):
    out = tmp_path / "run"
    Run(cfg_of(tiny_overrides), out).fit(pictures=False)
    before = (out / "metrics.json").read_bytes()
    with pytest.raises(GankitError, match="--resume"):
        Run(cfg_of(tiny_overrides), out).fit(pictures=False)
    assert (out / "metrics.json").read_bytes() == before


def test_resume_never_overwrites_a_newer_checkpoint(tmp_path, tiny_overrides):
    cfg = cfg_of(tiny_overrides)
    b = build(cfg)
    t = Trainer(b.G, b.D, b.objective, b.source, cfg.train)
    t.step = 20
    save_checkpoint(tmp_path, 20, t.state_dict())
    t.step = 10
    with pytest.raises(GankitError, match="newer"):
        save_checkpoint(tmp_path, 10, t.state_dict())
    assert load_checkpoint(list_checkpoints(tmp_path)[-1][1])["step"] == 20


def test_resume_past_the_end_is_an_error(tmp_path, tiny_overrides):
    cfg = cfg_of(tiny_overrides)
    Run(cfg, tmp_path / "r").fit(pictures=False)
    with pytest.raises(GankitError, match="already at step 20"):
        Run(cfg, tmp_path / "r").fit(resume=True, pictures=False)


def test_keep_last_k_checkpoints(tmp_path, tiny_overrides):
    cfg = cfg_of(tiny_overrides, "train.checkpoint_every=2", "train.keep_checkpoints=2")
    Run(cfg, tmp_path / "r").fit(pictures=False)
    assert [s for s, _ in list_checkpoints(tmp_path / "r" / "checkpoints")] == [18, 20]
