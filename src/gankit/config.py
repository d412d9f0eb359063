"""Typed, frozen, nested run configuration with TOML load/save and dotted overrides.

Each component owns a dataclass (``DataConfig``, ``ModelConfig``, ``VAEConfig``, ...);
``RunConfig`` nests them. Command-line overrides ``--set train.steps=5000`` map one-to-one
onto dotted field names. Each field declares the values it accepts once, beside its default
(:mod:`gankit.rules`), and every section is checked when it is built: unknown keys, wrong
types and out-of-range values raise :class:`~gankit.errors.GankitError` before any work
starts. The resolved config is written into the run directory and every checkpoint.

Example
-------
>>> cfg = apply_overrides(RunConfig(), ["train.steps=10", "model.g_width=64"])
>>> cfg.train.steps, cfg.model.g_width
(10, 64)
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import reprlib
import tomllib
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from .errors import GankitError
from .rules import Checked, bounded, one_of, printable, text

__all__ = ["DataConfig", "ModelConfig", "VAEConfig", "ObjectiveConfig", "TrainConfig", "EvalConfig", "RunConfig",
           "MOVED", "apply_overrides", "from_dict", "to_dict", "load_toml", "dumps_toml", "loads_toml", "parse_toml",
           "MAX_SEED", "MAX_SAMPLES", "MAX_TOML_DEPTH", "MAX_WIDTH", "MAX_HIDDEN_WEIGHTS", "DEFAULT_THREADS",
           "MAX_THREADS"]

#: keys that moved to another section; a config that still uses one is told the new key
MOVED = {"model.likelihood": "vae.likelihood", "model.beta": "vae.beta", "model.kl_warmup": "vae.kl_warmup"}

#: largest seed anywhere (``train.seed``, ``eval.seed``, ``--seed``): torch and NumPy take 64-bit seeds
MAX_SEED = 2**62
#: most samples one command draws or scores (``sample -n``, ``eval -n``, ``--mc-samples``, ``--n-train``)
MAX_SAMPLES = 10**7
#: deepest nesting of arrays and tables a TOML text (``--config``, ``--set`` value, a checkpoint's config) may use
MAX_TOML_DEPTH = 32
#: widest MLP layer and latent space; most hidden-layer weights of one MLP (2**28 float32 = 1 GiB, before optimiser)
MAX_WIDTH, MAX_HIDDEN_WEIGHTS = 8192, 2**28
#: torch CPU threads when none are named (``train.threads = 0``, no ``--threads``; docs/speed.md), and the most
DEFAULT_THREADS, MAX_THREADS = 1, 1024


@dataclass(frozen=True)
class DataConfig(Checked):
    """Where training data comes from."""

    _section = "data"
    #: a registered source (``gankit list``) or a 1-D mixture spec ``"0.3*N(-2,0.5) + 0.7*N(1,1)"``
    name: str = text("ring8", nonempty=True, note="see 'gankit list' for the data sources")
    path: str = ""  # file or folder of image data (.npy, IDX, CIFAR batch, image folder)


@dataclass(frozen=True)
class ModelConfig(Checked):
    """Generator and discriminator architecture."""

    _section = "model"
    #: a registered model (``gankit list``), or ``auto``: ``dcgan`` for image data (C, H, W), ``mlp`` otherwise
    name: str = text("auto", nonempty=True, note="see 'gankit list' for the models")
    latent_dim: int = bounded(2, 1, MAX_WIDTH)
    g_width: int = bounded(256, 1, MAX_WIDTH)
    g_depth: int = bounded(3, 1, 64)
    d_width: int = bounded(256, 1, MAX_WIDTH)
    d_depth: int = bounded(3, 1, 64)
    activation: str = one_of("relu", "leaky_relu", "elu", "tanh", "silu")
    spectral_norm: bool = False  # spectral normalisation of every layer of D (Miyato et al. 2018), any objective
    channels: int = bounded(64, 1, 256)  # width of image models (dcgan: channels of G's last and D's first stage)
    pack: int = bounded(1, 1, 64)  # PacGAN: D judges this many samples jointly (1 = off; Lin et al. 2018)
    #: MLP data scale s: G outputs s·net(z), D sees x/s (the WGAN-GP toy code divides grid25 by 2.828); 1 = off
    scale: float = bounded(1.0, 0, open_lo=True)
    #: class-conditional G and D: projection discriminator (Miyato & Koyama 2018) or acgan; "" = unconditional
    conditional: str = one_of("", "projection", "acgan")

    def __post_init__(self) -> None:
        super().__post_init__()
        for who, width, depth, n_in in (("g", self.g_width, self.g_depth, self.latent_dim),
                                        ("d", self.d_width, self.d_depth, 0)):
            weights = n_in * width + (depth - 1) * width**2
            if weights > MAX_HIDDEN_WEIGHTS:
                raise GankitError(f"model.{who}_width={width} with model.{who}_depth={depth} gives {weights:,} "
                                  f"hidden-layer weights; at most 2**28 per network (1 GiB of float32): "
                                  f"lower the width or the depth")


@dataclass(frozen=True)
class VAEConfig(Checked):
    """Options of the auto-encoder models (``vae``, ``vae-conv``, ``autoencoder``)."""

    _section = "vae"
    #: decoder likelihood p(x|z): gaussian (learned std per feature) or bernoulli (pixels (x+1)/2)
    likelihood: str = one_of("gaussian", "bernoulli")
    beta: float = bounded(1.0, 0)  # weight of the KL term (1 = the ELBO; beta-VAE otherwise)
    kl_warmup: int = bounded(500, 0)  # steps over which the KL weight rises linearly from 0 to beta; 0 = none


@dataclass(frozen=True)
class ObjectiveConfig(Checked):
    """The game: which losses the discriminator and generator minimise."""

    _section = "objective"
    #: ``minimax`` (Goodfellow's saturating game), ``ns`` (non-saturating), ... (``gankit list``)
    name: str = text("ns", nonempty=True, note="see 'gankit list' for the objectives")
    clip: float = bounded(0.01, 0, open_lo=True)  # wgan: clip critic weights to [-clip, clip] (Arjovsky et al.)
    #: wgan: the original code's schedule, 100 critic steps for the first 25 generator steps and every 500th
    wgan_warmup: bool = False
    #: λ of the penalty λ·E(‖∇D(x̂)‖ − 1)² on interpolates (Gulrajani et al.), any objective; 0 = off (wgan-gp: 10)
    gp_weight: float = bounded(0.0, 0)
    gp_one_sided: bool = False  # penalise only gradient norms above 1, λ·E[max(0, ‖∇D‖ − 1)²]
    gp_target: float = bounded(1.0, 0, open_lo=True)  # the Lipschitz constant K aimed at: ‖∇D‖/K in place of ‖∇D‖
    #: f-GAN generator loss: maximise E_Q[g_f(V)] (f-GAN §3.2) or minimise the bound
    generator_loss: str = one_of("nonsaturating", "saturating")
    label_smoothing: float = bounded(0.0, 0, 1)  # ns, minimax: D's real label 1 − ls/2 (TF-GAN's label_smoothing)
    r1: float = bounded(0.0, 0)  # γ of R1 = γ/2·E‖∇D(x)‖² on real data (Mescheder et al. 2018); 0 = off
    r2: float = bounded(0.0, 0)  # γ of the same penalty R2 on generated data; 0 = off
    r1_every: int = bounded(1, 1, 10**6)  # R1, R2 every N D-steps, weighted N× (lazy; Karras et al. 2020)


@dataclass(frozen=True)
class TrainConfig(Checked):
    """Algorithm 1: ``d_steps`` discriminator steps with G fixed, then one generator step."""

    _section = "train"
    steps: int = bounded(3000, 1)
    batch_size: int = bounded(256, 1, 2**20)
    d_steps: int = bounded(1, 1, 1000)  # k in Goodfellow's Algorithm 1
    optimizer: str = one_of("adam", "rmsprop", "sgd")
    lr_g: float = bounded(1e-3, 0, open_lo=True)
    lr_d: float = bounded(1e-3, 0, open_lo=True)
    beta1: float = bounded(0.5, 0, 1, open_hi=True)
    beta2: float = bounded(0.999, 0, 1, open_hi=True)
    seed: int = bounded(0, 0, MAX_SEED)
    device: str = text("cpu", pattern=r"cpu|auto|cuda(:\d{1,3})?", note="cpu, cuda, cuda:N or auto")
    threads: int = bounded(0, 0, MAX_THREADS, note=f"0 = the default, {DEFAULT_THREADS}")  # torch CPU threads
    eval_every: int = bounded(500, 0)  # evaluate (metrics, history.jsonl) every N generator steps; 0 = at the end
    log_every: int = bounded(50, 0, 10**6)  # mean losses into history.jsonl every N steps; 0 = at evaluations
    checkpoint_every: int = bounded(1000, 0)  # write a checkpoint every N generator steps; 0 = at the end
    keep_checkpoints: int = bounded(3, 1)
    progress: bool = True  # a tqdm progress bar
    #: a picture of D, samples and G's gradient field at every evaluation of 1-D/2-D data
    #: (``frames/step_XXXXXXX.png``) and the animation ``training.gif``
    snapshots: bool = True
    tensorboard: bool = False  # log into tensorboard/ (needs pip install gankit[tensorboard])
    compile: bool = False  # torch.compile the discriminator and generator steps (docs/speed.md)
    precision: str = one_of("fp32", "bf16", "fp16")  # autocast; fp16 only on CUDA, with a GradScaler
    #: sync the non-finite check every N steps (and at every checkpoint and evaluation); see train/health.py
    health_every: int = bounded(50, 1)
    on_nan: str = one_of("stop", "rollback")  # when a loss, weight or gradient goes non-finite; stop = exit 3
    nan_lr_factor: float = bounded(0.5, 0, 1, open_lo=True, open_hi=True)  # rollback multiplies both lrs by it
    max_rollbacks: int = bounded(3, 0)  # rollbacks allowed before stopping
    #: warn when mean |d_loss| stays below collapse_threshold for collapse_patience check windows
    collapse_threshold: float = bounded(1e-3, 0)
    collapse_patience: int = bounded(5, 1)
    #: β of an exponential moving average of G's weights used for eval/sampling (Yazıcı et al. 2019)
    ema: float = bounded(0.0, 0, 1, open_hi=True, note="0 = off")
    #: learning-rate schedule of both players (linear, cosine: decay to lr_final × lr)
    lr_schedule: str = one_of("constant", "linear", "cosine")
    lr_final: float = bounded(0.01, 0, 1)


@dataclass(frozen=True)
class EvalConfig(Checked):
    """How runs are scored."""

    _section = "eval"
    n_samples: int = bounded(2500, 1, MAX_SAMPLES)  # scored by the mode-coverage metrics (PacGAN: 2,500)
    w1_samples: int = bounded(1000, 1, 5000, note="exact EMD")  # per side, exact W1 (POT network simplex)
    seed: int = bounded(12345, 0, MAX_SEED)  # of the evaluation noise (independent of the training streams)
    #: polarity sampling exponent rho (gankit.sampling; Humayun et al. 2022): < 0 favours the generator's
    #: modes; metrics are then reported for both samplers
    polarity: float = bounded(0.0, -10, 10, note="0 = plain sampling")
    polarity_pool: int = bounded(10, 1, 1000)  # latents drawn per sample kept by polarity sampling
    #: sample the generator's highest-density region holding this fraction of its samples (sampling.hpd_sample)
    hpd: float = bounded(1.0, 0, 1, open_lo=True, note="fraction of the generator's samples kept; 1 = plain")
    #: discriminator rejection sampling (sampling.drs_sample; Azadi et al. 2019): steps fitting a density-ratio
    #: classifier to the final generator. Only the final evaluation and gankit eval/sample use it
    drs: int = bounded(0, 0, 100_000, note="classifier steps; 0 = off")
    drs_bandwidth: float = bounded(10.0, 0, 1000, open_lo=True)  # std of the classifier's Fourier frequencies

    def __post_init__(self) -> None:
        super().__post_init__()
        if (self.polarity != 0) + (self.hpd != 1) + (self.drs != 0) > 1:
            raise GankitError("set at most one sampler: eval.polarity != 0, eval.hpd < 1 or eval.drs > 0")


@dataclass(frozen=True)
class RunConfig:
    """A whole run. ``gankit train --print-config`` prints it as TOML."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    vae: VAEConfig = field(default_factory=VAEConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)


