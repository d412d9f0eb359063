"""Behaviour that hangs on the training loop: history, progress bar, checkpoints."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from ..errors import TrainingDiverged
from ..io import append_jsonl
from .checkpoint import save_checkpoint
from .trainer import Callback, Trainer

__all__ = ["check_finite_logs", "History", "ProgressBar", "Checkpointer"]


def check_finite_logs(trainer: Trainer) -> None:
    """Raise :class:`~gankit.errors.TrainingDiverged` naming the first step and loss that is NaN or infinite.

    Run by :meth:`History.record`: one host sync per record, not per step.
    """
    found = []
    for key, values in trainer.pending.items():
        stacked = torch.stack(values).float() if values else torch.zeros(0)  # (steps since last record,)
        bad = (~torch.isfinite(stacked)).nonzero()
        if len(bad):
            i = int(bad[0, 0])
            found.append((trainer.step - len(values) + 1 + i, key, float(stacked[i])))
    if found:
        step, key, value = min(found, key=lambda f: f[0])  # the earliest step; the first key on a tie
        raise TrainingDiverged(
            f"training diverged: {key} is {value} at step {step}; try a smaller learning rate "
            f"(train.lr_d, train.lr_g), another objective, or objective.generator_loss", step=step, loss=key)


class History(Callback):
    """Records of training: the mean losses since the last record every ``log_every`` steps, and the
    metrics every ``every`` steps and at the end.

    Losses stay 0-d tensors on the device between records (one host sync per record, none per
    step); ``evaluate(trainer) -> dict`` computes the metrics. Each record goes to
    ``history.jsonl`` (when ``path`` is set) and to :attr:`records`; :attr:`last` is the latest
    record, :attr:`evaluated` the latest one with metrics.
    """

    def __init__(self, every: int, evaluate: Callable[[Trainer], dict[str, float]] | None = None,
                 path: Path | None = None, log_every: int = 0) -> None:
        self.every, self.evaluate, self.path, self.log_every = every, evaluate, path, log_every
        self.records: list[dict[str, Any]] = []
        self.last: dict[str, Any] = {}
        self.evaluated: dict[str, Any] = {}
        self._t0 = 0.0
        self._elapsed0 = 0.0

    def on_train_start(self, trainer: Trainer) -> None:
        self._t0 = time.perf_counter()
        self._elapsed0 = float(self.last.get("time", 0.0))

    def record(self, trainer: Trainer, metrics: bool = True) -> dict[str, Any]:
        """Write one record: the mean losses since the last one, and (``metrics``) the evaluation."""
        rec: dict[str, Any] = {"step": trainer.step}
        check_finite_logs(trainer)
        rec.update(trainer.pop_logs())
        if metrics and self.evaluate is not None:
            rec.update(self.evaluate(trainer))
        rec["time"] = round(self._elapsed0 + time.perf_counter() - self._t0, 3)
        self.records.append(rec)
        self.last = rec
        if metrics:
            self.evaluated = rec
        if self.path is not None:
            append_jsonl(self.path, rec)
        return rec

    def on_step_end(self, trainer: Trainer) -> None:
        step = trainer.step
        if step >= trainer.cfg.steps:
            return  # the end: on_train_end records with metrics
        evaluate = bool(self.every) and step % self.every == 0
        if evaluate or (self.log_every and step % self.log_every == 0):
            self.record(trainer, metrics=evaluate)

    def on_train_end(self, trainer: Trainer) -> None:
        if self.last.get("step") != trainer.step:  # ``last`` survives a resume, ``records`` does not
            self.record(trainer)


class ProgressBar(Callback):
    """A tqdm bar with step, latest losses and the latest metrics; refreshed every ``every`` steps."""

    def __init__(self, history: History | None = None, every: int = 25,
                 keys: tuple[str, ...] = ("modes", "high_quality", "w1", "frechet_distance", "classes_covered")) -> None:
        self.history, self.every, self.keys = history, every, keys
        self.bar: Any = None

    def on_train_start(self, trainer: Trainer) -> None:
        self.bar = tqdm(total=trainer.cfg.steps, initial=trainer.step, unit="step", dynamic_ncols=True, leave=True)
        self._shown = trainer.step

    def on_step_end(self, trainer: Trainer) -> None:
        if trainer.step % self.every and trainer.step != trainer.cfg.steps:
            return
        last = self.history.last if self.history is not None else {}
        post = {k[0]: f"{float(trainer.pending[k][-1]):.3f}" for k in ("d_loss", "g_loss") if trainer.pending.get(k)}
        post = post or {k[0]: f"{last[k]:.3f}" for k in ("d_loss", "g_loss") if isinstance(last.get(k), float)}
        shown = (self.history.evaluated or last) if self.history is not None else {}
        post.update({k: f"{shown[k]:.3g}" for k in self.keys if isinstance(shown.get(k), float)})
        self.bar.set_postfix(post, refresh=False)
        self.bar.update(trainer.step - self._shown)
        self._shown = trainer.step

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    on_train_end = on_interrupt = lambda self, trainer: self.close()  # noqa: E731

    def on_error(self, trainer: Trainer, exc: BaseException) -> None:
        self.close()  # a diverged run's one-line message must not land inside a live bar


class Checkpointer(Callback):
    """Atomic checkpoints every ``every`` steps, at the end, and on Ctrl-C."""

    def __init__(self, folder: Path, every: int, keep: int, extra: Callable[[], dict[str, Any]]) -> None:
        self.folder, self.every, self.keep, self.extra = Path(folder), every, keep, extra
        self.last_saved = -1

    def save(self, trainer: Trainer, force: bool = False) -> None:
        if trainer.step == self.last_saved and not force:
            return
        state = trainer.state_dict()
        state.update(self.extra())
        save_checkpoint(self.folder, trainer.step, state, keep=self.keep)
        self.last_saved = trainer.step

    def on_train_start(self, trainer: Trainer) -> None:
        self.last_saved = trainer.step if trainer.step > 0 else -1

    def on_step_end(self, trainer: Trainer) -> None:
        if self.every and trainer.step % self.every == 0:
            self.save(trainer)

    def on_train_end(self, trainer: Trainer) -> None:
        self.save(trainer, force=True)  # again after the final history record, so a resume never repeats it

    on_interrupt = save
