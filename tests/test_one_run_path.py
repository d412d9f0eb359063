"""One run path: the CLI, the Python API and --seeds resolve and train through the same Run.

Checked here: a flag changes only the keys it names; ``GAN()`` resolves exactly as ``gankit
train``; ``GAN(config=cfg)`` trains ``cfg``; a run written by ``GAN.fit(out=)`` is read by
``gankit eval``; ``GAN.load(d).sample(n, seed=s)`` equals ``gankit sample d -n n --seed s``;
``--seeds 2`` runs the default preset.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict

import numpy as np
import pytest
import torch

from gankit import GAN, VAE, GankitError
from gankit.cli import main
from gankit.config import RunConfig, apply_overrides, loads_toml
from gankit.run import preset_names, resolve

#: small and fast, without changing the preset's structure (pack, R1, EMA, LR schedule stay)
TINY = ["train.steps=12", "train.eval_every=6", "train.checkpoint_every=6", "model.g_width=16", "model.d_width=16",
        "model.g_depth=1", "model.d_depth=1", "train.batch_size=16", "eval.n_samples=200", "eval.w1_samples=50",
        "train.progress=false"]


def _flat(cfg: RunConfig) -> dict[str, object]:
    return {f"{s}.{k}": v for s, sec in asdict(cfg).items() for k, v in sec.items()}


def _printed(capsys, *argv: str) -> dict[str, object]:
    assert main(["train", *argv, "--print-config"]) == 0
    return _flat(loads_toml(capsys.readouterr().out))


@pytest.mark.parametrize("flag, value, key", [
    ("--device", "cpu", "train.device"), ("--steps", "77", "train.steps"), ("--seed", "5", "train.seed"),
    ("--objective", "hinge", "objective.name"), ("--objective", "minimax", "objective.name"),
    ("--data", "grid25", "data.name"), ("--model", "mlp", "model.name"),
    ("--set", "train.lr_d=0.0005", "train.lr_d"), ("--set", "eval.n_samples=99", "eval.n_samples"),
])
def test_a_flag_changes_only_its_own_key(capsys, flag, value, key):
    base = _printed(capsys)
    changed = _printed(capsys, flag, value)
    assert {k for k in base if base[k] != changed[k]} <= {key}
    assert changed["model.pack"] == 2 and changed["objective.r1"] == 0.01 and changed["train.ema"] == 0.999


def test_an_objective_brings_only_its_own_defaults(capsys):
    base = _printed(capsys)
    wgan = _printed(capsys, "--objective", "wgan")
    own = {"objective.name", "train.optimizer", "train.lr_g", "train.lr_d", "train.d_steps", "objective.r1", "objective.clip"}
    assert {k for k in base if base[k] != wgan[k]} == own
    assert wgan["objective.r1"] == 0.0 and wgan["train.ema"] == 0.999  # wgan turns R1 off; EMA stays
    mine = _printed(capsys, "--objective", "wgan", "--set", "train.lr_d=0.002")
    assert mine["train.lr_d"] == 0.002  # what you set wins over the objective's defaults


def test_print_config_names_the_preset_and_every_preset_resolves(capsys):
    assert main(["train", "--print-config"]) == 0
    assert capsys.readouterr().out.startswith("# preset: default\n")
    assert {"default", "plain", "images", "compare", "ring8-fast", "grid25-fast", "ring8-best",
            "grid25-best"} <= set(preset_names())
    for name in preset_names():
        assert _printed(capsys, "--preset", name) == _flat(resolve(name).cfg)
    plain = resolve("plain").cfg
    assert plain == RunConfig()  # plain Algorithm 1: the library's defaults, nothing else
    assert main(["train", "--preset", "defualt", "--print-config"]) == 2
    assert "did you mean 'default'" in capsys.readouterr().err


def test_api_defaults_equal_the_cli(capsys):
    assert GAN()._resolve(None) == loads_toml(_printed_text(capsys))
    assert GAN(objective="wgan", steps=50)._resolve(None) == loads_toml(
        _printed_text(capsys, "--objective", "wgan", "--steps", "50"))
    assert GAN()._resolve("digits") == loads_toml(_printed_text(capsys, "--data", "digits"))


def _printed_text(capsys, *argv: str) -> str:
    assert main(["train", *argv, "--print-config"]) == 0
    return capsys.readouterr().out


def test_gan_with_a_config_trains_that_config(tmp_path):
    cfg = apply_overrides(RunConfig(), TINY + ["data.name=grid25", "objective.name=hinge", "model.name=mlp",
                                                "model.latent_dim=3"])
    gan = GAN(config=cfg).fit(out=tmp_path / "run")
    assert gan.config_ == cfg
    assert loads_toml((tmp_path / "run" / "config.toml").read_text()) == cfg
    assert gan.generator_.latent_dim == 3 and gan.sample(4).shape == (4, 2)


def test_gan_fit_out_is_read_by_gankit_eval_and_sample(tmp_path, capsys):
    out = tmp_path / "run"
    gan = GAN(**{k: v for k, v in (t.split("=") for t in [])}, **_tiny_params()).fit(out=out)
    assert (out / "metrics.json").is_file() and (out / "config.toml").is_file()
    assert main(["eval", str(out), "--json", "-n", "200"]) == 0
    ev = json.loads(capsys.readouterr().out)
    assert ev["step"] == 12 and ev["modes"] == gan.evaluate(200)["modes"]
    loaded = GAN.load(out)
    assert loaded.n_steps_ == 12
    assert main(["sample", str(out), "-n", "50", "--seed", "3", "-o", str(tmp_path / "x.npy")]) == 0
    cli = np.load(tmp_path / "x.npy")
    assert np.array_equal(loaded.sample(50, seed=3).numpy(), cli)
    assert torch.equal(gan.sample(50, seed=3), loaded.sample(50, seed=3))  # the EMA generator, as saved


def _tiny_params() -> dict[str, object]:
    return {k: loads_value(v) for k, v in (t.split("=", 1) for t in TINY)}


def loads_value(text: str) -> object:
    return tomllib.loads(f"v = {text}")["v"]


def test_api_fit_in_memory_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    gan = GAN(**_tiny_params()).fit()
    assert gan.run_.out is None and not any(tmp_path.iterdir())
    assert gan.history_[-1]["step"] == 12


def test_api_sampling_refuses_a_seed_past_the_limit(tmp_path):
    gan = GAN(**_tiny_params()).fit()
    with pytest.raises(GankitError, match=r"seed must be in \[0, 2\*\*62\]"):
        gan.sample(3, seed=2**64)
    with pytest.raises(GankitError, match="seed must be"):
        gan.evaluate(10, seed=-1)


def test_load_refuses_what_is_not_a_run(tmp_path):
    with pytest.raises(GankitError, match="does not exist"):
        GAN.load(tmp_path / "missing")
    GAN(**_tiny_params()).fit(out=tmp_path / "gan")
    with pytest.raises(GankitError, match="is not a VAE .*; use gankit.GAN"):
        VAE.load(tmp_path / "gan")
    with pytest.raises(GankitError, match="model 'mlp' is not a VAE"):
        VAE(model="mlp")._fit("ring8", None)


def test_seeds_2_runs_the_default_preset(tmp_path, capsys):
    out = tmp_path / "seeds"
    argv = ["train", "--seeds", "2", "--out", str(out), "--json"] + [a for t in TINY for a in ("--set", t)]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["seeds"] == [0, 1]
    for s in (0, 1):
        cfg = loads_toml((out / f"seed{s}" / "config.toml").read_text())
        assert cfg.model.pack == 2 and cfg.objective.r1 == 0.01 and cfg.train.ema == 0.999
        assert cfg.train.lr_schedule == "linear" and cfg.train.seed == s