# --------------------------------------------------------------------------- conversion


def to_dict(cfg: Any) -> dict[str, Any]:
    """Nested dict of a config dataclass."""
    return dataclasses.asdict(cfg)


#: values echoed in messages are cut short (a hostile value may be megabytes long or deeply nested)
_SHORT = reprlib.Repr()
_SHORT.maxstring, _SHORT.maxother, _SHORT.maxlevel = 80, 80, 3

#: annotation -> (accepted types, words of the message); a bool is never accepted as a number
_SCALARS: dict[Any, tuple[tuple[type, ...], str]] = {
    bool: ((bool,), "true or false"), int: ((int,), "an integer"), float: ((int, float), "a number"),
    str: ((str,), "a string")}


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check ``value`` against the annotation ``tp``; int → float is the only widening."""
    if tp not in _SCALARS:
        return value
    kinds, words = _SCALARS[tp]
    if isinstance(value, kinds) and (tp is bool or not isinstance(value, bool)):
        return float(value) if tp is float else value
    raise GankitError(f"{where} must be {words}, got {_SHORT.repr(value)}")


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)  # slow (evaluates string annotations): once per class


def _unknown_key(key: str, section: str, known: Iterable[str]) -> GankitError:
    if key in MOVED:
        return GankitError(f"{key} moved to {MOVED[key]}; set {MOVED[key]} instead")
    shown = key if printable(key) and key.strip() == key and key else repr(key)
    return GankitError(f"unknown config key {shown}; known keys{f' of {section}' if section else ''}: "
                       f"{', '.join(known)}")


def from_dict(cls: type, data: dict[str, Any], where: str = "") -> Any:
    """Build a config dataclass from a nested dict, rejecting unknown keys and wrong types."""
    if not isinstance(data, dict):
        raise GankitError(f"{where or 'config'} must be a table, got {_SHORT.repr(data)}")
    hints, known = _type_hints(cls), [f.name for f in fields(cls)]
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise _unknown_key(f"{where}.{unknown[0]}" if where else unknown[0], where, known)
    kwargs = {}
    for name, value in data.items():
        key, tp = f"{where}.{name}" if where else name, hints[name]
        kwargs[name] = from_dict(tp, value, key) if is_dataclass(tp) else _coerce(value, tp, key)
    return cls(**kwargs)


def _parse_override(text: str) -> tuple[str, Any]:
    """``("train.steps", 5000)`` from ``"train.steps=5000"``; the value is TOML, or else a bare string."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise GankitError(f"malformed override {text!r}; accepted form: section.key=value, e.g. train.steps=5000")
    try:
        return key.strip(), parse_toml(f"v = {value.strip()}", f"the value of {key.strip()}")["v"]
    except _NotToml:
        return key.strip(), value.strip()


