"""Build a run from a :class:`~gankit.config.RunConfig`, train it, and fill its run directory.

A run directory holds ``config.toml`` (resolved), ``metrics.json`` (final metrics),
``history.jsonl`` (one JSON object per evaluation), ``checkpoints/`` and pictures.
"""

from __future__ import annotations

import errno
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .. import models as _models  # noqa: F401  (registers the models)
from ..config import RunConfig, dumps_toml, load_toml, loads_toml
from ..data.toy import DataSource, make_source
from ..errors import GankitError
from ..metrics.evaluate import evaluate
from ..objectives import Objective, make_objective
from ..registry import MODELS
from .callbacks import Checkpointer, History, ProgressBar, json_safe
from .checkpoint import CheckpointError, atomic_write_bytes, list_checkpoints, load_latest
from .health import HealthGuard, TrainingDiverged
from .preflight import check_names, check_output, checkpoint_bytes, dir_is_nonempty
from .trainer import Callback, Trainer, seed_everything

#: errno values that mean "the run directory cannot take more writes" (full, read-only, gone, no permission)
_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.ENOENT,
                errno.ENOTDIR}

__all__ = ["Built", "build", "resolve_device", "train_run", "load_run", "default_out"]


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise GankitError(f"train.device={name!r} but no CUDA device is available; use train.device=cpu")
    return torch.device(name)


@dataclass
class Built:
    cfg: RunConfig
    source: DataSource
    G: nn.Module
    D: nn.Module
    objective: Objective
    device: torch.device


def build(cfg: RunConfig, source: DataSource | None = None) -> Built:
    """Everything a run needs, validated before any work starts. Seeds the model initialisation.

    ``source`` replaces the data source named by ``cfg.data`` (for a user's own data).
    """
    device = resolve_device(cfg.train.device)
    if source is None:
        check_names(cfg)
        source = make_source(cfg.data.name, **({"path": cfg.data.path} if cfg.data.path else {}))
    objective = make_objective(cfg.objective)
    seed_everything(cfg.train.seed)
    G, D = MODELS.get(cfg.model.name)(cfg.model, source.shape)
    return Built(cfg, source, G.to(device), D.to(device), objective, device)


def default_out(cfg: RunConfig, root: str | Path = "runs") -> Path:
    """``runs/<data>-<objective>-seed<seed>``, with a numeric suffix if it already exists."""
    data = cfg.data.name if "N(" not in cfg.data.name else "mixture1d"
    stem = f"{data}-{cfg.objective.name.replace(':', '_')}-seed{cfg.train.seed}"
    base = Path(root) / stem
    path, i = base, 2
    while path.exists():
        path = Path(f"{base}-{i}")
        i += 1
    return path


def _eval_fn(b: Built):
    def run(trainer: Trainer) -> dict[str, float]:
        return evaluate(trainer.G, b.source, b.cfg.eval.n_samples, b.cfg.eval.w1_samples, b.cfg.eval.seed, b.device)

    return run


def _write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(json_safe(obj), indent=2) + "\n").encode())


def train_run(cfg: RunConfig, out: str | Path | None = None, *, resume: bool = False, progress: bool | None = None,
              callbacks: list[Callback] | None = None, pictures: bool = True, warn: Any = None) -> dict[str, Any]:
    """Train ``cfg`` into ``out`` (or continue the run there with ``resume=True``).

    Returns the final metrics (also written to ``metrics.json``).
    """
    out = Path(out) if out is not None else default_out(cfg)
    ckpt_dir = out / "checkpoints"
    if not resume and dir_is_nonempty(out):
        hint = f"; pass --resume {out} to continue it" if list_checkpoints(ckpt_dir) else ""
        raise GankitError(f"run directory {str(out)!r} already exists and is not empty{hint}, or choose another --out")
    b = build(cfg)
    state = None
    if resume and not list_checkpoints(ckpt_dir):
        # stopped before its first checkpoint: start again from step 0 (same seed, same run)
        if warn is not None:
            warn(f"warning: run {str(out)!r} has no checkpoint yet; starting it again from step 0")
    elif resume:
        state = load_latest(ckpt_dir, map_location=b.device, warn=warn)
        done = state["step"] == cfg.train.steps and (out / "metrics.json").exists()
        if state["step"] > cfg.train.steps or done:
            raise GankitError(
                f"run {str(out)!r} is already at step {state['step']} >= train.steps={cfg.train.steps}; "
                f"raise --steps to train further"
            )
    check_output(out, checkpoint_bytes(b.G, b.D) * (cfg.train.keep_checkpoints + 1))
    try:
        return _train(cfg, b, out, state, resume, progress, callbacks, pictures, warn)
    except OSError as exc:
        if exc.errno not in _DISK_ERRNOS:
            raise
        raise GankitError(f"cannot write to run directory {str(out)!r}: {exc.strerror or exc}; "
                          f"the checkpoints already written are intact") from None


