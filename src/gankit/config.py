"""Typed, frozen, nested run configuration with TOML load/save and dotted overrides.

Each component owns a dataclass (``DataConfig``, ``ModelConfig``, ...); ``RunConfig``
nests them. Command-line overrides ``--set train.steps=5000`` map one-to-one onto dotted
field names. Unknown keys, wrong types and out-of-range values raise
:class:`~gankit.errors.GankitError` before any work starts, and the resolved config is
written into the run directory and every checkpoint.

Example
-------
>>> cfg = apply_overrides(RunConfig(), ["train.steps=10", "model.g_width=64"])
>>> cfg.train.steps, cfg.model.g_width
(10, 64)
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from .errors import GankitError

__all__ = [
    "DataConfig",
    "ModelConfig",
    "ObjectiveConfig",
    "TrainConfig",
    "EvalConfig",
    "RunConfig",
    "apply_overrides",
    "from_dict",
    "to_dict",
    "load_toml",
    "dumps_toml",
    "loads_toml",
]


def _shown(key: str) -> str:
    """A key as it can appear in a one-line message (quoted when it holds odd characters)."""
    return key if _printable(key) and key.strip() == key and key else repr(key)


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise GankitError(msg)


def _printable(text: str) -> bool:
    return not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in text)


@dataclass(frozen=True)
class DataConfig:
    """Where training data comes from."""

    #: a registered source (``gankit list``) or a 1-D mixture spec ``"0.3*N(-2,0.5) + 0.7*N(1,1)"``
    name: str = "ring8"
    #: file or folder for image data (``.npy``, IDX, CIFAR batch, image folder)
    path: str = ""

    def __post_init__(self) -> None:
        _check(bool(self.name.strip()), "data.name must not be empty; see 'gankit list' for the data sources")
        _check(_printable(self.name) and _printable(self.path),
               "data.name and data.path must not contain control characters")


@dataclass(frozen=True)
class ModelConfig:
    """Generator and discriminator architecture."""

    #: a registered model (``gankit list``), or ``auto``: ``dcgan`` for image data (C, H, W), ``mlp`` otherwise
    name: str = "auto"
    latent_dim: int = 2
    g_width: int = 256
    g_depth: int = 3
    d_width: int = 256
    d_depth: int = 3
    #: hidden activation: relu, leaky_relu, elu, tanh, silu
    activation: str = "relu"
    #: spectral normalisation (Miyato et al. 2018) of every Linear/Conv layer of D, with any objective
    spectral_norm: bool = False
    #: VAE only: decoder likelihood p(x|z), gaussian (learned std per feature) or bernoulli (pixels (x+1)/2)
    likelihood: str = "gaussian"
    #: VAE only: weight of the KL term (1 = the ELBO; beta-VAE otherwise)
    beta: float = 1.0
    #: VAE only: raise the KL weight linearly from 0 to beta over this many steps (0 = no warm-up)
    kl_warmup: int = 500
    #: convolutional width of image models (dcgan: channels of G's last and D's first stage)
    channels: int = 64

    #: PacGAN packing: the discriminator judges this many samples jointly (1 = off; Lin et al. 2018)
    pack: int = 1
    #: data scale s of the MLPs: G outputs s·net(z) and D sees x/s, so both work in units of s
    #: (as the WGAN-GP toy code divides grid25 by 2.828); 1 = off
    scale: float = 1.0

    def __post_init__(self) -> None:
        for f in ("latent_dim", "g_width", "g_depth", "d_width", "d_depth", "channels", "pack"):
            _check(getattr(self, f) >= 1, f"model.{f} must be >= 1, got {getattr(self, f)}")
        for f, top in (("latent_dim", 2**16), ("g_width", 2**16), ("d_width", 2**16), ("g_depth", 256),
                       ("d_depth", 256)):
            _check(getattr(self, f) <= top, f"model.{f} must be <= {top}, got {getattr(self, f)}")
        _check(bool(self.name.strip()), "model.name must not be empty; see 'gankit list' for the models")
        _check(math.isfinite(self.scale) and self.scale > 0, f"model.scale must be a positive number, got {self.scale}")
        acts = ("relu", "leaky_relu", "elu", "tanh", "silu")
        _check(self.activation in acts, f"model.activation must be one of {', '.join(acts)}; got {self.activation!r}")
        _check(self.likelihood in ("gaussian", "bernoulli"),
               f"model.likelihood must be gaussian or bernoulli; got {self.likelihood!r}")
        _check(math.isfinite(self.beta) and self.beta >= 0, f"model.beta must be a number >= 0, got {self.beta}")
        _check(self.kl_warmup >= 0, f"model.kl_warmup must be >= 0, got {self.kl_warmup}")


@dataclass(frozen=True)
class ObjectiveConfig:
    """The game: which losses the discriminator and generator minimise."""

    #: ``minimax`` (Goodfellow's saturating game), ``ns`` (non-saturating), ... (``gankit list``)
    name: str = "ns"
    #: ``wgan``: clip every critic weight to [-clip, clip] after each critic step (Arjovsky et al.: 0.01)
    clip: float = 0.01
    #: ``wgan``: the original code's schedule, 100 critic steps for the first 25 generator steps and every 500th
    wgan_warmup: bool = False
    #: ``wgan-gp``: weight λ of the gradient penalty (Gulrajani et al.: 10)
    gp_weight: float = 10.0
    #: ``wgan-gp``: penalise only gradient norms above 1, λ·E[max(0, ‖∇D‖ − 1)²]
    gp_one_sided: bool = False

    #: f-GAN generator loss: ``nonsaturating`` (maximise E_Q[g_f(V)], f-GAN §3.2) or ``saturating`` (minimise the bound)
    generator_loss: str = "nonsaturating"

    #: γ of the zero-centred gradient penalty R1 on real data, γ/2·E‖∇D(x)‖² (Mescheder et al. 2018); 0 = off
    r1: float = 0.0
    #: γ of the same penalty R2 on generated data; 0 = off
    r2: float = 0.0

    def __post_init__(self) -> None:
        kinds = ("nonsaturating", "saturating")
        _check(self.generator_loss in kinds,
               f"objective.generator_loss must be one of {', '.join(kinds)}; got {self.generator_loss!r}")
        _check(math.isfinite(self.clip) and self.clip > 0, f"objective.clip must be a positive number, got {self.clip}")
        _check(math.isfinite(self.gp_weight) and self.gp_weight >= 0,
               f"objective.gp_weight must be a number >= 0, got {self.gp_weight}")
        _check(bool(self.name.strip()) and _printable(self.name),
               f"objective.name must be a registered objective name (see 'gankit list'), got {self.name!r}")
        for f in ("r1", "r2"):
            v = getattr(self, f)
            _check(math.isfinite(v) and v >= 0, f"objective.{f} must be a number >= 0, got {v}")


@dataclass(frozen=True)
class TrainConfig:
    """Algorithm 1: ``d_steps`` discriminator steps with G fixed, then one generator step."""

    steps: int = 3000
    batch_size: int = 256
    #: k in Goodfellow's Algorithm 1
    d_steps: int = 1
    optimizer: str = "adam"
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    seed: int = 0
    device: str = "cpu"
    #: evaluate (metrics, history.jsonl) every N generator steps; 0 = only at the end
    eval_every: int = 500
    #: write a checkpoint every N generator steps; 0 = only at the end
    checkpoint_every: int = 1000
    #: how many checkpoints to keep
    keep_checkpoints: int = 3
    #: show a tqdm progress bar
    progress: bool = True
    #: save a picture of D, samples and G's gradient field at every evaluation (1-D/2-D data):
    #: ``frames/step_XXXXXXX.png`` and the animation ``training.gif``
    snapshots: bool = True
    #: log scalars and frames for TensorBoard into ``tensorboard/`` (needs ``pip install gankit[tensorboard]``)
    tensorboard: bool = False
    #: compile the discriminator and generator steps with ``torch.compile`` (docs/speed.md)
    compile: bool = False
    #: autocast precision: fp32, bf16, fp16 (fp16 only on CUDA, with a GradScaler)
    precision: str = "fp32"
    #: sync the non-finite check every N steps (and at every checkpoint and evaluation); see train/health.py
    health_every: int = 50
    #: what to do when a loss, weight or gradient goes non-finite: stop (exit 3) or rollback
    on_nan: str = "stop"
    #: on rollback, multiply both learning rates by this factor
    nan_lr_factor: float = 0.5
    #: rollbacks allowed before stopping
    max_rollbacks: int = 3
    #: warn when mean |d_loss| stays below this for collapse_patience check windows
    collapse_threshold: float = 1e-3
    collapse_patience: int = 5
    #: β of an exponential moving average of G's weights used for eval/sampling (Yazıcı et al. 2019); 0 = off
    ema: float = 0.0
    #: learning-rate schedule of both players: constant, linear or cosine (decay to lr_final × lr)
    lr_schedule: str = "constant"
    #: final learning rate as a fraction of the initial one (linear/cosine schedules)
    lr_final: float = 0.01

    def __post_init__(self) -> None:
        _check(self.steps >= 1, f"train.steps must be >= 1, got {self.steps}")
        _check(self.batch_size >= 1, f"train.batch_size must be >= 1, got {self.batch_size}")
        _check(self.d_steps >= 1, f"train.d_steps must be >= 1, got {self.d_steps}")
        opts = ("adam", "rmsprop", "sgd")
        _check(self.optimizer in opts, f"train.optimizer must be one of {', '.join(opts)}; got {self.optimizer!r}")
        for f in ("lr_g", "lr_d"):
            v = getattr(self, f)
            _check(math.isfinite(v) and v > 0, f"train.{f} must be a positive number, got {v}")
        for f in ("beta1", "beta2"):
            v = getattr(self, f)
            _check(0.0 <= v < 1.0, f"train.{f} must be in [0, 1), got {v}")
        _check(self.seed >= 0, f"train.seed must be >= 0, got {self.seed}")
        _check(re.fullmatch(r"cpu|auto|cuda(:\d{1,3})?", self.device) is not None,
               f"train.device must be cpu, cuda, cuda:N or auto; got {self.device!r}")
        for f in ("eval_every", "checkpoint_every"):
            _check(getattr(self, f) >= 0, f"train.{f} must be >= 0, got {getattr(self, f)}")
        precs = ("fp32", "bf16", "fp16")
        _check(self.precision in precs, f"train.precision must be one of {', '.join(precs)}; got {self.precision!r}")
        _check(0.0 <= self.ema < 1.0, f"train.ema must be in [0, 1) (0 = off), got {self.ema}")
        scheds = ("constant", "linear", "cosine")
        _check(self.lr_schedule in scheds,
               f"train.lr_schedule must be one of {', '.join(scheds)}; got {self.lr_schedule!r}")
        _check(math.isfinite(self.lr_final) and 0.0 <= self.lr_final <= 1.0,
               f"train.lr_final must be in [0, 1], got {self.lr_final}")
        _check(self.keep_checkpoints >= 1, f"train.keep_checkpoints must be >= 1, got {self.keep_checkpoints}")
        _check(self.seed <= 2**62, f"train.seed must be <= 2**62, got {self.seed}")
        _check(self.batch_size <= 2**20, f"train.batch_size must be <= 2**20, got {self.batch_size}")
        _check(self.d_steps <= 1000, f"train.d_steps must be <= 1000, got {self.d_steps}")
        _check(self.health_every >= 1, f"train.health_every must be >= 1, got {self.health_every}")
        _check(self.on_nan in ("stop", "rollback"), f"train.on_nan must be stop or rollback; got {self.on_nan!r}")
        _check(math.isfinite(self.nan_lr_factor) and 0 < self.nan_lr_factor < 1,
               f"train.nan_lr_factor must be in (0, 1), got {self.nan_lr_factor}")
        _check(self.max_rollbacks >= 0, f"train.max_rollbacks must be >= 0, got {self.max_rollbacks}")
        _check(math.isfinite(self.collapse_threshold) and self.collapse_threshold >= 0,
               f"train.collapse_threshold must be a number >= 0, got {self.collapse_threshold}")
        _check(self.collapse_patience >= 1, f"train.collapse_patience must be >= 1, got {self.collapse_patience}")


@dataclass(frozen=True)
class EvalConfig:
    """How runs are scored."""

    #: samples scored by the mode-coverage metrics (PacGAN: 2,500)
    n_samples: int = 2500
    #: samples per side for the exact W1 distance (POT network simplex)
    w1_samples: int = 1000
    #: seed of the evaluation noise (independent of the training streams)
    seed: int = 12345
    #: polarity sampling exponent rho (gankit.sampling; Humayun et al. 2022): 0 = the plain
    #: generator, < 0 favours its modes; metrics are then reported for both samplers
    polarity: float = 0.0
    #: latents drawn per sample kept by polarity sampling
    polarity_pool: int = 10
    #: sample the generator's highest-density region holding this fraction of its samples
    #: (gankit.sampling.hpd_sample); 1 = the plain generator
    hpd: float = 1.0
    #: discriminator rejection sampling (gankit.sampling.drs_sample; Azadi et al. 2019): steps
    #: fitting a fresh density-ratio classifier to the final generator; 0 = off. Only the final
    #: evaluation (and gankit eval/sample) use it; the evaluations during training are plain
    drs: int = 0
    #: std of the classifier's random Fourier frequencies on standardised data
    drs_bandwidth: float = 10.0

    def __post_init__(self) -> None:
        _check(self.n_samples >= 1, f"eval.n_samples must be >= 1, got {self.n_samples}")
        _check(self.w1_samples >= 1, f"eval.w1_samples must be >= 1, got {self.w1_samples}")
        _check(self.n_samples <= 10**7, f"eval.n_samples must be <= 10**7, got {self.n_samples}")
        _check(self.w1_samples <= 5000, f"eval.w1_samples must be <= 5000 (exact EMD), got {self.w1_samples}")
        _check(0 <= self.seed <= 2**62, f"eval.seed must be in [0, 2**62], got {self.seed}")
        _check(math.isfinite(self.polarity) and -10 <= self.polarity <= 10,
               f"eval.polarity must be a finite number in [-10, 10] (0 = plain sampling), got {self.polarity}")
        _check(1 <= self.polarity_pool <= 1000, f"eval.polarity_pool must be in [1, 1000], got {self.polarity_pool}")
        _check(math.isfinite(self.hpd) and 0 < self.hpd <= 1,
               f"eval.hpd must be in (0, 1] (fraction of the generator's samples kept; 1 = plain), got {self.hpd}")
        _check(0 <= self.drs <= 100_000, f"eval.drs must be in [0, 100000] (classifier steps; 0 = off), got {self.drs}")
        _check(math.isfinite(self.drs_bandwidth) and 0 < self.drs_bandwidth <= 1000,
               f"eval.drs_bandwidth must be in (0, 1000], got {self.drs_bandwidth}")
        _check((self.polarity != 0) + (self.hpd != 1) + (self.drs != 0) <= 1,
               "set at most one sampler: eval.polarity != 0, eval.hpd < 1 or eval.drs > 0")


@dataclass(frozen=True)
class RunConfig:
    """A whole run. ``gankit train --print-config`` prints it as TOML."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)


