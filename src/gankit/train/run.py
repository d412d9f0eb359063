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
from ..io import atomic_write_bytes, json_safe
from ..metrics.evaluate import evaluate, evaluate_discriminator, sampler_kwargs
from ..models.pack import Packed, packed_shape
from ..models.vae import is_vae
from ..objectives import Objective, make_objective
from ..objectives.penalty import Regularized
from ..registry import MODELS
from .averaging import EMA, LRSchedule
from .callbacks import Checkpointer, History, ProgressBar
from .checkpoint import CheckpointError, list_checkpoints, load_latest
from .health import HealthGuard, TrainingDiverged
from .preflight import check_names, check_output, checkpoint_bytes, dir_is_nonempty
from .trainer import Callback, Trainer, seed_everything

#: errno values that mean "the run directory cannot take more writes" (full, read-only, gone, no permission)
_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.ENOENT,
                errno.ENOTDIR}

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
    #: the test split of an image data set (reference of the image metrics), else None
    eval_source: DataSource | None = None


def build(cfg: RunConfig, source: DataSource | None = None) -> Built:
    """Everything a run needs, validated before any work starts. Seeds the model initialisation.

    ``source`` replaces the data source named by ``cfg.data`` (for a user's own data).
    """
    device = resolve_device(cfg.train.device)
    eval_source = None
    if source is None:
        check_names(cfg)
        kwargs = {"path": cfg.data.path} if cfg.data.path else {}
        source = make_source(cfg.data.name, **kwargs)
        if len(source.shape) == 3 and hasattr(source, "images"):  # image data: its test split scores the run
            eval_source = make_source(cfg.data.name, split="test", **kwargs)
            if cfg.eval.n_samples < 4:  # k-NN precision/recall (k = 3) and covariances need more
                raise GankitError(f"eval.n_samples must be >= 4 for image data, got {cfg.eval.n_samples}")
    objective = make_objective(cfg.objective)
    if cfg.objective.r1 > 0 or cfg.objective.r2 > 0:
        objective = Regularized(objective, cfg.objective.r1, cfg.objective.r2)
    seed_everything(cfg.train.seed)
    model_name = _models.resolve_model_name(cfg.model.name, source.shape)  # "auto": dcgan for images, else mlp
    G, D = MODELS.get(model_name)(cfg.model, source.shape)
    if cfg.model.pack > 1:  # PacGAN: D judges `pack` samples concatenated along the first feature axis
        _, inner = MODELS.get(model_name)(cfg.model, packed_shape(source.shape, cfg.model.pack))
        D = Packed(inner, cfg.model.pack)
    if cfg.model.spectral_norm:
        D = _models.apply_spectral_norm(D)
    return Built(cfg, source, G.to(device), D.to(device), objective, device, eval_source)


def default_out(cfg: RunConfig, root: str | Path = "runs") -> Path:
    """``runs/<data>-<objective>-seed<seed>``, with a numeric suffix if it already exists."""
    data = cfg.data.name if "N(" not in cfg.data.name else "mixture1d"
    if ":" in data:  # images:PATH, idx:PATH -> images-<file or folder name>
        prefix, _, arg = data.partition(":")
        data = f"{prefix}-{Path(arg).name or 'data'}"
    game = cfg.model.name if cfg.model.name in ("vae", "vae-conv", "autoencoder") else cfg.objective.name  # no objective
    stem = f"{data}-{game.replace(':', '_')}-seed{cfg.train.seed}"
    base = Path(root) / stem
    path, i = base, 2
    while path.exists():
        path = Path(f"{base}-{i}")
        i += 1
    return path


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
    extra = None
    if is_vae(b.G, b.D):  # ELBO / reconstruction on fixed data draws as well
        from .vae_trainer import vae_eval_fn

        extra = vae_eval_fn(b.source, b.cfg.eval.n_samples, b.cfg.eval.seed, b.device)

    def run(trainer: Trainer) -> dict[str, float]:
        G = ema.model if ema is not None else trainer.G  # with train.ema the averaged G is the run's generator
        out = evaluate(G, b.source, b.cfg.eval.n_samples, b.cfg.eval.w1_samples, b.cfg.eval.seed, b.device,
                       test=b.eval_source, **sampler_kwargs(b.cfg.eval))
        if extra:
            return {**out, **extra(trainer)}
        out.update(evaluate_discriminator(b.objective, trainer.D, G, b.source, b.cfg.eval, b.device))
        return out

    return run


def _write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(json_safe(obj), indent=2) + "\n").encode())


