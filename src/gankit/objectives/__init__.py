"""Objectives: pure loss functions on discriminator logits, composed into :class:`Objective` records.

Registered names (``gankit list``): ``minimax`` (Goodfellow's saturating game), ``ns``
(non-saturating generator loss), ``fgan:<divergence>`` (f-GAN, every divergence), ``wgan``
(weight clipping), ``wgan-gp`` (gradient penalty), ``hinge``.
"""

from __future__ import annotations

from ..divergences import get_divergence
from ..registry import OBJECTIVES
from .base import LogitObjective, Objective
from .fgan import (
    fgan_discriminator_loss,
    fgan_generator_loss,
    fgan_nonsaturating_generator_loss,
    variational_bound,
)
from .gan import gan_value, minimax_discriminator_loss, minimax_generator_loss, nonsaturating_generator_loss
from .wgan import (
    WGAN,
    WGANGP,
    clip_weights_,
    critic_gradient_norms,
    critic_report,
    gradient_penalty,
    hinge_discriminator_loss,
    hinge_generator_loss,
    interpolates,
    lipschitz_estimate,
    wasserstein_estimate,
    wgan_critic_loss,
    wgan_generator_loss,
)

__all__ = [
    "Objective", "LogitObjective", "make_objective",
    "gan_value", "minimax_discriminator_loss", "minimax_generator_loss", "nonsaturating_generator_loss",
    "fgan_discriminator_loss", "fgan_generator_loss", "fgan_nonsaturating_generator_loss", "variational_bound",
    "WGAN", "WGANGP", "wasserstein_estimate", "wgan_critic_loss", "wgan_generator_loss", "hinge_discriminator_loss",
    "hinge_generator_loss", "interpolates", "critic_gradient_norms", "gradient_penalty", "clip_weights_",
    "lipschitz_estimate", "critic_report",
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


@OBJECTIVES.register("wgan", help="WGAN: critic with weights clipped to ±objective.clip (RMSProp 5e-5, 5 critic steps)")
def _wgan(cfg) -> Objective:
    return WGAN(cfg.clip, cfg.wgan_warmup)


@OBJECTIVES.register("wgan-gp", help="WGAN-GP: critic with gradient penalty objective.gp_weight (Adam 1e-4, β (0.5, 0.9))")
def _wgan_gp(cfg) -> Objective:
    return WGANGP(cfg.gp_weight, cfg.gp_one_sided)


@OBJECTIVES.register("hinge", help="hinge game: D minimises E relu(1 - D(x)) + E relu(1 + D(G(z))); G: -E D(G(z))")
def _hinge(cfg) -> Objective:
    obj = LogitObjective("hinge", hinge_discriminator_loss, hinge_generator_loss)
    obj.d_output = lambda logits: logits  # raw output; a margin, not a probability
    return obj


def make_objective(cfg) -> Objective:
    """Build the objective named by an :class:`~gankit.config.ObjectiveConfig`."""
    return OBJECTIVES.get(cfg.name)(cfg)
