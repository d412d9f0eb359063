"""End to end: `gankit train --data digits` (a few steps) fills the run directory with image metrics and
sample grids, `gankit eval --json` scores it, and image data get the image defaults."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

torch.set_num_threads(1)  # 2 shared cores: no thread oversubscription

import gankit.metrics.classifier as clf
from gankit.cli import main
from gankit.commands.train import resolve_config
from gankit.run import data_name_for, is_image_data, resolve


@pytest.fixture
def quick(monkeypatch, tmp_path):
    monkeypatch.setitem(clf.RECIPE, "epochs", 1)  # a 1-epoch feature classifier keeps the test short
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(clf, "_MEMO", {})


def _args(argv):
    from gankit.cli import build_parser

    return build_parser().parse_args(["train", *argv])


def test_digits_run_and_eval(tmp_path, capsys, quick):
    out = tmp_path / "run"
    rc = main(["train", "--data", "digits", "--steps", "4", "--set", "train.eval_every=2", "--set", "model.channels=4",
               "--set", "eval.n_samples=200", "--out", str(out), "--json"])
    assert rc == 0
    final = json.loads(capsys.readouterr().out)
    for key in ("frechet_distance", "frechet_floor", "classes_covered", "precision", "recall", "parzen_ll",
                "feature_net", "fd_samples", "fd_reference"):
        assert key in final
    assert "modes" not in final and "w1" not in final
    assert final["fd_samples"] == 200
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["step_0000002.png", "step_0000004.png"]
    assert (out / "samples.png").is_file()
    from PIL import Image

    assert Image.open(out / "samples.png").size[0] >= 400
    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert [r["step"] for r in history] == [2, 4]
    assert "dcgan" not in (out / "config.toml").read_text()  # model.name stays "auto" in the config
    rc = main(["eval", str(out), "--json", "-n", "200"])
    assert rc == 0
    ev = json.loads(capsys.readouterr().out)
    assert ev["frechet_floor"] == pytest.approx(final["frechet_floor"])
    assert ev["frechet_distance"] == pytest.approx(final["frechet_distance"])
    assert ev["classes_covered"] == final["classes_covered"]


def test_image_data_take_the_images_preset_under_what_you_set(tmp_path):
    images = resolve(preset="images").cfg
    cfg, preset = resolve_config(_args(["--data", "digits", "--steps", "7", "--set", "model.channels=8"]))
    assert preset == "images" and cfg.train.steps == 7 and cfg.model.channels == 8
    assert cfg.model.latent_dim == images.model.latent_dim == 32 and cfg.train.lr_g == images.train.lr_g == 2e-4
    toml = tmp_path / "run.toml"
    toml.write_text("[train]\nbatch_size = 17\n")
    cfg, _ = resolve_config(_args(["--data", "digits", "--config", str(toml)]))
    assert cfg.train.batch_size == 17 and cfg.train.steps == images.train.steps
    toy, preset = resolve_config(_args([]))
    assert preset == "default" and toy.data.name == "ring8" and toy.model.latent_dim == 2
    assert toy.train.batch_size == 128


def test_data_path_maps_to_images(tmp_path, capsys, quick):
    rng = np.random.default_rng(0)
    arr = tmp_path / "tiny.npz"
    np.savez(arr, x=rng.integers(0, 256, size=(40, 8, 8), dtype=np.uint8), y=np.arange(40) % 4)
    assert data_name_for(str(arr)) == f"images:{arr}"
    assert data_name_for("digits") == "digits" and data_name_for("ring8") == "ring8"
    assert is_image_data(f"images:{arr}") and not is_image_data("ring8")
    out = tmp_path / "run"
    rc = main(["train", "--data", str(arr), "--steps", "2", "--set", "model.channels=4", "--set", "eval.n_samples=50",
               "--out", str(out), "--json"])
    assert rc == 0
    final = json.loads(capsys.readouterr().out)
    assert final["fd_reference"] == "test:8" and final["fd_samples"] == 32


def test_bad_image_path_is_one_line_error(tmp_path, capsys):
    rc = main(["train", "--data", f"images:{tmp_path / 'missing'}", "--steps", "1", "--out", str(tmp_path / "r")])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err


def test_default_out_of_an_image_path(tmp_path):
    from gankit.config import RunConfig, apply_overrides
    from gankit.run import default_out

    cfg = apply_overrides(RunConfig(), {"data.name": "images:/some/where/tiny.npz"})
    assert default_out(cfg, tmp_path) == tmp_path / "images-tiny.npz-ns-seed0"


def test_too_few_samples_is_one_line_error(tmp_path, capsys, quick):
    out = tmp_path / "run"
    assert main(["train", "--data", "digits", "--steps", "1", "--set", "model.channels=4", "--set", "eval.n_samples=3",
                 "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "eval.n_samples must be >= 4" in err
    assert not (out / "checkpoints").exists()  # refused before any training
