"""Objectives: pure loss functions on discriminator logits, composed into :class:`Objective` records.

Registered names (``gankit list``): ``minimax`` (Goodfellow's saturating game), ``ns``
(non-saturating generator loss), ``fgan:<divergence>`` (f-GAN, every divergence).
"""

from __future__ import annotations

from ..registry import OBJECTIVES
from .base import LogitObjective, Objective
from .fgan import (
    FGANTerms,
    fgan_discriminator_loss,
    fgan_generator_loss,
    fgan_nonsaturating_generator_loss,
    variational_bound,
    variational_terms,
)
from .gan import gan_value, minimax_discriminator_loss, minimax_generator_loss, nonsaturating_generator_loss

__all__ = [
    "Objective",
    "LogitObjective",
    "make_objective",
    "gan_value",
    "minimax_discriminator_loss",
    "minimax_generator_loss",
    "nonsaturating_generator_loss",
    "FGANTerms",
    "fgan_discriminator_loss",
    "fgan_generator_loss",
    "fgan_nonsaturating_generator_loss",
    "variational_bound",
    "variational_terms",
]


@OBJECTIVES.register("minimax", help="original GAN game; G minimises E log(1 - D(G(z))) (saturating)")
def _minimax(cfg) -> Objective:
    return LogitObjective("minimax", minimax_discriminator_loss, minimax_generator_loss, gan_value)


@OBJECTIVES.register("ns", help="GAN with the non-saturating generator loss -E log D(G(z))")
def _ns(cfg) -> Objective:
    return LogitObjective("ns", minimax_discriminator_loss, nonsaturating_generator_loss, gan_value)


@OBJECTIVES.register_family("fgan", help="f-GAN with any divergence: fgan:kl, fgan:reverse_kl, fgan:alpha:0.5, ... "
                            "(objective.generator_loss: nonsaturating | saturating)")
def _fgan_family(arg: str):
    from ..divergences import get_divergence

    div = get_divergence(arg)  # GankitError listing the known divergences

    def factory(cfg) -> Objective:
        saturating = getattr(cfg, "generator_loss", "nonsaturating") == "saturating"
        g_loss = fgan_generator_loss if saturating else fgan_nonsaturating_generator_loss
        return LogitObjective(
            f"fgan:{div.name}",
            lambda r, f: fgan_discriminator_loss(div, r, f),
            lambda f: g_loss(div, f),
            lambda r, f: variational_bound(div, r, f),
            estimate_label=f"bound on D_{div.name}",
        )

    return factory


def make_objective(cfg) -> Objective:
    """Build the objective named by an :class:`~gankit.config.ObjectiveConfig`."""
    return OBJECTIVES.get(cfg.name)(cfg)
