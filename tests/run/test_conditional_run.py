"""Conditional runs end to end (tiny): labels flow into D, --class through the CLI, reload, labelled .npz checks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import gankit.metrics.classifier as clf
from gankit import GAN
from gankit.cli import main
from gankit.config import RunConfig, apply_overrides
from gankit.data.toy import ring8
from gankit.objectives.base import Objective
from gankit.run import Run
from gankit.run.parts import build
from gankit.train.trainer import Trainer

TINY = ["train.steps=6", "model.g_width=16", "model.d_width=16", "model.g_depth=1", "model.d_depth=1",
        "train.eval_every=0", "eval.n_samples=40", "eval.w1_samples=20", "train.progress=false"]


def sets(*extra):
    return [a for kv in (*TINY, *extra) for a in ("--set", kv)]


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ring") / "run"
    assert main(["train", "--data", "ring8", "--conditional", "--out", str(out), "--json", *sets()]) == 0
    return out


def test_ring8_run_writes_per_class_metrics_and_samples_a_class(ring_run, tmp_path, capsys):
    metrics = json.loads((ring_run / "metrics.json").read_text())
    assert len(metrics["class_in_mode_per_class"]) == 8 and 0 <= metrics["class_in_mode"] <= 1
    assert 'conditional = "projection"' in (ring_run / "config.toml").read_text()
    out = tmp_path / "s.npy"
    assert main(["sample", str(ring_run), "-n", "30", "--class", "5", "-o", str(out)]) == 0
    assert np.load(out).shape == (30, 2)
    run = Run.load(ring_run)
    torch.testing.assert_close(run.sample(30, seed=0, label=5), torch.from_numpy(np.load(out)))
    assert not torch.equal(run.sample(30, seed=0, label=5), run.sample(30, seed=0, label=1))
    capsys.readouterr()
    assert main(["sample", str(ring_run), "-n", "3", "--class", "8", "-o", str(tmp_path / "t.npy")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "[0, 7]" in err and not (tmp_path / "t.npy").exists()


def test_gan_sample_labels_per_sample(ring_run):
    gan = GAN.load(ring_run)
    x = gan.sample(6, seed=3, labels=[2, 0, 2, 7, 0, 2])
    per = {k: gan.sample(n, seed=3, labels=k) for k, n in ((2, 3), (0, 2), (7, 1))}
    torch.testing.assert_close(x[[0, 2, 5]], per[2])
    torch.testing.assert_close(x[[1, 4]], per[0])
    torch.testing.assert_close(x[[3]], per[7])
    with pytest.raises(Exception, match="6 integer classes"):
        gan.sample(6, labels=[0.5] * 6)


class Spy(Objective):
    """Records what the discriminator step is given."""

    def __init__(self):
        self.seen = []

    def discriminator_loss(self, D, real, fake):
        self.seen.append((real.detach().clone(), fake.detach().clone()))
        return D(real).mean() - D(fake).mean(), {}

    def generator_loss(self, D, fake):
        return -D(fake).mean()


def test_labels_flow_real_classes_reach_d_with_their_samples():
    cfg = apply_overrides(RunConfig(), [*TINY, "model.conditional=projection", "train.batch_size=64"])
    parts = build(cfg)
    spy = Spy()
    trainer = Trainer(parts.G, parts.D, spy, parts.source, cfg.train)
    trainer.train_step()
    real, fake = spy.seen[0]
    assert real.shape == fake.shape == (64, 2 + 8)
    labels = real[:, 2:].argmax(1)
    nearest = torch.cdist(real[:, :2], ring8().centres).argmin(1)
    assert torch.equal(labels, nearest)  # each real sample carries its own mode as class
    assert torch.equal(fake[:, 2:], real[:, 2:])  # the D step draws fakes for the real batch's classes


def test_acgan_trains_and_logs_its_loss(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--data", "grid25", "--conditional", "acgan", "--out", str(out), "--json",
                 *sets("train.log_every=3")]) == 0
    hist = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert any("ac_loss" in h for h in hist)
    assert len(json.loads((out / "metrics.json").read_text())["class_in_mode_per_class"]) == 25


def test_digits_conditional_image_metrics(tmp_path, monkeypatch):
    monkeypatch.setitem(clf.RECIPE, "epochs", 1)
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(clf, "_MEMO", {})
    out = tmp_path / "run"
    assert main(["train", "--data", "digits", "--conditional", "--steps", "2", "--out", str(out), "--json",
                 "--set", "model.channels=4", "--set", "eval.n_samples=60", "--set", "train.eval_every=0"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert len(m["class_coverage_per_class"]) == 10 and 0 <= m["class_coverage"] <= 1
    assert len(m["intra_fd_per_class"]) == 10 and m["intra_fd"] > 0
    assert "One row per class" in (out / "report.html").read_text()
    assert main(["sample", str(out), "-n", "4", "--class", "7", "-o", str(tmp_path / "s.npy")]) == 0
    assert np.load(tmp_path / "s.npy").shape == (4, 1, 8, 8)


def test_labelled_npz_trains(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    x = np.stack([y * 2.0, -y * 1.0], 1) + 0.1 * rng.standard_normal((300, 2))
    np.savez(tmp_path / "pts.npz", x=x, y=y)
    out = tmp_path / "run"
    assert main(["train", "--data", f"npz:{tmp_path / 'pts.npz'}", "--conditional", "--out", str(out), "--json",
                 *sets()]) == 0
    assert main(["sample", str(out), "-n", "5", "--class", "2", "-o", str(tmp_path / "s.npy")]) == 0


@pytest.mark.parametrize("y,words", [
    (np.array([0.0, 1.0, 1.5, 0.0]), "integer classes"),
    (np.array([0, 1, -1, 0]), "[0, 999]"),
    (np.array([0, 1, 5000, 0]), "[0, 999]"),
    (np.array([0, 1, 1]), "expected (4,)"),
    (np.array([[0, 1], [1, 0]]), "expected (4,)"),
])
def test_bad_labels_refused_in_one_line(tmp_path, capsys, y, words):
    np.savez(tmp_path / "bad.npz", x=np.zeros((4, 2)), y=y)
    out = tmp_path / "run"
    assert main(["train", "--data", f"npz:{tmp_path / 'bad.npz'}", "--conditional", "--out", str(out),
                 *sets()]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("argv,words", [
    (["--data", "spiral", "--conditional"], "needs labelled data"),
    (["--data", "ring8", "--conditional", "--set", "model.pack=2"], "model.pack=1"),
    (["--data", "ring8", "--set", "model.conditional=yes"], "model.conditional"),
])
def test_conditional_refusals(tmp_path, capsys, argv, words):
    assert main(["train", *argv, "--out", str(tmp_path / "run"), *sets()]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and not (tmp_path / "run").exists()


def test_seeds_refuses_conditional(tmp_path, capsys):
    assert main(["train", "--data", "ring8", "--conditional", "--seeds", "2", "--out", str(tmp_path / "r"),
                 *sets()]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "model.conditional" in err


def test_resume_continues_a_conditional_run_bit_for_bit(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["train", "--data", "ring8", "--conditional", "--out", str(a), "--json",
                 *sets("train.checkpoint_every=3", "train.lr_schedule=constant")]) == 0
    assert main(["train", "--data", "ring8", "--conditional", "--out", str(b), "--json",
                 *sets("train.checkpoint_every=3", "train.lr_schedule=constant", "train.steps=3")]) == 0
    assert main(["train", "--resume", str(b), "--steps", "6", "--json"]) == 0
    ra, rb = Run.load(a), Run.load(b)
    for key, value in ra.parts.G.state_dict().items():
        assert torch.equal(value, rb.parts.G.state_dict()[key]), key
    for key, value in ra.parts.D.state_dict().items():
        assert torch.equal(value, rb.parts.D.state_dict()[key]), key