# --------------------------------------------------------------------------- conversion


def to_dict(cfg: Any) -> dict[str, Any]:
    """Nested dict of a config dataclass."""
    return dataclasses.asdict(cfg)


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check ``value`` against the annotation ``tp``; int → float is the only widening."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            if arg is type(None) and value is None:
                return None
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        for a in args:
            try:
                return _coerce(value, a, where)
            except GankitError:
                pass
        raise GankitError(f"{where} must be {' or '.join(_type_name(a) for a in args)}, got {value!r}")
    if origin in (tuple, list):
        (inner, *_) = typing.get_args(tp) or (Any,)
        if not isinstance(value, (list, tuple)):
            raise GankitError(f"{where} must be a list, got {value!r}")
        return tuple(_coerce(v, inner, where) for v in value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise GankitError(f"{where} must be true or false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise GankitError(f"{where} must be an integer, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise GankitError(f"{where} must be a number, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise GankitError(f"{where} must be a string, got {value!r}")
    return value


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)  # slow (evaluates string annotations): once per class


def from_dict(cls: type, data: dict[str, Any], where: str = "") -> Any:
    """Build a config dataclass from a nested dict, rejecting unknown keys and wrong types."""
    if not isinstance(data, dict):
        raise GankitError(f"{where or 'config'} must be a table, got {data!r}")
    hints = _type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        prefix = f"{where}." if where else ""
        raise GankitError(
            f"unknown config key {prefix}{_shown(unknown[0])}; known keys{' of ' + where if where else ''}: {', '.join(known)}"
        )
    kwargs = {}
    for name, value in data.items():
        tp = hints[name]
        key = f"{where}.{name}" if where else name
        if is_dataclass(tp):
            kwargs[name] = from_dict(tp, value, key)
        else:
            kwargs[name] = _coerce(value, tp, key)
    return cls(**kwargs)


def _parse_value(text: str) -> Any:
    """A TOML value (``5000``, ``1e-4``, ``true``, ``"x"``, ``[0.5, 0.9]``) or a bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except (tomllib.TOMLDecodeError, UnicodeError, KeyError):
        return text


def apply_overrides(cfg: RunConfig, overrides: list[str] | dict[str, Any]) -> RunConfig:
    """Return ``cfg`` with dotted overrides applied (``"train.steps=10"`` or ``{"train.steps": 10}``)."""
    items: list[tuple[str, Any]] = []
    if isinstance(overrides, dict):
        items = list(overrides.items())
    else:
        for text in overrides:
            key, sep, value = text.partition("=")
            if not sep or not key.strip():
                raise GankitError(f"malformed override {text!r}; accepted form: section.key=value, e.g. train.steps=5000")
            items.append((key.strip(), _parse_value(value.strip())))
    data = to_dict(cfg)
    for key, value in items:
        parts = key.split(".")
        node: Any = data
        for i, part in enumerate(parts[:-1]):
            if not isinstance(node, dict) or part not in node or not isinstance(node[part], dict):
                sections = ", ".join(k for k, v in data.items() if isinstance(v, dict))
                raise GankitError(f"unknown config section {'.'.join(parts[: i + 1])!r}; known sections: {sections}")
            node = node[part]
        if not isinstance(node, dict) or len(parts) < 2:
            sections = ", ".join(k for k, v in data.items() if isinstance(v, dict))
            raise GankitError(f"override {key!r} must name section.key; known sections: {sections}")
        if parts[-1] not in node:
            raise GankitError(
                f"unknown config key {_shown(key)}; known keys of {'.'.join(parts[:-1])}: {', '.join(node)}"
            )
        node[parts[-1]] = value
    return from_dict(type(cfg), data)


# --------------------------------------------------------------------------- TOML


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf"))
    if isinstance(v, str):
        # TOML basic string: escape backslash, quote and every control character
        return '"' + "".join(c if c not in '\\"' and 32 <= ord(c) != 127 else
                             ("\\" + c if c in '\\"' else f"\\u{ord(c):04X}") for c in v) + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if v is None:
        raise GankitError("TOML has no null value")
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def dumps_toml(cfg: Any) -> str:
    """TOML text of a nested config (one table per section)."""
    lines: list[str] = []
    for section, values in to_dict(cfg).items():
        lines.append(f"[{section}]")
        for k, v in values.items():
            if v is not None:
                lines.append(f"{k} = {_toml_value(v)}")
        lines.append("")
    return "\n".join(lines)


def loads_toml(text: str, cls: type = RunConfig, source: str = "config") -> Any:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GankitError(f"{source} is not valid TOML: {exc}") from None
    return from_dict(cls, data)


def load_toml(path: str | Path, cls: type = RunConfig) -> Any:
    """Read a (possibly partial) TOML config; missing keys take their defaults."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GankitError(f"config file {str(p)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GankitError(f"cannot read config file {str(p)!r}: {exc}") from None
    return loads_toml(text, cls, source=f"config file {str(p)!r}")


def replace_in(cfg: RunConfig, **sections: Any) -> RunConfig:
    """``replace`` for nested sections: ``replace_in(cfg, train={"steps": 5})``."""
    new = {name: replace(getattr(cfg, name), **vals) for name, vals in sections.items()}
    return replace(cfg, **new)
