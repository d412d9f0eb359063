"""`gankit train --model vae`: run directory, bit-exact resume, sampling and evaluation of a VAE run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from gankit.cli import main
from gankit.config import RunConfig, apply_overrides
from gankit.run import Run
from gankit.train.checkpoint import load_latest

torch.set_num_threads(1)

FAST = ["--set", "eval.n_samples=300", "--set", "eval.w1_samples=100", "--no-progress"]


def _history(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]


def test_vae_on_digits_fills_the_run_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "digits"
    rc = main(["train", "--model", "vae", "--data", "digits", "--steps", "30", "--out", str(run),
               "--set", "train.eval_every=10", "--set", "model.latent_dim=4", "--set", "vae.kl_warmup=0", "--set", "model.g_width=64", "--set", "model.d_width=64",
               "--json", *FAST])
    assert rc == 0
    final = json.loads(capsys.readouterr().out)
    for name in ("config.toml", "metrics.json", "history.jsonl", "samples.png", "reconstructions.png", "losses.png"):
        assert (run / name).is_file(), name
    assert final["objective"] == "vae" and final["step"] == 30
    hist = _history(run)
    assert [r["step"] for r in hist] == [10, 20, 30]
    for r in hist:
        for k in ("loss", "recon", "kl", "elbo", "eval_elbo", "eval_recon", "eval_kl"):
            assert np.isfinite(r[k]), k
        # without KL warm-up the logged training ELBO is minus the loss (beta = 1)
        assert abs(r["elbo"] + r["loss"]) < 1e-4 * abs(r["loss"])
        assert abs(r["eval_elbo"] + r["eval_recon"] + r["eval_kl"]) < 1e-6 * abs(r["eval_elbo"])
    # learning: the held-out-style ELBO (fixed data draws, fixed noise) rises
    assert hist[-1]["eval_elbo"] > hist[0]["eval_elbo"]
    assert load_latest(run / "checkpoints")["step"] == 30


def test_vae_on_ring8_sample_and_eval(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "ring"
    assert main(["train", "--model", "vae", "--data", "ring8", "--steps", "30", "--out", str(run),
                 "--set", "model.g_width=32", "--set", "model.d_width=32", *FAST]) == 0
    assert (run / "samples.png").is_file() and (run / "losses.png").is_file()
    capsys.readouterr()
    a, b, c = tmp_path / "a.npy", tmp_path / "b.npy", tmp_path / "c.npy"
    for path, seed in ((a, 3), (b, 3), (c, 4)):
        assert main(["sample", str(run), "-n", "50", "--seed", str(seed), "-o", str(path)]) == 0
    xa, xb, xc = np.load(a), np.load(b), np.load(c)
    assert xa.shape == (50, 2)
    assert np.array_equal(xa, xb)
    assert not np.array_equal(xa, xc)
    capsys.readouterr()
    assert main(["eval", str(run), "-n", "200", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["step"] == 30 and out["objective"] == "vae"
    for k in ("modes", "w1", "eval_elbo", "eval_kl"):
        assert k in out


def _cfg(steps: int) -> RunConfig:
    return apply_overrides(RunConfig(), {
        "model.name": "vae", "data.name": "ring8", "model.g_width": 32, "model.d_width": 32,
        "train.steps": steps, "train.eval_every": 10, "train.checkpoint_every": 0, "train.progress": False,
        "eval.n_samples": 200, "eval.w1_samples": 50})


def test_resumed_vae_run_matches_uninterrupted_bit_for_bit(tmp_path: Path) -> None:
    Run(_cfg(40), tmp_path / "straight").fit(pictures=False)
    Run(_cfg(20), tmp_path / "split").fit(pictures=False)
    Run(_cfg(40), tmp_path / "split").fit(resume=True, pictures=False)
    a, b = load_latest(tmp_path / "straight" / "checkpoints"), load_latest(tmp_path / "split" / "checkpoints")
    assert a["step"] == b["step"] == 40
    for part in ("G", "D"):
        assert a[part].keys() == b[part].keys()
        for k in a[part]:
            assert torch.equal(a[part][k], b[part][k]), (part, k)
    # the history of the resumed run continues the first part's records
    assert [r["step"] for r in _history(tmp_path / "split")] == [10, 20, 30, 40]


def test_bad_vae_settings_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for bad, needle in (("vae.likelihood=poisson", "vae.likelihood must be one of gaussian, bernoulli"),
                        ("vae.beta=-1", "vae.beta must be a number >= 0"),
                        ("model.beta=2", "model.beta moved to vae.beta")):
        rc = main(["train", "--model", "vae", "--steps", "2", "--out", str(tmp_path / "x"), "--set", bad, *FAST])
        assert rc == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith(f"gankit: error: {needle}"), err


def test_kl_warmup_weights_the_kl_linearly() -> None:
    from gankit.run import build
    from gankit.train.vae_trainer import VAETrainer

    cfg = apply_overrides(_cfg(3), {"vae.kl_warmup": 4, "vae.beta": 2.0})
    b = build(cfg)
    t = VAETrainer(b.G, b.D, None, b.source, cfg.train)
    for step in range(3):
        t.train_step()
        t.step += 1
        loss, recon, kl = (float(t.pending[k][-1]) for k in ("loss", "recon", "kl"))
        assert abs(loss - (recon + 2.0 * (step + 1) / 4 * kl)) < 1e-5 * max(1.0, abs(loss))
