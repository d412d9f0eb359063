"""The run config: TOML round trips, overrides, every field's declared limits and their one-line messages."""

import dataclasses
import math
import re

import pytest

from gankit.config import (
    EvalConfig,
    ModelConfig,
    RunConfig,
    VAEConfig,
    apply_overrides,
    dumps_toml,
    load_toml,
    loads_toml,
    to_dict,
)
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


# Today's hostile-input limits, written out independently of the field declarations:
# key -> (smallest accepted, largest accepted); None = unbounded on that side.
INT_LIMITS = {
    "model.latent_dim": (1, 8192), "model.g_width": (1, 8192), "model.d_width": (1, 8192),
    "model.g_depth": (1, 64), "model.d_depth": (1, 64), "model.channels": (1, 256), "model.pack": (1, 64),
    "vae.kl_warmup": (0, None), "train.steps": (1, None), "train.batch_size": (1, 2**20),
    "train.d_steps": (1, 1000), "train.seed": (0, 2**62), "train.eval_every": (0, None),
    "train.checkpoint_every": (0, None), "train.keep_checkpoints": (1, None), "train.health_every": (1, None),
    "train.max_rollbacks": (0, None), "train.collapse_patience": (1, None), "eval.n_samples": (1, 10**7),
    "eval.w1_samples": (1, 5000), "eval.seed": (0, 2**62), "eval.polarity_pool": (1, 1000), "eval.drs": (0, 100_000),
    "train.threads": (0, 1024), "train.log_every": (0, 10**6), "objective.r1_every": (1, 10**6),
}


@pytest.mark.parametrize("key", sorted(INT_LIMITS))
def test_integer_limits_accept_their_bounds_and_refuse_one_past(key):
    lo, hi = INT_LIMITS[key]
    section, name = key.split(".")
    assert getattr(getattr(apply_overrides(RunConfig(), {key: lo}), section), name) == lo
    with pytest.raises(GankitError, match=rf"^{re.escape(key)} must be (>= |in \[){lo}"):
        apply_overrides(RunConfig(), {key: lo - 1})
    if hi is not None:
        apply_overrides(RunConfig(), {key: hi})
        with pytest.raises(GankitError, match=rf"^{re.escape(key)} must be in \["):
            apply_overrides(RunConfig(), {key: hi + 1})


# float key -> (a refused value, a fragment of its message)
FLOAT_LIMITS = {
    "model.scale": (0.0, "a positive number"), "vae.beta": (-1e-9, "a number >= 0"),
    "objective.clip": (0.0, "a positive number"), "objective.gp_weight": (-1.0, "a number >= 0"),
    "objective.gp_target": (0.0, "a positive number"), "objective.label_smoothing": (1.5, "in [0, 1]"),
    "objective.r1": (-1.0, "a number >= 0"), "objective.r2": (-1.0, "a number >= 0"),
    "train.lr_g": (0.0, "a positive number"), "train.lr_d": (-1.0, "a positive number"),
    "train.beta1": (1.0, "in [0, 1)"), "train.beta2": (-0.1, "in [0, 1)"),
    "train.nan_lr_factor": (1.0, "in (0, 1)"), "train.collapse_threshold": (-1.0, "a number >= 0"),
    "train.ema": (1.0, "in [0, 1) (0 = off)"), "train.lr_final": (1.5, "in [0, 1]"),
    "eval.polarity": (10.5, "in [-10, 10]"), "eval.hpd": (0.0, "in (0, 1]"), "eval.drs_bandwidth": (1001.0, "in (0, 1000]"),
}


@pytest.mark.parametrize("key", sorted(FLOAT_LIMITS))
def test_float_limits_and_finiteness(key):
    bad, words = FLOAT_LIMITS[key]
    with pytest.raises(GankitError, match=rf"^{re.escape(key)} must be {re.escape(words)}.*, got {bad}$"):
        apply_overrides(RunConfig(), {key: bad})
    for v in (math.nan, math.inf, -math.inf):
        with pytest.raises(GankitError, match=rf"^{re.escape(key)} must be "):
            apply_overrides(RunConfig(), {key: v})


def test_every_float_and_int_field_is_covered_by_the_limit_tables():
    numeric = {f"{s}.{k}" for s, sec in to_dict(RunConfig()).items() for k, v in sec.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool)}
    assert numeric == set(INT_LIMITS) | set(FLOAT_LIMITS)


