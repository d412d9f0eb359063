"""Presets and config resolution: the one function behind ``gankit train``, :class:`~gankit.GAN` and ``VAE``.

A preset is a named TOML file shipped in ``gankit/configs/`` (``gankit list`` shows them):
``default`` (what ``gankit train`` trains on vector data), ``images`` (the DCGAN recipe, chosen
for image data), ``plain`` (Algorithm 1 with the library's defaults), ``compare`` (the settings every
objective is compared under), ``ring8-fast``, ``grid25-fast`` (the generator alone, timed),
``ring8-best``, ``grid25-best`` (with a sampler). A config is resolved in layers, lowest first:

1. the library's defaults (``RunConfig()``);
2. the preset (``--preset NAME``; without it ``plain`` for an auto-encoder, ``images`` for image data,
   else ``default``);
3. the objective's own defaults (e.g. RMSProp 5e-4 and 5 critic steps for ``wgan``) for every key
   you did not set -- they replace the preset's values only when you chose another objective
   than the preset's, since a preset is tuned for its own objective;
4. ``--config FILE`` (your TOML, over the preset);
5. the flags ``--data``, ``--objective``, ``--model``, ``--steps``, ``--seed``, ``--device``;
6. ``--set section.key=value``, in order.

So a flag changes only what it names (and, for ``--objective``, the keys that objective sets
itself), and ``--print-config`` shows the result.

Example
-------
>>> r = resolve(flags={"train.steps": 10})
>>> r.preset, r.cfg.train.steps, r.cfg.model.pack
('default', 10, 2)
>>> resolve(preset="plain").cfg.model.pack
1
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..config import RunConfig, apply_overrides, load_toml
from ..data.toy import is_mixture_spec
from ..errors import GankitError
from ..objectives.defaults import with_objective_defaults
from ..registry import DATA
from .parts import VAE_MODELS

__all__ = ["Resolved", "resolve", "preset_names", "preset_path", "preset_help", "auto_preset", "is_image_data",
           "data_name_for", "DEFAULT_PRESET", "IMAGE_PRESET"]

DEFAULT_PRESET = "default"
PLAIN_PRESET = "plain"
IMAGE_PRESET = "images"
#: registered names and ``prefix:`` families that are image data sets
IMAGE_NAMES = ("digits",)
IMAGE_FAMILIES = ("idx", "images")
#: a config file larger than this is refused before it is parsed
MAX_CONFIG_BYTES = 1 << 20


@dataclass(frozen=True)
class Resolved:
    """A resolved config and the name of the preset under it (``"config"`` for a given RunConfig)."""

    cfg: RunConfig
    preset: str


def preset_names() -> list[str]:
    """Names of the shipped presets, sorted."""
    return sorted(p.name[:-5] for p in resources.files("gankit").joinpath("configs").iterdir()
                  if p.name.endswith(".toml"))


def preset_path(name: str) -> Any:
    """The file of preset ``name`` (a :mod:`importlib.resources` traversable)."""
    names = preset_names()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise GankitError(f"unknown preset {name!r}{hint} known presets: {', '.join(names)}")
    return resources.files("gankit").joinpath("configs", f"{name}.toml")


def preset_help(name: str) -> str:
    """The first comment line of a preset, without its ``# Preset NAME:`` prefix."""
    first = preset_path(name).read_text(encoding="utf-8").splitlines()[0].lstrip("# ")
    return first.partition(": ")[2] or first


def _preset_keys(name: str) -> dict[str, Any]:
    data = tomllib.loads(preset_path(name).read_text(encoding="utf-8"))
    return _flatten(data)


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, Mapping):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def is_image_data(name: str) -> bool:
    """Is ``name`` (a ``data.name``) an image data set?"""
    prefix, sep, _ = name.partition(":")
    return name in IMAGE_NAMES or (bool(sep) and prefix in IMAGE_FAMILIES)


def data_name_for(arg: str) -> str:
    """``--data`` value → ``data.name``: a registered name or spec unchanged; an existing file or folder → ``images:PATH``."""
    if arg in DATA or is_mixture_spec(arg):
        return arg
    if Path(arg).exists():
        return f"images:{arg}"
    return arg


