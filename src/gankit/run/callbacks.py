"""The callbacks a run hangs on the trainer, in order, and its evaluation function.

Order matters: the health guard first (no record or checkpoint is written from a non-finite
state), then the LR schedule and the EMA of G (evaluation and checkpoints read the averaged G),
then history, checkpoints, progress and pictures.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..metrics.evaluate import evaluate, evaluate_discriminator, sampler_kwargs
from ..report.frames import FrameView, Snapshots
from ..report.grids import SampleGrids
from ..report.tensorboard import TensorBoardLogger
from ..train.averaging import EMA, LRSchedule
from ..train.callbacks import History, ProgressBar
from ..train.trainer import Callback, Trainer
from ..train.vae_trainer import vae_eval_fn
from .parts import Parts

__all__ = ["schedule_callbacks", "eval_fn", "picture_callbacks", "progress_bar"]


def schedule_callbacks(parts: Parts) -> tuple[list[Callback], EMA | None]:
    """The LR schedule (``train.lr_schedule``) and the EMA of G (``train.ema``), and that EMA."""
    t = parts.cfg.train
    cbs: list[Callback] = []
    if t.lr_schedule != "constant":
        cbs.append(LRSchedule(t.lr_schedule, t.lr_final))
    ema = EMA(parts.G, t.ema) if t.ema > 0 else None
    if ema is not None:
        cbs.append(ema)
    return cbs, ema


def eval_fn(parts: Parts, ema: EMA | None = None) -> Callable[[Trainer], dict[str, float]]:
    """The metrics of one history record: the generator's (the averaged one with ``train.ema``).

    A VAE adds its ELBO and reconstruction on fixed data draws; a GAN its discriminator's estimates.
    """
    ev = parts.cfg.eval
    vae_terms = vae_eval_fn(parts.source, ev.n_samples, ev.seed, parts.device) if parts.is_vae else None

    def run(trainer: Trainer) -> dict[str, float]:
        G = ema.model if ema is not None else trainer.G
        out = evaluate(G, parts.source, ev.n_samples, ev.w1_samples, ev.seed, parts.device,
                       test=parts.eval_source, **sampler_kwargs(ev))
        if vae_terms is not None:
            return {**out, **vae_terms(trainer)}
        out.update(evaluate_discriminator(parts.objective, trainer.D, G, parts.source, ev, parts.device))
        return out

    return run


def progress_bar(parts: Parts, history: History) -> ProgressBar:
    """A progress bar showing the run's headline metrics."""
    return ProgressBar(history, keys=("eval_elbo",)) if parts.is_vae else ProgressBar(history)


def picture_callbacks(parts: Parts, out: Path, history: History) -> list[Callback]:
    """Frames of 1-D/2-D training (``train.snapshots``), image grids, and TensorBoard (``train.tensorboard``)."""
    cfg, cbs = parts.cfg, []
    snaps: Any = None
    # a VAE's second network is its encoder, not a discriminator: no discriminator views
    if cfg.train.snapshots and len(parts.source.shape) == 1 and parts.source.shape[0] in (1, 2) and not parts.is_vae:
        view = FrameView(parts.source, parts.objective, device=parts.device)
        snaps = Snapshots(out / "frames", view, cfg.train.eval_every, f"{cfg.data.name} · {cfg.objective.name}")
        cbs.append(snaps)
    if parts.eval_source is not None:  # image data: a grid of the same fixed noise at every evaluation
        cbs.append(SampleGrids(out / "samples", cfg.train.eval_every, cfg.eval.seed, parts.device))
    if cfg.train.tensorboard:
        cbs.append(TensorBoardLogger(out / "tensorboard", history, snaps))
    return cbs