def _train(cfg: RunConfig, b: Built, out: Path, state: dict[str, Any] | None, resume: bool, progress: bool | None,
           callbacks: list[Callback] | None, pictures: bool, warn: Any) -> dict[str, Any]:
    ckpt_dir = out / "checkpoints"
    atomic_write_bytes(out / "config.toml", dumps_toml(cfg).encode())
    history_path = out / "history.jsonl"
    history = History(cfg.train.eval_every, _eval_fn(b), history_path)
    # the health guard runs first, so no history record or checkpoint is written from a non-finite state
    guard = HealthGuard(cfg.train, history_path, warn=warn)
    cbs: list[Callback] = [guard, history]
    config_text = dumps_toml(cfg)
    checkpointer = Checkpointer(ckpt_dir, cfg.train.checkpoint_every, cfg.train.keep_checkpoints,
                                extra=lambda: {"config": config_text, "history_last": json.dumps(json_safe(history.last)),
                                               "health": guard.state_dict()})
    cbs.append(checkpointer)
    show = cfg.train.progress if progress is None else progress
    if show:
        cbs.append(ProgressBar(history))
    cbs += list(callbacks or [])
    trainer = Trainer(b.G, b.D, b.objective, b.source, cfg.train, cbs, device=b.device)
    if state is not None:
        try:
            trainer.load_state_dict(state)
        except (RuntimeError, KeyError, TypeError, ValueError, IndexError) as exc:
            raise CheckpointError(f"the newest checkpoint of {str(out)!r} does not match its config: "
                                  f"{str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}") from None
        history.last = json.loads(state.get("history_last", "{}") or "{}")
        guard.load_state_dict(state.get("health", {}))
    if resume:
        _truncate_history(history_path, trainer.step, int(history.last.get("step", -1)))
    t0 = time.perf_counter()
    try:
        trainer.fit()  # raises TrainingInterrupted after saving on Ctrl-C
    except TrainingDiverged:
        checkpointer.save(trainer, force=True)  # the guard left the trainer at the last good state
        raise
    final = dict(history.last)
    final["wall_time"] = round(time.perf_counter() - t0, 3)
    final["data"] = cfg.data.name
    final["objective"] = cfg.objective.name
    final["seed"] = cfg.train.seed
    _write_json(out / "metrics.json", final)
    if pictures:
        from ..report.plots import save_run_pictures

        save_run_pictures(out, b, trainer)
    return final


def _truncate_history(path: Path, step: int, last_record: int) -> None:
    """Drop what was written after the checkpoint being resumed (the resumed run writes it again).

    Records (one per evaluation) are kept up to ``last_record``, the step of the last record
    the checkpoint knew about; events (rollbacks, warnings) up to the checkpoint's ``step``;
    a line cut by a crash is dropped.
    """
    if not path.exists():
        return
    keep = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
            limit = step if "event" in rec else last_record
            if int(rec.get("step", 0)) <= limit:
                keep.append(line)
        except (json.JSONDecodeError, AttributeError, TypeError, ValueError):
            continue
    atomic_write_bytes(path, ("\n".join(keep) + ("\n" if keep else "")).encode())


def load_run(run_dir: str | Path, map_location: str = "cpu", warn: Any = None) -> tuple[Built, dict[str, Any]]:
    """Rebuild the models of a run directory from its newest usable checkpoint."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise GankitError(f"run directory {str(run_dir)!r} does not exist")
    state = load_latest(run_dir / "checkpoints", map_location=map_location, warn=warn)
    cfg_text = state.get("config")
    cfg = loads_toml(cfg_text, source=f"config of {run_dir}") if cfg_text else load_toml(run_dir / "config.toml")
    from dataclasses import replace

    cfg = replace(cfg, train=replace(cfg.train, device=str(map_location)))
    b = build(cfg)
    try:
        b.G.load_state_dict(state["G"])
        b.D.load_state_dict(state["D"])
    except (RuntimeError, KeyError, TypeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"the checkpoint of {str(run_dir)!r} does not match its config: {first}") from None
    return b, state
