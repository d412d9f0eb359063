"""Defaults that depend on the data: image data sets get a DCGAN recipe instead of the toy one.

``RunConfig()``'s defaults are tuned for the 2-D toy benchmarks. When the data is an
image data set (``digits``, ``idx:PATH``, ``images:PATH``), ``gankit train`` replaces
every default in :data:`IMAGE_DEFAULTS` that the user did not set — on the command line,
with ``--set`` or in the ``--config`` file — by the image value. ``model.name = "auto"``
(the default) then builds the DCGAN. The resolved values are what ``--print-config``
shows and what ``config.toml`` records, so a run is reproducible from its config alone.
The values are the best configuration measured on digits (docs/images.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import data as _data  # noqa: F401  (registers the data sources)
from ..config import RunConfig, apply_overrides
from ..registry import DATA

__all__ = ["IMAGE_DEFAULTS", "IMAGE_FAMILIES", "is_image_data", "data_name_for", "apply_image_defaults"]

#: defaults of image runs (dotted keys); see docs/images.md for how they were chosen
IMAGE_DEFAULTS: dict[str, Any] = {
    "model.latent_dim": 32,
    "model.channels": 32,
    "train.batch_size": 64,
    "train.lr_g": 2e-4,
    "train.lr_d": 2e-4,
    "train.beta1": 0.5,
    "train.steps": 3000,
    "train.eval_every": 500,
}

#: registered names and ``prefix:`` families that are image data sets
IMAGE_NAMES = ("digits",)
IMAGE_FAMILIES = ("idx", "images")


def is_image_data(name: str) -> bool:
    """Is ``name`` (a ``data.name``) an image data set?"""
    prefix, sep, _ = name.partition(":")
    return name in IMAGE_NAMES or (bool(sep) and prefix in IMAGE_FAMILIES)


def data_name_for(arg: str) -> str:
    """``--data`` value → ``data.name``: a registered name or spec unchanged; an existing file or folder → ``images:PATH``."""
    if arg in DATA or "N(" in arg:
        return arg
    if Path(arg).exists():
        return f"images:{arg}"
    return arg


def apply_image_defaults(cfg: RunConfig, explicit: set[str]) -> RunConfig:
    """``cfg`` with :data:`IMAGE_DEFAULTS` applied to the keys not in ``explicit``, when its data is images."""
    if not is_image_data(cfg.data.name):
        return cfg
    return apply_overrides(cfg, {k: v for k, v in IMAGE_DEFAULTS.items() if k not in explicit})
