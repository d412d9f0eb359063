"""The original GAN game (Goodfellow et al. 2014) as pure functions on logits.

With D(x) = sigmoid(l(x)) and l the discriminator's logit, the value of the game is

.. math::  V(G, D) = E_{data}[\\log D(x)] + E_z[\\log(1 - D(G(z)))]

and ``log D = -softplus(-l)``, ``log(1 - D) = -softplus(l)``: every loss below is a
softplus of a logit, stable for any logit magnitude.

Names, argument order and conventions are TF-GAN's (``tfgan.losses.wargs``; docs/losses.md):
``label_smoothing`` moves the real label towards ½ as ``tf.losses.sigmoid_cross_entropy`` does,
``1 → 1 − ls/2`` (Salimans et al. 2016, one-sided: fake labels stay 0), default 0 (TF-GAN's
discriminator default is 0.25); ``real_weights``, ``generated_weights`` and ``weights`` weight the
per-example terms and reduce as :func:`~gankit.objectives.reduce.weighted_mean`. TF-GAN's
``modified_discriminator_loss`` / ``modified_generator_loss`` are :func:`nonsaturating_discriminator_loss`
/ :func:`nonsaturating_generator_loss`. TF-GAN's ``minimax_generator_loss`` carries the constant
``−log σ(1)``-term of its real side; gankit's drops it (same gradient).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from .reduce import Weights, combine, weighted_mean

__all__ = [
    "gan_value",
    "minimax_discriminator_loss",
    "minimax_generator_loss",
    "nonsaturating_discriminator_loss",
    "nonsaturating_generator_loss",
    "modified_discriminator_loss",
    "modified_generator_loss",
    "sigmoid_cross_entropy",
]


def sigmoid_cross_entropy(logits: Tensor, label: float) -> Tensor:
    """Per-example ``−[y log σ(l) + (1 − y) log(1 − σ(l))]`` for a constant label ``y``, from logits."""
    if label == 1.0:
        return F.softplus(-logits)
    if label == 0.0:
        return F.softplus(logits)
    return label * F.softplus(-logits) + (1.0 - label) * F.softplus(logits)


def gan_value(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Monte-Carlo estimate of V(G, D) = E log D(x) + E log(1 − D(G(z))).

    Parameters
    ----------
    real_logits : Tensor, shape (n,)
    fake_logits : Tensor, shape (m,)

    Examples
    --------
    >>> import torch, math
    >>> v = gan_value(torch.zeros(4), torch.zeros(4))   # D = 1/2 everywhere
    >>> round(float(v), 6) == round(-math.log(4), 6)
    True
    """
    return -F.softplus(-real_logits).mean() - F.softplus(fake_logits).mean()


def minimax_discriminator_loss(real_logits: Tensor, fake_logits: Tensor, label_smoothing: float = 0.0,
                               real_weights: Weights = 1.0, generated_weights: Weights = 1.0, *,
                               weights: Weights = 1.0) -> Tensor:
    """The discriminator maximises V: it minimises −V = E softplus(−l(x)) + E softplus(l(G(z))).

    Goodfellow et al. 2014, eq. (1). With ``label_smoothing = ls`` the real term is the cross-entropy
    against the label ``1 − ls/2`` (TF-GAN's convention); ``weights`` weights both terms (it multiplies
    TF-GAN's ``real_weights`` and ``generated_weights``).

    Parameters
    ----------
    real_logits : Tensor, shape (n,) or (n, 1)
    fake_logits : Tensor, shape (m,) or (m, 1)
    label_smoothing : float, default 0
    real_weights, generated_weights, weights : float or Tensor of shape (n,) / (m,)

    Examples
    --------
    >>> import torch
    >>> round(float(minimax_discriminator_loss(torch.zeros(2), torch.zeros(2), label_smoothing=0.5)), 4)  # 2 log 2
    1.3863
    """
    real = weighted_mean(sigmoid_cross_entropy(real_logits, 1.0 - 0.5 * label_smoothing),
                         combine(real_weights, weights))
    return real + weighted_mean(F.softplus(fake_logits), combine(generated_weights, weights))


def nonsaturating_discriminator_loss(real_logits: Tensor, fake_logits: Tensor, label_smoothing: float = 0.0,
                                     real_weights: Weights = 1.0, generated_weights: Weights = 1.0, *,
                                     weights: Weights = 1.0) -> Tensor:
    """The discriminator loss of the non-saturating game: the minimax one (TF-GAN's ``modified_discriminator_loss``)."""
    return minimax_discriminator_loss(real_logits, fake_logits, label_smoothing, real_weights, generated_weights,
                                      weights=weights)


def minimax_generator_loss(fake_logits: Tensor, label_smoothing: float = 0.0, weights: Weights = 1.0) -> Tensor:
    """Saturating generator loss, exactly as in the minimax game: minimise E log(1 − D(G(z))).

    ``log(1 − sigmoid(l)) = −softplus(l)``. Its gradient vanishes when D confidently rejects
    the fakes (l → −∞), which is why the paper proposes the non-saturating form.
    Goodfellow et al. 2014, eq. (1). ``label_smoothing`` is accepted for TF-GAN's argument order:
    it changes only TF-GAN's constant real-side term, which is not part of this loss.
    """
    del label_smoothing
    return -weighted_mean(F.softplus(fake_logits), weights)


def nonsaturating_generator_loss(fake_logits: Tensor, label_smoothing: float = 0.0, weights: Weights = 1.0) -> Tensor:
    """Non-saturating generator loss: maximise E log D(G(z)), i.e. minimise E softplus(−l(G(z))).

    Same fixed point as the minimax game, strong gradients early in training.
    Goodfellow et al. 2014, section 3. ``label_smoothing``: the target ``1 − ls/2`` (TF-GAN's
    ``modified_generator_loss``), default 0.
    """
    return weighted_mean(sigmoid_cross_entropy(fake_logits, 1.0 - 0.5 * label_smoothing), weights)


#: TF-GAN's names for the non-saturating ("modified") game
modified_discriminator_loss = nonsaturating_discriminator_loss
modified_generator_loss = nonsaturating_generator_loss