def apply_overrides(cfg: RunConfig, overrides: list[str] | dict[str, Any]) -> RunConfig:
    """Return ``cfg`` with dotted overrides applied (``"train.steps=10"`` or ``{"train.steps": 10}``)."""
    items = list(overrides.items()) if isinstance(overrides, dict) else [_parse_override(t) for t in overrides]
    data = to_dict(cfg)
    sections = ", ".join(k for k, v in data.items() if isinstance(v, dict))
    for key, value in items:
        *path, name = key.split(".")
        node = data
        for i, part in enumerate(path):
            if not isinstance(node.get(part), dict):
                raise GankitError(f"unknown config section {'.'.join(path[: i + 1])!r}; known sections: {sections}")
            node = node[part]
        if not path:
            raise GankitError(f"override {key!r} must name section.key; known sections: {sections}")
        if name not in node:
            raise _unknown_key(key, ".".join(path), node)
        node[name] = value
    return from_dict(type(cfg), data)


# --------------------------------------------------------------------------- TOML


def dumps_toml(cfg: Any) -> str:
    """TOML text of a nested config (one table per section).

    The values are checked ones (booleans, integers, finite floats, strings without control
    characters), whose JSON literals are also TOML literals.
    """
    lines: list[str] = []
    for section, values in to_dict(cfg).items():
        items = (f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in values.items() if v is not None)
        lines += [f"[{section}]", *items, ""]
    return "\n".join(lines)


