"""Combinations that resolve refuses in one line: an auto-encoder with a GAN objective."""

from __future__ import annotations

import pytest

from gankit.cli import main
from gankit.errors import GankitError
from gankit.run import resolve


@pytest.mark.parametrize("args", [
    ["--model", "vae", "--objective", "wgan"],
    ["--model", "vae-conv", "--data", "digits", "--objective", "ns"],
    ["--model", "autoencoder", "--set", "objective.name=hinge"],
])
def test_an_autoencoder_with_a_gan_objective_is_one_line_exit_2(tmp_path, capsys, args):
    out = tmp_path / "run"
    code = main(["train", "--out", str(out), "--steps", "2", *args])
    _, err = capsys.readouterr()
    assert code == 2 and "auto-encoder" in err and "takes no objective" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


def test_an_autoencoder_config_written_by_print_config_still_resolves(tmp_path, capsys):
    assert main(["train", "--model", "vae", "--print-config"]) == 0
    text = capsys.readouterr().out
    assert 'name = "ns"' in text  # the dump states the default objective
    path = tmp_path / "vae.toml"
    path.write_text(text)
    assert resolve(config_file=path).cfg.model.name == "vae"
    path.write_text(text.replace('name = "ns"', 'name = "wgan"'))
    with pytest.raises(GankitError, match="takes no objective"):
        resolve(config_file=path)


def test_a_gan_model_with_an_objective_and_a_vae_alone_resolve():
    assert resolve(flags={"model.name": "mlp", "objective.name": "wgan"}).cfg.objective.name == "wgan"
    assert resolve(flags={"model.name": "vae"}).cfg.model.name == "vae"
