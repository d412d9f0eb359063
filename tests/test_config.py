import dataclasses

import pytest

from gankit.config import RunConfig, apply_overrides, dumps_toml, load_toml, loads_toml
from gankit.errors import GankitError


def test_toml_round_trip_of_every_field(tmp_path):
    cfg = apply_overrides(RunConfig(), ["train.steps=7", "train.lr_g=2e-4", "model.activation=tanh",
                                        "data.name=0.5*N(-1,0.3) + 0.5*N(1,0.3)", "train.progress=false"])
    text = dumps_toml(cfg)
    assert loads_toml(text) == cfg
    p = tmp_path / "run.toml"
    p.write_text(text)
    assert load_toml(p) == cfg


def test_partial_toml_takes_defaults(tmp_path):
    p = tmp_path / "p.toml"
    p.write_text("[train]\nsteps = 11\n")
    cfg = load_toml(p)
    assert cfg.train.steps == 11
    assert cfg.model == RunConfig().model


def test_int_widens_to_float_but_not_reverse():
    assert apply_overrides(RunConfig(), ["train.lr_g=1"]).train.lr_g == 1.0
    with pytest.raises(GankitError, match="integer"):
        apply_overrides(RunConfig(), ["train.steps=1.5"])


@pytest.mark.parametrize(
    "override, match",
    [
        ("train.stepz=3", "unknown config key train.stepz"),
        ("trian.steps=3", "unknown config section"),
        ("steps=3", "section.key"),
        ("train.steps=abc", "integer"),
        ("train.steps=0", ">= 1"),
        ("train.lr_d=-1", "positive"),
        ("train.beta1=1.0", r"\[0, 1\)"),
        ("train.optimizer=lbfgs", "adam, rmsprop, sgd"),
        ("train.progress=3", "true or false"),
        ("model.activation=gelu", "relu"),
        ("noequals", "section.key=value"),
    ],
)
def test_bad_overrides_name_the_problem(override, match):
    with pytest.raises(GankitError, match=match):
        apply_overrides(RunConfig(), [override])


def test_bad_toml_files(tmp_path):
    with pytest.raises(GankitError, match="does not exist"):
        load_toml(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[train\nsteps=")
    with pytest.raises(GankitError, match="not valid TOML"):
        load_toml(bad)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[training]\nsteps = 3\n")
    with pytest.raises(GankitError, match="unknown config key training"):
        load_toml(unknown)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text("[train]\nsteps = \"many\"\n")
    with pytest.raises(GankitError, match="train.steps must be an integer"):
        load_toml(wrong)


def test_config_is_frozen():
    cfg = RunConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.train.steps = 3  # type: ignore[misc]