def train_run(cfg: RunConfig, out: str | Path | None = None, *, resume: bool = False, progress: bool | None = None,
              callbacks: list[Callback] | None = None, pictures: bool = True, warn: Any = None) -> dict[str, Any]:
    """Train ``cfg`` into ``out`` (or continue the run there with ``resume=True``).

    Under ``torchrun`` the process group is set up here and only rank 0 writes.
    Returns the final metrics (also written to ``metrics.json``; ``{}`` on other ranks).
    """
    from .distributed import init_from_env

    out = Path(out) if out is not None else default_out(cfg)
    info, device, started = init_from_env(resolve_device(cfg.train.device))  # torchrun: DDP process group
    try:
        return _prepare(cfg, out, info, device, resume, progress, callbacks, pictures, warn)
    finally:
        if started:
            import torch.distributed as dist

            dist.destroy_process_group()


def _prepare(cfg: RunConfig, out: Path, info: Any, device: torch.device, resume: bool, progress: bool | None,
             callbacks: list[Callback] | None, pictures: bool, warn: Any) -> dict[str, Any]:
    """Every check before training: the run directory, the models, the checkpoint to resume, disk space."""
    from dataclasses import replace

    from .distributed import check_world_size

    ckpt_dir = out / "checkpoints"
    if info.is_main and not resume and dir_is_nonempty(out):
        hint = f"; pass --resume {out} to continue it" if list_checkpoints(ckpt_dir) else ""
        raise GankitError(f"run directory {str(out)!r} already exists and is not empty{hint}, or choose another --out")
    b = build(replace(cfg, train=replace(cfg.train, device=str(device))) if info.enabled else cfg)
    if cfg.eval.drs and (len(b.source.shape) != 1 or is_vae(b.G, b.D)):  # fail before training, not after
        raise GankitError(f"eval.drs (discriminator rejection sampling) needs a GAN on vector data (toy sets, 1-D "
                          f"mixtures, tables); this run has {'a VAE' if is_vae(b.G, b.D) else 'samples of shape ' + str(tuple(b.source.shape))}; "
                          f"set eval.drs = 0")
    if cfg.train.tensorboard:
        from ..report.tensorboard import require_summary_writer

        require_summary_writer()  # fail before anything is written
    state = None
    if resume and not list_checkpoints(ckpt_dir):
        # stopped before its first checkpoint: start again from step 0 (same seed, same run)
        if warn is not None:
            warn(f"warning: run {str(out)!r} has no checkpoint yet; starting it again from step 0")
    elif resume:
        state = load_latest(ckpt_dir, map_location=b.device, warn=warn)
        check_world_size(state, info.world_size)
        done = state["step"] == cfg.train.steps and (out / "metrics.json").exists()
        if state["step"] > cfg.train.steps or done:
            raise GankitError(
                f"run {str(out)!r} is already at step {state['step']} >= train.steps={cfg.train.steps}; "
                f"raise --steps to train further"
            )
    if info.is_main:
        check_output(out, checkpoint_bytes(b.G, b.D) * (cfg.train.keep_checkpoints + 1))
    try:
        return _train(cfg, b, out, info, state, resume, progress, callbacks, pictures, warn)
    except OSError as exc:
        if exc.errno not in _DISK_ERRNOS:
            raise
        raise GankitError(f"cannot write to run directory {str(out)!r}: {exc.strerror or exc}; "
                          f"the checkpoints already written are intact") from None


