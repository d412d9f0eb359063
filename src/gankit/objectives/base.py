"""The interface between an objective and the trainer: the two steps of Algorithm 1 and a few hooks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import Tensor, nn

__all__ = ["Objective", "LogitObjective"]


class Objective:
    """Base class: subclass and implement the two losses.

    Logged values are 0-d tensors (no host sync); ``"estimate"`` is the objective's
    running estimate of its divergence / value.
    """

    name: str = ""
    #: what ``estimate`` means, for logs and pictures
    estimate_label: str = "V(G, D)"
    #: per-objective ``train`` settings {"optimizer": ..., "lr_d": ..., "d_steps": ...}, applied to the
    #: keys the user did not set (see :func:`gankit.objectives.defaults.with_objective_defaults`)
    defaults: dict[str, Any] = {}
    #: True when the objective adds the penalty on interpolates itself (``objective.gp_weight``, as wgan-gp
    #: does); otherwise :func:`~gankit.objectives.make_objective` adds it through ``Regularized``
    penalises_interpolates: bool = False

    def discriminator_loss(self, D: nn.Module, real: Tensor, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """``(loss, logs)``: what the discriminator step minimises (``fake`` is detached: G is fixed)."""
        raise NotImplementedError

    def generator_loss(self, D: nn.Module, fake: Tensor) -> Tensor:
        """What the generator step minimises (D's parameters are frozen)."""
        raise NotImplementedError

    def after_discriminator_step(self, D: nn.Module) -> None:
        """Hook after each discriminator step (WGAN clips weights here)."""
        return None

    def critic_steps(self, step: int, default: int) -> int:
        """Discriminator steps before generator step ``step`` (0-based); ``default`` = ``train.d_steps``."""
        return default

    def evaluate(self, D: nn.Module, real: Tensor, fake: Tensor, seed: int = 0) -> dict[str, float]:
        """Numbers about the discriminator for ``history.jsonl``, computed at evaluation time only."""
        return {}

    def d_output(self, logits: Tensor) -> Tensor:
        """How to show the discriminator's raw output in pictures (probability for GANs)."""
        return logits.sigmoid()


class LogitObjective(Objective):
    """An objective defined by two pure functions of discriminator logits.

    Parameters
    ----------
    name : str
    d_loss_fn : (real_logits, fake_logits) -> loss the discriminator minimises
    g_loss_fn : fake_logits -> loss the generator minimises
    estimate_fn : (real_logits, fake_logits) -> the objective's value/divergence estimate
    """

    def __init__(self, name: str, d_loss_fn: Callable[[Tensor, Tensor], Tensor], g_loss_fn: Callable[[Tensor], Tensor],
                 estimate_fn: Callable[[Tensor, Tensor], Tensor] | None = None, estimate_label: str = "V(G, D)",
                 defaults: dict[str, Any] | None = None) -> None:
        self.name, self.d_loss_fn, self.g_loss_fn, self.estimate_fn = name, d_loss_fn, g_loss_fn, estimate_fn
        self.estimate_label = estimate_label
        self.defaults = dict(defaults or {})

    def __repr__(self) -> str:
        return f"LogitObjective({self.name!r})"

    def discriminator_loss(self, D: nn.Module, real: Tensor, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        real_logits, fake_logits = D(real), D(fake)  # (batch,), (batch,)
        loss = self.d_loss_fn(real_logits, fake_logits)
        logs = {}
        if self.estimate_fn is not None:
            logs["estimate"] = self.estimate_fn(real_logits.detach(), fake_logits.detach())
        return loss, logs

    def generator_loss(self, D: nn.Module, fake: Tensor) -> Tensor:
        return self.g_loss_fn(D(fake))
