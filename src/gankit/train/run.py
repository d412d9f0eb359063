"""Build a run from a :class:`~gankit.config.RunConfig`, train it, and fill its run directory.

A run directory holds ``config.toml`` (resolved), ``metrics.json`` (final metrics),
``history.jsonl`` (one JSON object per evaluation), ``checkpoints/`` and pictures.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..config import RunConfig, dumps_toml, load_toml, loads_toml
from ..data.toy import DataSource, make_source
from ..errors import GankitError
from ..metrics.evaluate import evaluate
from .. import models as _models  # noqa: F401  (registers the models)
from ..models.pack import Packed, packed_shape
from ..objectives import Objective, make_objective
from ..objectives.penalty import Regularized
from ..registry import MODELS
from .averaging import EMA, LRSchedule
from .callbacks import Checkpointer, History, ProgressBar, json_safe
from .checkpoint import atomic_write_bytes, list_checkpoints, load_latest
from .trainer import Callback, Trainer, seed_everything

__all__ = ["Built", "build", "resolve_device", "train_run", "load_run", "default_out", "training_extras"]


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
        source = make_source(cfg.data.name, **({"path": cfg.data.path} if cfg.data.path else {}))
    objective = make_objective(cfg.objective)
    if cfg.objective.r1 > 0 or cfg.objective.r2 > 0:
        objective = Regularized(objective, cfg.objective.r1, cfg.objective.r2)
    seed_everything(cfg.train.seed)
    G, D = MODELS.get(cfg.model.name)(cfg.model, source.shape)
    if cfg.model.pack > 1:  # PacGAN: D judges `pack` samples concatenated along the first feature axis
        _, inner = MODELS.get(cfg.model.name)(cfg.model, packed_shape(source.shape, cfg.model.pack))
        D = Packed(inner, cfg.model.pack)
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


def _check_writable(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"x")
        probe.unlink()
    except OSError as exc:
        raise GankitError(f"cannot write to run directory {str(out)!r}: {exc.strerror or exc}") from None


def training_extras(cfg: RunConfig, G: nn.Module) -> tuple[list[Callback], EMA | None]:
    """Callbacks that the config asks for beyond Algorithm 1: LR schedule, then EMA of G.

    They must come before evaluation/checkpoint callbacks (which read the averaged G).
    """
    cbs: list[Callback] = []
    if cfg.train.lr_schedule != "constant":
        cbs.append(LRSchedule(cfg.train.lr_schedule, cfg.train.lr_final))
    ema = EMA(G, cfg.train.ema) if cfg.train.ema > 0 else None
    if ema is not None:
        cbs.append(ema)
    return cbs, ema


def _eval_fn(b: Built, ema: EMA | None = None):
    def run(trainer: Trainer) -> dict[str, float]:
        G = ema.model if ema is not None else trainer.G
        return evaluate(G, b.source, b.cfg.eval.n_samples, b.cfg.eval.w1_samples, b.cfg.eval.seed, b.device)

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
    if not resume and out.exists() and any(out.iterdir()):
        hint = f"; pass --resume {out} to continue it" if list_checkpoints(ckpt_dir) else ""
        raise GankitError(f"run directory {str(out)!r} already exists and is not empty{hint}, or choose another --out")
    b = build(cfg)
    state = None
    if resume:
        state = load_latest(ckpt_dir, map_location=b.device, warn=warn)
        if state["step"] >= cfg.train.steps:
            raise GankitError(
                f"run {str(out)!r} is already at step {state['step']} >= train.steps={cfg.train.steps}; "
                f"raise --steps to train further"
            )
    _check_writable(out)
    atomic_write_bytes(out / "config.toml", dumps_toml(cfg).encode())
    history_path = out / "history.jsonl"
    cbs, ema = training_extras(cfg, b.G)
    history = History(cfg.train.eval_every, _eval_fn(b, ema), history_path)
    cbs.append(history)
    config_text = dumps_toml(cfg)

    def extra() -> dict[str, Any]:
        out = {"config": config_text, "history_last": json.dumps(json_safe(history.last))}
        if ema is not None:  # the averaged generator is the one `gankit sample/eval` use
            out["G_ema"] = ema.state_dict()
        return out

    cbs.append(Checkpointer(ckpt_dir, cfg.train.checkpoint_every, cfg.train.keep_checkpoints, extra=extra))
    show = cfg.train.progress if progress is None else progress
    if show:
        cbs.append(ProgressBar(history))
    cbs += list(callbacks or [])
    trainer = Trainer(b.G, b.D, b.objective, b.source, cfg.train, cbs, device=b.device)
    if state is not None:
        trainer.load_state_dict(state)
        if ema is not None and "G_ema" in state:
            ema.load_state_dict(state["G_ema"])
        elif ema is not None:  # train.ema switched on at resume: start the average at the current G
            ema.model.load_state_dict(b.G.state_dict())
        history.last = json.loads(state.get("history_last", "{}") or "{}")
        _truncate_history(history_path, trainer.step)
    t0 = time.perf_counter()
    trainer.fit()  # raises TrainingInterrupted after saving on Ctrl-C
    final = dict(history.last)
    final["wall_time"] = round(time.perf_counter() - t0, 3)
    final["data"] = cfg.data.name
    final["objective"] = cfg.objective.name
    final["seed"] = cfg.train.seed
    _write_json(out / "metrics.json", final)
    if pictures:
        from ..report.plots import save_run_pictures

        from dataclasses import replace as _replace

        save_run_pictures(out, _replace(b, G=ema.model) if ema is not None else b, trainer)
    return final


def _truncate_history(path: Path, step: int) -> None:
    """Drop records written after ``step`` (they will be written again by the resumed run)."""
    if not path.exists():
        return
    keep = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            if json.loads(line).get("step", 0) <= step:
                keep.append(line)
        except json.JSONDecodeError:
            continue  # a line cut by a crash
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
    # With train.ema the averaged generator is the run's generator for sampling and scoring.
    b.G.load_state_dict(state["G_ema"]["model"] if "G_ema" in state else state["G"])
    b.D.load_state_dict(state["D"])
    return b, state
