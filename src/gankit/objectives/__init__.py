"""Objectives: pure loss functions on discriminator logits (GAN, f-GAN, WGAN)."""

from .fgan import (
    FGANTerms,
    fgan_discriminator_loss,
    fgan_generator_loss,
    fgan_nonsaturating_generator_loss,
    variational_bound,
    variational_terms,
)

__all__ = [
    "FGANTerms",
    "fgan_discriminator_loss",
    "fgan_generator_loss",
    "fgan_nonsaturating_generator_loss",
    "variational_bound",
    "variational_terms",
]