@pytest.mark.parametrize("override, message", [
    ("train.steps=0", "train.steps must be >= 1, got 0"),
    ("train.optimizer='x'", "train.optimizer must be one of adam, rmsprop, sgd; got 'x'"),
    ("train.lr_g=-2", "train.lr_g must be a positive number, got -2.0"),
    ("train.seed=-1", "train.seed must be in [0, 2**62], got -1"),
    ("eval.w1_samples=5001", "eval.w1_samples must be in [1, 5000] (exact EMD), got 5001"),
    ("eval.polarity=inf", "eval.polarity must be a finite number in [-10, 10] (0 = plain sampling), got inf"),
    ("train.device='cuda:x'", "train.device must be cpu, cuda, cuda:N or auto; got 'cuda:x'"),
    ("data.name='  '", "data.name must not be empty; see 'gankit list' for the data sources"),
    ("objective.name=''", "objective.name must not be empty; see 'gankit list' for the objectives"),
    ("vae.likelihood='poisson'", "vae.likelihood must be one of gaussian, bernoulli; got 'poisson'"),
])
def test_messages_are_one_line_naming_key_accepted_values_and_value(override, message):
    with pytest.raises(GankitError) as exc:
        apply_overrides(RunConfig(), [override])
    assert str(exc.value) == message


@pytest.mark.parametrize("key", ["data.name", "data.path", "model.name", "objective.name"])
def test_control_characters_are_refused_in_free_text(key):
    with pytest.raises(GankitError, match=rf"^{re.escape(key)} must not contain control characters"):
        apply_overrides(RunConfig(), {key: "ring\x008"})
    with pytest.raises(GankitError, match="control characters"):
        apply_overrides(RunConfig(), {key: "a\x85b"})  # C1 control


def test_at_most_one_sampler():
    for one in ({"eval.polarity": -1.0}, {"eval.hpd": 0.5}, {"eval.drs": 10}):
        apply_overrides(RunConfig(), one)
    with pytest.raises(GankitError, match="at most one sampler"):
        apply_overrides(RunConfig(), {"eval.hpd": 0.5, "eval.drs": 10})
    with pytest.raises(GankitError, match="at most one sampler"):
        EvalConfig(polarity=-1.0, hpd=0.9)


def test_sections_check_themselves_when_built_directly():
    with pytest.raises(GankitError, match="model.g_width must be in"):
        ModelConfig(g_width=0)
    with pytest.raises(GankitError, match="vae.kl_warmup must be >= 0"):
        VAEConfig(kl_warmup=-1)


def test_vae_options_live_in_their_own_section(tmp_path):
    assert "vae" not in {f.name for f in dataclasses.fields(ModelConfig)}
    cfg = apply_overrides(RunConfig(), ["vae.likelihood=bernoulli", "vae.beta=4", "vae.kl_warmup=0"])
    assert cfg.vae == VAEConfig(likelihood="bernoulli", beta=4.0, kl_warmup=0)
    assert "[vae]\nlikelihood = \"bernoulli\"\nbeta = 4.0\nkl_warmup = 0\n" in dumps_toml(cfg)
    assert loads_toml(dumps_toml(cfg)) == cfg


@pytest.mark.parametrize("old, new", [("model.beta", "vae.beta"), ("model.likelihood", "vae.likelihood"),
                                      ("model.kl_warmup", "vae.kl_warmup")])
def test_moved_keys_name_their_new_place(tmp_path, old, new):
    with pytest.raises(GankitError, match=rf"^{re.escape(old)} moved to {re.escape(new)}"):
        apply_overrides(RunConfig(), [f"{old}=1"])
    p = tmp_path / "old.toml"
    p.write_text(f"[model]\n{old.split('.')[1]} = 1\n")
    with pytest.raises(GankitError, match=rf"^{re.escape(old)} moved to {re.escape(new)}"):
        load_toml(p)


def test_strings_with_quotes_and_unicode_round_trip_through_toml():
    cfg = apply_overrides(RunConfig(), {"data.path": 'dir "a"\\b/ü€😀'})
    assert loads_toml(dumps_toml(cfg)) == cfg