def _train(cfg: RunConfig, b: Built, out: Path, info: Any, state: dict[str, Any] | None, resume: bool,
           progress: bool | None, callbacks: list[Callback] | None, pictures: bool, warn: Any) -> dict[str, Any]:
    from .distributed import Barrier, DropLogs, RankStates, restore_rank_states, wrap_trainer

    ckpt_dir = out / "checkpoints"
    history_path = out / "history.jsonl"
    extras, ema = training_extras(cfg, b.G)  # LR schedule, EMA of G: before evaluation and checkpoints
    history = History(cfg.train.eval_every, _eval_fn(b, ema), history_path)
    config_text = dumps_toml(cfg)
    every = cfg.train.checkpoint_every
    ranks = RankStates(every) if info.enabled else None
    # the health guard runs first, so no history record or checkpoint is written from a non-finite state
    guard = HealthGuard(cfg.train, history_path, warn=warn)
    cbs: list[Callback] = [guard] + ([ranks] if ranks is not None else []) + extras
    checkpointer = None
    if info.is_main:  # only rank 0 writes
        atomic_write_bytes(out / "config.toml", config_text.encode())
        cbs.append(history)
        checkpointer = Checkpointer(ckpt_dir, every, cfg.train.keep_checkpoints, extra=lambda: {
            "config": config_text, "history_last": json.dumps(json_safe(history.last)), "health": guard.state_dict(),
            "world_size": info.world_size, **({"rng_ranks": ranks.states} if ranks is not None else {}),
            # the averaged generator is the one `gankit sample/eval` use
            **({"G_ema": ema.state_dict()} if ema is not None else {})})
        cbs.append(checkpointer)
        show = cfg.train.progress if progress is None else progress
        if show:
            cbs.append(ProgressBar(history))
        if b.eval_source is not None and pictures:  # image data: a grid of the same fixed noise at every evaluation
            from ..report.grids import SampleGrids

            cbs.append(SampleGrids(out / "samples", cfg.train.eval_every, cfg.eval.seed, b.device))
        cbs += _report_callbacks(b, out, history)
        cbs += list(callbacks or [])
    if info.enabled:
        cbs += [Barrier(every)] if info.is_main else [DropLogs(), Barrier(every)]
    trainer_cls = Trainer
    if is_vae(b.G, b.D):  # same loop, callbacks and state_dict; a VAE step (gankit.train.vae_trainer)
        from .vae_trainer import VAETrainer as trainer_cls
    trainer = trainer_cls(b.G, b.D, b.objective, b.source, cfg.train, cbs, device=b.device)
    if info.enabled:
        wrap_trainer(trainer, info)
    if state is not None:
        try:
            trainer.load_state_dict(state)
        except (RuntimeError, KeyError, TypeError, ValueError, IndexError) as exc:
            raise CheckpointError(f"the newest checkpoint of {str(out)!r} does not match its config: "
                                  f"{str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}") from None
        restore_rank_states(trainer, state, info)
        if ema is not None and "G_ema" in state:
            ema.load_state_dict(state["G_ema"])
        elif ema is not None:  # train.ema switched on at resume: start the average at the current G
            ema.model.load_state_dict(b.G.state_dict())
        history.last = json.loads(state.get("history_last", "{}") or "{}")
        guard.load_state_dict(state.get("health", {}))
    if resume and info.is_main:
        _truncate_history(history_path, trainer.step, int(history.last.get("step", -1)))
    t0 = time.perf_counter()
    try:
        trainer.fit()  # raises TrainingInterrupted after saving on Ctrl-C
    except TrainingDiverged:
        if checkpointer is not None:
            checkpointer.save(trainer, force=True)  # the guard left the trainer at the last good state
        raise
    if not info.is_main:
        return {}
    final = dict(history.last)
    if cfg.eval.drs and not is_vae(b.G, b.D):
        # discriminator rejection sampling: fit its classifier once, to the final generator, and
        # score its samples (the plain generator's metrics move to plain_*; history.jsonl stays plain)
        from ..metrics.evaluate import final_evaluate

        G_final = ema.model if ema is not None else b.G
        try:
            from ..sampling import RATIO_FILE

            final.update(final_evaluate(G_final, b.source, cfg.eval, b.device, test=b.eval_source,
                                        ratio_cache=out / RATIO_FILE, save_ratio=True))
        except GankitError as exc:  # the trained run stands: its plain metrics are kept and saved
            final["drs_error"] = str(exc)
            if warn is not None:
                warn(f"warning: eval.drs failed, the metrics are the plain generator's: {exc}")
    final["wall_time"] = round(time.perf_counter() - t0, 3)
    final["data"] = cfg.data.name
    final["objective"] = cfg.model.name if is_vae(b.G, b.D) else cfg.objective.name
    final["seed"] = cfg.train.seed
    if info.enabled:
        final["world_size"] = info.world_size
    _write_json(out / "metrics.json", final)
    if pictures:
        from dataclasses import replace as _replace

        from ..report.plots import save_run_pictures

        if is_vae(b.G, b.D):
            from ..report.vae_plots import save_run_pictures
        save_run_pictures(out, _replace(b, G=ema.model) if ema is not None else b, trainer)
        from ..report.animate import save_animations
        from ..report.html import write_report

        save_animations(out)
        write_report([out], out / "report.html")
    return final


def _report_callbacks(b: Built, out: Path, history: History) -> list[Callback]:
    """Frames at each evaluation (1-D/2-D data, ``train.snapshots``) and TensorBoard (``train.tensorboard``)."""
    cbs: list[Callback] = []
    snaps = None
    # (a VAE's second network is its encoder, not a discriminator: no discriminator views)
    if b.cfg.train.snapshots and len(b.source.shape) == 1 and b.source.shape[0] in (1, 2) and not is_vae(b.G, b.D):
        from ..report.frames import FrameView, Snapshots

        view = FrameView(b.source, b.objective, device=b.device)
        snaps = Snapshots(out / "frames", view, b.cfg.train.eval_every, f"{b.cfg.data.name} · {b.cfg.objective.name}")
        cbs.append(snaps)
    if b.cfg.train.tensorboard:
        from ..report.tensorboard import TensorBoardLogger

        cbs.append(TensorBoardLogger(out / "tensorboard", history, snaps))
    return cbs


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
        # With train.ema the averaged generator is the run's generator for sampling and scoring.
        b.G.load_state_dict(state["G_ema"]["model"] if "G_ema" in state else state["G"])
        b.D.load_state_dict(state["D"])
    except (RuntimeError, KeyError, TypeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"the checkpoint of {str(run_dir)!r} does not match its config: {first}") from None
    return b, state
