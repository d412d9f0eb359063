"""``--seeds N``: N replicas in one process equal N separate runs with the same seeds."""

from __future__ import annotations

import json

import pytest
import torch

from gankit.config import RunConfig, apply_overrides
from gankit.errors import GankitError
from gankit.train.checkpoint import load_latest
from gankit.train.run import train_run
from gankit.train.seeds import train_seeds

BASE = ["train.steps=50", "train.batch_size=64", "train.eval_every=25", "train.checkpoint_every=0",
        "model.g_width=32", "model.d_width=32", "model.g_depth=2", "model.d_depth=2",
        "eval.n_samples=200", "eval.w1_samples=100", "train.progress=false"]


@pytest.mark.parametrize("objective,extra,n", [("ns", [], 3), ("minimax", ["train.d_steps=2"], 2),
                                               ("fgan:kl", ["train.optimizer=rmsprop"], 2),
                                               ("ns", ["train.optimizer=sgd", "model.activation=leaky_relu"], 2)])
def test_vectorised_seeds_equal_separate_runs(tmp_path, objective, extra, n):
    torch.set_num_threads(1)
    cfg = apply_overrides(RunConfig(), BASE + extra + [f"objective.name={objective}", "train.seed=3"])
    summary = train_seeds(cfg, n, tmp_path / "vec", pictures=False)
    assert summary["seeds"] == list(range(3, 3 + n))
    for s in range(3, 3 + n):
        one = apply_overrides(cfg, [f"train.seed={s}"])
        sep = train_run(one, tmp_path / f"sep{s}", pictures=False)
        a = load_latest(tmp_path / "vec" / f"seed{s}" / "checkpoints")
        b = load_latest(tmp_path / f"sep{s}" / "checkpoints")
        assert a["step"] == b["step"] == 50
        for net in ("G", "D"):
            assert a[net].keys() == b[net].keys()
            for k in a[net]:
                assert torch.allclose(a[net][k], b[net][k], atol=1e-5), (s, net, k)
        for opt in ("opt_g", "opt_d"):
            for idx, st in b[opt]["state"].items():
                for name, v in st.items():
                    assert torch.allclose(a[opt]["state"][idx][name].float(), v.float(), atol=1e-5), (opt, name)
        assert torch.equal(a["rng"]["data"], b["rng"]["data"]) and torch.equal(a["rng"]["noise"], b["rng"]["noise"])
        vec_hist = [json.loads(x) for x in (tmp_path / "vec" / f"seed{s}" / "history.jsonl").read_text().splitlines()]
        sep_hist = [json.loads(x) for x in (tmp_path / f"sep{s}" / "history.jsonl").read_text().splitlines()]
        assert [h["step"] for h in vec_hist] == [h["step"] for h in sep_hist] == [25, 50]
        for hv, hs in zip(vec_hist, sep_hist, strict=True):
            for k in ("d_loss", "g_loss", "estimate"):
                assert hv[k] == pytest.approx(hs[k], abs=1e-5)
        vec_metrics = json.loads((tmp_path / "vec" / f"seed{s}" / "metrics.json").read_text())
        assert vec_metrics["seed"] == s and "w1" in vec_metrics and "w1" in sep
        assert (tmp_path / "vec" / f"seed{s}" / "config.toml").read_text().count(f"seed = {s}\n") == 1
    m = summary["metrics"]["w1"]
    assert len(m["values"]) == n and m["mean"] == pytest.approx(sum(m["values"]) / n)


def test_vectorised_seeds_reject_unsupported(tmp_path):
    cfg = RunConfig()
    for bad in (["model.name=dcgan"], ["objective.name=wgan-gp"], ["train.compile=true"]):
        with pytest.raises(GankitError, match="--seeds supports"):
            train_seeds(apply_overrides(cfg, bad), 2, tmp_path / "x")
    with pytest.raises(GankitError, match="--seeds must be >= 1"):
        train_seeds(cfg, 0, tmp_path / "y")


def test_cli_seeds(tmp_path, capsys):
    from gankit.cli import main

    out = tmp_path / "runs"
    rc = main(["train", "--seeds", "2", "--seed", "7", "--steps", "4", "--out", str(out), "--json",
               "--set", "model.g_width=8", "--set", "model.d_width=8", "--set", "eval.n_samples=50",
               "--set", "eval.w1_samples=20", "--set", "train.batch_size=8"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["seeds"] == [7, 8] and summary["run_dir"] == str(out)
    assert sorted(p.name for p in out.iterdir()) == ["seed7", "seed8", "summary.json"]
    assert {"config.toml", "metrics.json", "history.jsonl", "checkpoints", "samples.png", "losses.png"} <= {
        p.name for p in (out / "seed8").iterdir()}
    assert main(["train", "--seeds", "2", "--model", "dcgan", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--seeds supports model mlp" in err
    assert main(["train", "--seeds", "2", "--resume", str(out / "seed7")]) == 2
    assert "--seeds cannot be combined with --resume" in capsys.readouterr().err


def test_interrupted_seeds_resume_as_normal_runs(tmp_path, monkeypatch):
    import signal

    from gankit.train import seeds as seeds_mod
    from gankit.train.trainer import Callback, TrainingInterrupted

    class CtrlC(Callback):
        def on_step_end(self, trainer):
            if trainer.step == 10 and trainer.cfg.seed == 1:
                signal.raise_signal(signal.SIGINT)

    orig = seeds_mod.Trainer

    def with_ctrl_c(*a, **k):
        t = orig(*a, **k)
        t.callbacks.append(CtrlC())
        return t

    monkeypatch.setattr(seeds_mod, "Trainer", with_ctrl_c)
    torch.set_num_threads(1)
    small = ["train.batch_size=16", "model.g_width=8", "model.d_width=8", "eval.n_samples=50", "eval.w1_samples=20",
             "train.progress=false", "train.eval_every=0", "train.checkpoint_every=10"]
    cfg = apply_overrides(RunConfig(), small + ["train.steps=20"])
    with pytest.raises(TrainingInterrupted, match="stopped at step 10"):
        train_seeds(cfg, 2, tmp_path / "vec", pictures=False)
    train_run(apply_overrides(cfg, ["train.seed=1"]), tmp_path / "vec" / "seed1", resume=True, pictures=False)
    train_run(apply_overrides(cfg, ["train.seed=1"]), tmp_path / "sep1", pictures=False)
    a = load_latest(tmp_path / "vec" / "seed1" / "checkpoints")
    b = load_latest(tmp_path / "sep1" / "checkpoints")
    assert a["step"] == b["step"] == 20
    for net in ("G", "D"):
        for k in b[net]:
            assert torch.allclose(a[net][k], b[net][k], atol=1e-5), (net, k)
