"""Generator weight averaging and learning-rate schedules, as trainer callbacks.

- :class:`EMA`: an exponential moving average of the generator's weights, used for
  evaluation, pictures and sampling (Yazıcı et al., "The unusual effectiveness of
  averaging in GAN training", ICLR 2019). Averaging damps the oscillation of the
  simultaneous game around its equilibrium, which sharpens samples a lot on toy data.
- :class:`LRSchedule`: decays both learning rates from their initial value to
  ``final × initial`` over the run (linear or cosine). A small final step size lets the
  generator settle onto the modes instead of jittering around them.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
from torch import nn

from .trainer import Callback, Trainer

__all__ = ["EMA", "LRSchedule", "lr_factor"]


class EMA(Callback):
    """θ_ema ← β_t θ_ema + (1 − β_t) θ after every generator step.

    β_t = min(β, (1 + t) / (10 + t)) warms up the average so early weights are forgotten
    quickly (the ``num_updates`` rule of TensorFlow's ExponentialMovingAverage).
    Buffers (e.g. batch-norm statistics) are copied, not averaged.

    Parameters
    ----------
    G : nn.Module
        The generator being trained; :attr:`model` is its averaged copy.
    beta : float in (0, 1)
    """

    def __init__(self, G: nn.Module, beta: float) -> None:
        self.G, self.beta = G, float(beta)
        self.model = copy.deepcopy(G).requires_grad_(False)
        self.updates = 0

    @torch.no_grad()
    def update(self) -> None:
        self.updates += 1
        b = min(self.beta, (1 + self.updates) / (10 + self.updates))
        for p_ema, p in zip(self.model.parameters(), self.G.parameters()):
            p_ema.lerp_(p.detach(), 1.0 - b)
        for b_ema, b_cur in zip(self.model.buffers(), self.G.buffers()):
            b_ema.copy_(b_cur)

    def on_step_end(self, trainer: Trainer) -> None:
        self.update()

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.updates = int(state["updates"])


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
    """Sets both optimisers' learning rates from the step count (stateless, so resume is exact)."""

    def __init__(self, schedule: str, final: float) -> None:
        self.schedule, self.final = schedule, float(final)

    def _apply(self, trainer: Trainer) -> None:
        f = lr_factor(self.schedule, trainer.step, trainer.cfg.steps, self.final)
        for opt, base in zip((trainer.opt_g, trainer.opt_d), (trainer.cfg.lr_g, trainer.cfg.lr_d)):
            for group in opt.param_groups:
                group["lr"] = base * f

    on_train_start = on_step_end = _apply