def auto_preset(data_name: str, model_name: str = "auto") -> str:
    """The preset used when none is named: ``plain`` for an auto-encoder, ``images`` for image data, else ``default``.

    (The ``default`` and ``images`` presets tune a GAN's discriminator, which an auto-encoder does not have.)
    """
    if model_name in VAE_MODELS:
        return PLAIN_PRESET
    return IMAGE_PRESET if is_image_data(data_name) else DEFAULT_PRESET


def _file_keys(path: str | Path) -> dict[str, Any]:
    """The keys a user's TOML file states (validated as a whole config first)."""
    p = Path(path)
    if p.is_file() and p.stat().st_size > MAX_CONFIG_BYTES:
        raise GankitError(f"config file {str(p)!r} is larger than {MAX_CONFIG_BYTES} bytes; a config is a few lines")
    load_toml(p)  # one clear message for a missing, unreadable or invalid file
    return _flatten(tomllib.loads(p.read_text(encoding="utf-8")))


def _set_items(sets: Iterable[str] | Mapping[str, Any]) -> tuple[list[str] | dict[str, Any], set[str]]:
    if isinstance(sets, Mapping):
        return dict(sets), set(sets)
    sets = list(sets)
    return sets, {s.partition("=")[0].strip() for s in sets}


def resolve(preset: str | None = None, config_file: str | Path | None = None,
            flags: Mapping[str, Any] | None = None, sets: Iterable[str] | Mapping[str, Any] = (),
            base: RunConfig | None = None) -> Resolved:
    """Resolve a run's config from a preset (or ``base``), a TOML file, flags and ``--set`` overrides.

    Parameters
    ----------
    preset : str, optional
        A preset name; ``None`` chooses :func:`auto_preset` of the resolved data.
    config_file : path, optional
        A user's TOML file, applied over the preset.
    flags : mapping
        Dotted keys set by named flags (``{"train.steps": 10}``); ``None`` values are skipped.
    sets : list of ``"key=value"`` or mapping
        ``--set`` overrides, applied last.
    base : RunConfig, optional
        A complete config to start from instead of a preset (``GAN(config=cfg)``).

    Returns
    -------
    Resolved
    """
    user: dict[str, Any] = _file_keys(config_file) if config_file else {}
    user.update({k: v for k, v in (flags or {}).items() if v is not None})
    set_items, set_keys = _set_items(sets)
    if base is not None:
        name, start, stated = "config", base, {"*"}
    else:
        probe = apply_overrides(apply_overrides(RunConfig(), user), set_items)  # where the data come from
        data_given = "data.name" in user or "data.name" in set_keys
        name = preset or auto_preset(probe.data.name if data_given else RunConfig().data.name, probe.model.name)
        keys = _preset_keys(name)
        start, stated = apply_overrides(RunConfig(), keys), set(keys)
    cfg = apply_overrides(apply_overrides(start, user), set_items)
    mine = set(user) | set_keys
    # the objective's own defaults fill what you did not set; a preset's values yield to them only
    # when the objective is not the preset's own
    changed = cfg.objective.name != start.objective.name
    explicit = mine if changed else mine | ({"data", "model", "objective", "train", "eval"} if "*" in stated else stated)
    _check_vae_objective(cfg, user, (flags or {}).get("objective.name") is not None or "objective.name" in set_keys)
    return Resolved(with_objective_defaults(cfg, explicit), name)


def _check_vae_objective(cfg: RunConfig, user: Mapping[str, Any], named: bool) -> None:
    """An auto-encoder trains on its own loss (the ELBO): refuse a GAN objective given with it.

    ``objective.name`` counts as given when a flag or ``--set`` names it (``named``), or a config file names
    another objective than the library's default (a file written by ``--print-config`` of an
    auto-encoder run states the default one).
    """
    if cfg.model.name not in VAE_MODELS:
        return
    if named or user.get("objective.name", RunConfig().objective.name) != RunConfig().objective.name:
        raise GankitError(f"model {cfg.model.name!r} is an auto-encoder trained on its own loss (the ELBO), not a "
                          f"GAN game; it takes no objective (objective.name={cfg.objective.name!r} given): drop "
                          f"--objective, or choose a GAN model (mlp, dcgan)")
