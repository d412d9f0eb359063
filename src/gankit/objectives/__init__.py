"""Objectives: pure loss functions on logits, composed into :class:`Objective` records.

Registered names (``gankit list``): ``minimax`` (Goodfellow's saturating game), ``ns``
(non-saturating generator loss).
"""

from __future__ import annotations

from ..registry import OBJECTIVES
from .base import LogitObjective, Objective
from .gan import gan_value, minimax_discriminator_loss, minimax_generator_loss, nonsaturating_generator_loss

__all__ = [
    "Objective",
    "LogitObjective",
    "make_objective",
    "gan_value",
    "minimax_discriminator_loss",
    "minimax_generator_loss",
    "nonsaturating_generator_loss",
]


@OBJECTIVES.register("minimax", help="original GAN game; G minimises E log(1 - D(G(z))) (saturating)")
def _minimax(cfg) -> Objective:
    return LogitObjective("minimax", minimax_discriminator_loss, minimax_generator_loss, gan_value)


@OBJECTIVES.register("ns", help="GAN with the non-saturating generator loss -E log D(G(z))")
def _ns(cfg) -> Objective:
    return LogitObjective("ns", minimax_discriminator_loss, nonsaturating_generator_loss, gan_value)


def make_objective(cfg) -> Objective:
    """Build the objective named by an :class:`~gankit.config.ObjectiveConfig`."""
    return OBJECTIVES.get(cfg.name)(cfg)