class _NotToml(GankitError):
    """Text that is not TOML (as opposed to TOML that breaks a limit)."""


#: where a nesting scan stops to look: a quote, a comment or a bracket
_TOML_MARK = re.compile(r"""["'#\[\]{}]""")
#: one whole string from its opening quote (multi-line forms first)
_TOML_STRING = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'  # multi-line basic string
    r"|'''.*?'''"  # multi-line literal string
    r'|"(?:[^"\\\n]|\\.)*"'  # basic string
    r"|'[^'\n]*'", re.DOTALL)  # literal string


def _nesting(text: str, limit: int) -> int:
    """Deepest nesting of ``[`` and ``{`` in TOML ``text`` outside strings and comments, in one pass.

    The scan stops once the nesting passes ``limit``, and at an unterminated string: the parser
    refuses the text there, having read only what came before.
    """
    depth = deepest = pos = 0
    while (m := _TOML_MARK.search(text, pos)) is not None:
        c, pos = m.group(), m.end()
        if c in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                break
        elif c in "]}":
            depth = max(depth - 1, 0)
        elif c == "#":
            pos = len(text) if (eol := text.find("\n", pos)) < 0 else eol
        elif (string := _TOML_STRING.match(text, m.start())) is None:
            break
        else:
            pos = string.end()
    return deepest


