"""Checks that run before any training work: names resolve, the run directory is writable.

Both raise :class:`~gankit.errors.GankitError` (one line, exit status 2 on the command line),
so a run that cannot succeed fails before it creates anything.
"""

from __future__ import annotations

import inspect
import os
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .. import data, divergences, metrics, models, objectives  # noqa: F401  (register their names)
from ..data.toy import is_mixture_spec, parse_mixture
from ..errors import GankitError
from ..io import atomic_write_bytes
from ..registry import DATA, MODELS, OBJECTIVES
from .lock import LOCK_FILE

__all__ = ["check_names", "check_output", "checkpoint_bytes", "dir_is_nonempty", "check_resume_changes"]

# Sections that may change when a run is resumed (the rest define the run).
RESUMABLE = ("train", "eval")
FIXED_ON_RESUME = ("seed", "batch_size", "d_steps", "optimizer", "lr_g", "lr_d", "beta1", "beta2")


def check_names(cfg: Any) -> None:
    """Resolve ``data.name``, ``model.name`` and ``objective.name`` without building anything big.

    Raises :class:`GankitError` naming an unknown name (and the known ones), a malformed mixture
    spec, or a ``data.path`` given to a source that takes none.
    """
    if cfg.model.name != "auto":  # auto: dcgan for images, mlp for vectors (models.resolve_model_name)
        MODELS.get(cfg.model.name)
    OBJECTIVES.get(cfg.objective.name)  # a family (fgan:<divergence>) checks its argument here
    if is_mixture_spec(cfg.data.name):
        parse_mixture(cfg.data.name)
        if cfg.data.path:
            raise GankitError("data.path is only for data sources that read files; a mixture spec takes none")
        return
    factory = DATA.get(cfg.data.name)
    if cfg.data.path:
        try:
            params = inspect.signature(factory).parameters
        except (TypeError, ValueError):
            params = {}
        if "path" not in params and not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            raise GankitError(f"data source {cfg.data.name!r} takes no data.path; use data.name=images:PATH "
                              f"or idx:PATH for files")


def checkpoint_bytes(*modules: Any) -> int:
    """Upper estimate of one checkpoint's size: weights plus two Adam moments, plus 64 KiB."""
    n = sum(p.numel() * p.element_size() for m in modules for p in m.parameters())
    return 3 * n + 65536


def check_output(out: Path, need_bytes: int = 0) -> None:
    """Create ``out`` if needed, write and remove a probe file, and check the free space.

    Raises :class:`GankitError` when ``out`` is a file, cannot be created or written, or its file
    system has less than ``need_bytes`` free.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise GankitError(f"run directory {str(out)!r} is a file, not a folder; choose another --out")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        atomic_write_bytes(probe, b"gankit write test\n")
        probe.unlink()
    except OSError as exc:
        raise GankitError(f"cannot write to run directory {str(out)!r}: {exc.strerror or exc}") from None
    try:
        free = shutil.disk_usage(out).free
    except OSError:
        return
    if need_bytes and free < need_bytes:
        raise GankitError(f"not enough free space for run directory {str(out)!r}: {free / 2**20:.1f} MiB free, "
                          f"checkpoints need about {need_bytes / 2**20:.1f} MiB")


def dir_is_nonempty(path: Path) -> bool:
    """True when ``path`` is a folder with entries other than a run lock (a file raises GankitError)."""
    if not path.exists():
        return False
    if not path.is_dir():
        raise GankitError(f"run directory {str(path)!r} is a file, not a folder; choose another --out")
    try:
        with os.scandir(path) as entries:
            return any(e.name != LOCK_FILE for e in entries)
    except OSError as exc:
        raise GankitError(f"cannot read run directory {str(path)!r}: {exc.strerror or exc}") from None


def check_resume_changes(saved: Any, cfg: Any) -> None:
    """Refuse a resumed config that changes what defines the run (only ``eval.*`` and some ``train.*`` may change)."""
    a, b = asdict(saved), asdict(cfg)
    for section, values in a.items():
        for key, old in values.items():
            new = b[section][key]
            if new != old and (section not in RESUMABLE or key in FIXED_ON_RESUME):
                raise GankitError(
                    f"cannot change {section}.{key} ({old!r} -> {new!r}) when resuming; "
                    f"only eval.* and the train.* settings other than {', '.join(FIXED_ON_RESUME)} may change"
                )
