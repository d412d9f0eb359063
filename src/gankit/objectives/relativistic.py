r"""Relativistic average GAN (Jolicoeur-Martineau 2018) as pure functions on logits, and its objective.

The relativistic average discriminator judges a sample against the average of the other side,

.. math::  \tilde D(x_r) = σ(C(x_r) − E_{x_f} C(x_f)), \qquad \tilde D(x_f) = σ(C(x_f) − E_{x_r} C(x_r)),

with ``C`` the raw output (logit); the RaSGAN losses (the paper's eq. 12, TF-GAN's
``relativistic_discriminator_loss`` / ``relativistic_generator_loss``) are

.. math::

    L_D = −E_{x_r}[\log \tilde D(x_r)] − E_{x_f}[\log(1 − \tilde D(x_f))], \qquad
    L_G = −E_{x_f}[\log \tilde D(x_f)] − E_{x_r}[\log(1 − \tilde D(x_r))],

each a softplus of a logit difference: ``−log σ(d) = softplus(−d)``, ``−log(1 − σ(d)) = softplus(d)``.
The averages ``E C`` inside are plain batch means (TF-GAN's ``reduce_mean``); ``weights`` weight
the outer, per-example terms only. The generator loss needs D's outputs on data: G's samples
are pushed past the real batch's average, and the real outputs past theirs.

Example
-------
>>> import torch
>>> real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, 0.0])   # means 2 and 0
>>> round(float(relativistic_discriminator_loss(real, fake)), 6)  # mean softplus(−(1, 3)) + softplus(0 − 2)
0.307853
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from .base import Objective
from .reduce import Weights, combine, weighted_mean

__all__ = ["relativistic_discriminator_loss", "relativistic_generator_loss", "Relativistic"]


def _relative(real_logits: Tensor, fake_logits: Tensor) -> tuple[Tensor, Tensor]:
    """``C(x_r) − E C(x_f)`` and ``C(x_f) − E C(x_r)``."""
    return real_logits - fake_logits.mean(), fake_logits - real_logits.mean()


def relativistic_discriminator_loss(real_logits: Tensor, fake_logits: Tensor, real_weights: Weights = 1.0,
                                     generated_weights: Weights = 1.0, *, weights: Weights = 1.0) -> Tensor:
    r"""``E softplus(−(C(x_r) − E C(x_f))) + E softplus(C(x_f) − E C(x_r))`` (RaSGAN, D's loss; TF-GAN).

    Parameters
    ----------
    real_logits : Tensor, shape (n,) or (n, 1)
    fake_logits : Tensor, shape (m,) or (m, 1)
    real_weights, generated_weights : float or Tensor of shape (n,) / (m,)
        Weights of the per-example terms of each side (TF-GAN's relativistic losses take none).
    weights : float or Tensor, keyword only
        Weights of both sides (multiplies the per-side ones); reduction of :mod:`.reduce`.

    Returns
    -------
    Tensor, shape ()
    """
    rel_real, rel_fake = _relative(real_logits, fake_logits)
    return (weighted_mean(F.softplus(-rel_real), combine(real_weights, weights))
            + weighted_mean(F.softplus(rel_fake), combine(generated_weights, weights)))


def relativistic_generator_loss(real_logits: Tensor, fake_logits: Tensor, real_weights: Weights = 1.0,
                                generated_weights: Weights = 1.0, *, weights: Weights = 1.0) -> Tensor:
    r"""``E softplus(C(x_r) − E C(x_f)) + E softplus(−(C(x_f) − E C(x_r)))`` (RaSGAN, G's loss; TF-GAN).

    D's loss with the labels swapped. Arguments as in :func:`relativistic_discriminator_loss`.
    """
    rel_real, rel_fake = _relative(real_logits, fake_logits)
    return (weighted_mean(F.softplus(rel_real), combine(real_weights, weights))
            + weighted_mean(F.softplus(-rel_fake), combine(generated_weights, weights)))


class Relativistic(Objective):
    """RaSGAN: the relativistic average losses on D's logits.

    The generator's loss needs D's outputs on data: it uses the real batch of the latest
    discriminator step (the same batch, as in the paper's code). Before any discriminator step
    (the picture at step 0) the fakes' own outputs, detached, stand in for it. Logs ``estimate``,
    ``E C(x_r) − E C(x_f)``: how far D puts the data above the fakes on average.
    """

    name = "relativistic"
    estimate_label = "E C(x_r) − E C(x_f)"

    def __init__(self) -> None:
        self._real: Tensor | None = None

    def __repr__(self) -> str:
        return "Relativistic()"

    def discriminator_loss(self, D: nn.Module, real: Tensor, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        self._real = real.detach()
        real_logits, fake_logits = D(real), D(fake)  # (batch,), (batch,)
        loss = relativistic_discriminator_loss(real_logits, fake_logits)
        return loss, {"estimate": (real_logits.mean() - fake_logits.mean()).detach()}

    def generator_loss(self, D: nn.Module, fake: Tensor) -> Tensor:
        fake_logits = D(fake)
        real_logits = D(self._real) if self._real is not None else fake_logits.detach()
        return relativistic_generator_loss(real_logits, fake_logits)
