"""The original GAN game (Goodfellow et al. 2014) as pure functions on logits.

With D(x) = sigmoid(l(x)) and l the discriminator's logit, the value of the game is

.. math::  V(G, D) = E_{data}[\\log D(x)] + E_z[\\log(1 - D(G(z)))]

and ``log D = -softplus(-l)``, ``log(1 - D) = -softplus(l)``: every loss below is a
softplus of a logit, stable for any logit magnitude. All losses reduce by mean.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "gan_value",
    "minimax_discriminator_loss",
    "minimax_generator_loss",
    "nonsaturating_generator_loss",
]


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


def minimax_discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """The discriminator maximises V: it minimises −V = E softplus(−l(x)) + E softplus(l(G(z))).

    Goodfellow et al. 2014, eq. (1).
    """
    return -gan_value(real_logits, fake_logits)


def minimax_generator_loss(fake_logits: Tensor) -> Tensor:
    """Saturating generator loss, exactly as in the minimax game: minimise E log(1 − D(G(z))).

    ``log(1 − sigmoid(l)) = −softplus(l)``. Its gradient vanishes when D confidently rejects
    the fakes (l → −∞), which is why the paper proposes the non-saturating form.
    Goodfellow et al. 2014, eq. (1).
    """
    return -F.softplus(fake_logits).mean()


def nonsaturating_generator_loss(fake_logits: Tensor) -> Tensor:
    """Non-saturating generator loss: maximise E log D(G(z)), i.e. minimise E softplus(−l(G(z))).

    Same fixed point as the minimax game, strong gradients early in training.
    Goodfellow et al. 2014, section 3.
    """
    return F.softplus(-fake_logits).mean()