def _depth(data: Any) -> int:
    """Nesting depth of parsed TOML data (dotted keys nest too), without recursion."""
    deepest, stack = 0, [(data, 0)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((c, d + 1) for c in children if isinstance(c, (dict, list)))
    return deepest


def parse_toml(text: str, source: str = "config") -> dict[str, Any]:
    """Parse TOML ``text`` as :func:`tomllib.loads` does, refusing nesting deeper than :data:`MAX_TOML_DEPTH`.

    The nesting is measured before parsing, so a hostile text never drives the recursive parser
    deep; ``source`` names the text in the :class:`GankitError`.
    """
    if not isinstance(text, str):
        raise GankitError(f"{source} must be TOML text, got {type(text).__name__}")
    too_deep = GankitError(f"{source} nests arrays or tables deeper than {MAX_TOML_DEPTH} levels; "
                           f"a config is a few flat tables")
    if _nesting(text, MAX_TOML_DEPTH) > MAX_TOML_DEPTH:
        raise too_deep
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _NotToml(f"{source} is not valid TOML: {exc}") from None
    except RecursionError:
        raise too_deep from None
    if _depth(data) > MAX_TOML_DEPTH + 1:  # + 1: the top-level table
        raise too_deep
    return data


def loads_toml(text: str, cls: type = RunConfig, source: str = "config") -> Any:
    """A config from TOML text; missing keys take their defaults, ``source`` names the text in errors."""
    return from_dict(cls, parse_toml(text, source))


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
