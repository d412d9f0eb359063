"""Generator weight averaging (:class:`EMA`) and learning-rate schedules (:class:`LRSchedule`).

EMA follows Yazıcı et al., "The unusual effectiveness of averaging in GAN training" (ICLR
2019): the average damps the game's oscillation and sharpens samples. The schedule decays
both learning rates to ``final × initial`` (linear or cosine) so G settles onto the modes.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import torch
from torch import nn
from torch.optim.lr_scheduler import LambdaLR
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from .trainer import Callback, Trainer

__all__ = ["EMA", "LRSchedule", "lr_factor"]


class EMA(Callback):
    """θ_ema ← β_t θ_ema + (1 − β_t) θ after every generator step.

    β_t = min(β, (1 + t) / (10 + t)) at the t-th update (TensorFlow's ``num_updates`` warm-up).
    The average starts at G's weights; buffers (batch-norm statistics) are copied, not averaged.

    Parameters
    ----------
    G : nn.Module
        The generator being trained.
    beta : float in (0, 1)

    Attributes
    ----------
    averaged : torch.optim.swa_utils.AveragedModel
        The average; its ``n_averaged`` counts the starting copy and every update.
    model : nn.Module
        ``averaged.module``: a copy of G (same class and attributes) holding the average.
    updates : int
        Number of updates so far.
    """

    def __init__(self, G: nn.Module, beta: float) -> None:
        self.G, self.beta = G, float(beta)
        self.averaged = AveragedModel(G).requires_grad_(False)
        self.model = self.averaged.module
        self.updates = 0
        self.averaged.n_averaged.fill_(1)  # the starting copy is the first term of the average

    @torch.no_grad()
    def update(self) -> None:
        """Average G's current weights in (one EMA step) and copy its buffers."""
        self.updates += 1
        decay = min(self.beta, (1 + self.updates) / (10 + self.updates))
        # AveragedModel.update_parameters would do these three steps, but it moves its step
        # counter to the parameters' device on every call: one host sync per step on CUDA.
        get_ema_multi_avg_fn(decay)(list(self.model.parameters()), [p.detach() for p in self.G.parameters()],
                                    self.updates)
        for b_ema, b_cur in zip(self.model.buffers(), self.G.buffers(), strict=True):
            b_ema.copy_(b_cur)
        self.averaged.n_averaged += 1

    def on_step_end(self, trainer: Trainer) -> None:
        self.update()

    def state_dict(self) -> dict[str, Any]:
        """``{"model": the averaged G's state dict, "updates": int}`` (loads into a plain G)."""
        return {"model": self.model.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.updates = int(state["updates"])
        self.averaged.n_averaged.fill_(self.updates + 1)


def lr_factor(schedule: str, step: int, total: int, final: float) -> float:
    """Multiplier of the initial learning rate at ``step`` of ``total``.

    ``constant``: 1; ``linear``: 1 → ``final``; ``cosine``: final + (1 − final)(1 + cos πt)/2.

    >>> lr_factor("linear", 50, 100, 0.0), lr_factor("cosine", 100, 100, 0.1)
    (0.5, 0.1)
    """
    t = min(max(step / max(total, 1), 0.0), 1.0)
    if schedule == "constant":
        return 1.0
    if schedule == "linear":
        return 1.0 + (final - 1.0) * t
    if schedule == "cosine":
        return final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * t))
    raise ValueError(f"unknown learning-rate schedule {schedule!r}")


class LRSchedule(Callback):
    """Both learning rates at step t: ``initial × lr_factor(schedule, t, train.steps, final)``.

    One :class:`~torch.optim.lr_scheduler.LambdaLR` per optimiser. The initial rates live in
    the param groups (``"initial_lr"``), so they are checkpointed and resume is exact. A rate
    changed by someone else between two steps (a health-guard rollback) scales the initial rate.

    Parameters
    ----------
    schedule : {"constant", "linear", "cosine"}
    final : float
        The final rate as a fraction of the initial one.
    """

    def __init__(self, schedule: str, final: float) -> None:
        lr_factor(schedule, 0, 1, final)  # an unknown schedule fails here, not at the first step
        self.schedule, self.final = schedule, float(final)
        self._schedulers: list[LambdaLR] = []
        self._start: list[list[dict[str, float]]] = []

    def on_train_start(self, trainer: Trainer) -> None:
        factor = partial(lr_factor, self.schedule, total=trainer.cfg.steps, final=self.final)
        self._schedulers, self._start = [], []
        for opt, base in ((trainer.opt_g, trainer.cfg.lr_g), (trainer.opt_d, trainer.cfg.lr_d)):
            for group in opt.param_groups:
                group.setdefault("initial_lr", base)  # kept from the checkpoint on resume
            # built at step - 1, LambdaLR takes its first step to `step` at once
            self._schedulers.append(LambdaLR(opt, factor, last_epoch=trainer.step - 1))
            _mark(opt)
            # what a state saved before this point (the health guard's first copy) lacks
            self._start.append([{k: g[k] for k in ("initial_lr", "scheduled_lr")} for g in opt.param_groups])

    def on_step_end(self, trainer: Trainer) -> None:
        for sched, start in zip(self._schedulers, self._start, strict=True):
            for i, group in enumerate(sched.optimizer.param_groups):
                for key, value in start[i].items():
                    group.setdefault(key, value)
                mark = group["scheduled_lr"]
                if mark and group["lr"] != mark:  # changed by someone else: keep the change
                    group["initial_lr"] *= group["lr"] / mark
                sched.base_lrs[i] = group["initial_lr"]  # (a rollback may have restored older groups)
            sched.last_epoch = trainer.step - 1  # the schedule follows the step count, also after a rollback
            sched.step()
            _mark(sched.optimizer)


def _mark(opt: torch.optim.Optimizer) -> None:
    """Remember the rate the schedule set, in the param group (so it is saved and restored with it)."""
    for group in opt.param_groups:
        group["scheduled_lr"] = group["lr"]
