"""Objectives: pure loss functions on discriminator logits, composed into :class:`Objective` records.

Registered names (``gankit list``): ``minimax`` (Goodfellow's saturating game), ``ns``
(non-saturating generator loss), ``fgan:<divergence>`` (f-GAN, every divergence), ``wgan``
(weight clipping), ``wgan-gp`` (gradient penalty), ``hinge``, ``lsgan`` (least squares), ``relativistic``
(relativistic average). The loss functions take TF-GAN's names, argument order, label smoothing and
weights (docs/losses.md).
"""

from __future__ import annotations

import functools

from ..divergences import get_divergence
from ..errors import GankitError
from ..registry import OBJECTIVES
from .base import LogitObjective, Objective
from .fgan import (
    FGAN,
    fgan_discriminator_loss,
    fgan_generator_loss,
    fgan_nonsaturating_generator_loss,
    variational_bound,
)
from .gan import (
    gan_value,
    minimax_discriminator_loss,
    minimax_generator_loss,
    modified_discriminator_loss,
    modified_generator_loss,
    nonsaturating_discriminator_loss,
    nonsaturating_generator_loss,
)
from .least_squares import LeastSquares, least_squares_discriminator_loss, least_squares_generator_loss
from .penalty import (
    Regularized,
    critic_gradient_norms,
    gradient_penalty,
    gradient_penalty_zero_centred,
    interpolates,
)
from .reduce import weighted_mean
from .relativistic import Relativistic, relativistic_discriminator_loss, relativistic_generator_loss
from .wgan import (
    WGAN,
    WGANGP,
    clip_weights_,
    critic_report,
    hinge_discriminator_loss,
    hinge_generator_loss,
    lipschitz_estimate,
    wasserstein_discriminator_loss,
    wasserstein_estimate,
    wasserstein_generator_loss,
    wasserstein_hinge_discriminator_loss,
    wasserstein_hinge_generator_loss,
    wgan_critic_loss,
    wgan_generator_loss,
)

__all__ = [
    "Objective", "LogitObjective", "make_objective",
    "gan_value", "minimax_discriminator_loss", "minimax_generator_loss", "nonsaturating_generator_loss",
    "FGAN", "fgan_discriminator_loss", "fgan_generator_loss", "fgan_nonsaturating_generator_loss", "variational_bound",
    "WGAN", "WGANGP", "wasserstein_estimate", "wgan_critic_loss", "wgan_generator_loss", "hinge_discriminator_loss",
    "hinge_generator_loss", "interpolates", "critic_gradient_norms", "gradient_penalty", "clip_weights_",
    "lipschitz_estimate", "critic_report", "Regularized", "gradient_penalty_zero_centred",
    "nonsaturating_discriminator_loss", "modified_discriminator_loss", "modified_generator_loss",
    "wasserstein_discriminator_loss", "wasserstein_generator_loss", "wasserstein_hinge_discriminator_loss",
    "wasserstein_hinge_generator_loss", "weighted_mean",
    "LeastSquares", "least_squares_discriminator_loss", "least_squares_generator_loss",
    "Relativistic", "relativistic_discriminator_loss", "relativistic_generator_loss",
]


def _smoothed_d_loss(cfg):
    """The minimax D loss with ``objective.label_smoothing`` (real label 1 − ls/2), plain when it is 0."""
    ls = float(getattr(cfg, "label_smoothing", 0.0))
    return functools.partial(minimax_discriminator_loss, label_smoothing=ls) if ls else minimax_discriminator_loss


#: the objectives whose discriminator loss takes ``objective.label_smoothing``
SMOOTHED = ("ns", "minimax")


@OBJECTIVES.register("minimax", help="original GAN game; G minimises E log(1 - D(G(z))) (saturating); "
                                     "objective.label_smoothing for D")
def _minimax(cfg) -> Objective:
    return LogitObjective("minimax", _smoothed_d_loss(cfg), minimax_generator_loss, gan_value)


@OBJECTIVES.register("ns", help="GAN with the non-saturating generator loss -E log D(G(z)); "
                                "objective.label_smoothing for D")
def _ns(cfg) -> Objective:
    return LogitObjective("ns", _smoothed_d_loss(cfg), nonsaturating_generator_loss, gan_value)


@OBJECTIVES.register_family("fgan", help="f-GAN with any divergence: fgan:kl, fgan:reverse_kl, fgan:alpha:0.5, ... "
                            "(objective.generator_loss: nonsaturating | saturating)")
def _fgan_family(arg: str):
    div = get_divergence(arg)  # GankitError listing the known divergences

    def factory(cfg) -> Objective:
        return FGAN(div, saturating=getattr(cfg, "generator_loss", "nonsaturating") == "saturating")

    return factory


@OBJECTIVES.register("wgan", help="WGAN: critic with weights clipped to ±objective.clip (0.05; RMSProp 5e-4, 5 critic steps)")
def _wgan(cfg) -> Objective:
    return WGAN(cfg.clip, cfg.wgan_warmup)


@OBJECTIVES.register("wgan-gp", help="WGAN-GP: critic with gradient penalty objective.gp_weight (1; Adam 1e-3, β (0.5, 0.9), 5 critic steps)")
def _wgan_gp(cfg) -> Objective:
    return WGANGP(cfg.gp_weight, cfg.gp_one_sided, cfg.gp_target)


@OBJECTIVES.register("hinge", help="hinge game: D minimises E relu(1 - D(x)) + E relu(1 + D(G(z))); G: -E D(G(z))")
def _hinge(cfg) -> Objective:
    obj = LogitObjective("hinge", hinge_discriminator_loss, hinge_generator_loss)
    obj.d_output = lambda logits: logits  # raw output; a margin, not a probability
    return obj


@OBJECTIVES.register("lsgan", help="least-squares GAN (Mao et al.): D regresses onto 1 (data) and 0 (fakes), "
                                   "G onto 1; ½ squared errors, as TF-GAN")
def _lsgan(cfg) -> Objective:
    return LeastSquares()


@OBJECTIVES.register("relativistic", help="relativistic average GAN (RaSGAN, Jolicoeur-Martineau): D says how much "
                                          "more real data is than the average fake, as TF-GAN")
def _relativistic(cfg) -> Objective:
    return Relativistic()


def make_objective(cfg) -> Objective:
    """Build the objective named by an :class:`~gankit.config.ObjectiveConfig`, with its penalties.

    ``r1``, ``r2`` and ``gp_weight`` (> 0) wrap it in :class:`~gankit.objectives.penalty.Regularized`;
    an objective that penalises interpolates itself (``wgan-gp``) reads ``gp_weight`` on its own.
    ``label_smoothing`` > 0 with an objective other than :data:`SMOOTHED` raises
    :class:`~gankit.errors.GankitError`.
    """
    if getattr(cfg, "label_smoothing", 0.0) and cfg.name not in SMOOTHED:
        raise GankitError(f"objective.label_smoothing applies to the objectives {', '.join(SMOOTHED)} "
                          f"(TF-GAN's minimax and modified discriminator losses), not {cfg.name}")
    objective = OBJECTIVES.get(cfg.name)(cfg)
    gp = 0.0 if objective.penalises_interpolates else cfg.gp_weight
    if cfg.r1 > 0 or cfg.r2 > 0 or gp > 0:
        objective = Regularized(objective, cfg.r1, cfg.r2, gp, cfg.gp_one_sided, cfg.gp_target, cfg.r1_every)
    return objective
