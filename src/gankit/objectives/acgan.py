"""The auxiliary-classifier losses of ACGAN (Odena et al. 2017), on class logits, with TF-GAN's conventions.

An ACGAN discriminator has, beside its real/fake logit, a head of class logits ``(batch, K)``.
Both players minimise the cross-entropy of that head:

- discriminator: ``CE(real_class_logits, labels) + CE(fake_class_logits, labels)``: one label
  tensor, the classes of the real batch, which the fake batch was drawn for (TF-GAN's
  ``acgan_discriminator_loss(real, gen, one_hot_labels)``);
- generator: ``CE(fake_class_logits, labels)``.

Labels are integers in ``[0, K)`` as :func:`torch.nn.functional.cross_entropy` takes them (TF-GAN
takes the one-hot rows of the same labels). ``label_smoothing`` smooths the real term only, as
TF-GAN does: the target is ``(1 − ls)·onehot + ls/K``. ``weights`` (a number or one per example)
weigh each term, reduced as TF-GAN's ``SUM_BY_NONZERO_WEIGHTS``: ``Σ wᵢ·ℓᵢ / #{wᵢ ≠ 0}``.

>>> import torch
>>> logits = torch.tensor([[2.0, 0.0], [0.0, 2.0]])
>>> round(float(acgan_generator_loss(logits, torch.tensor([0, 1]))), 6)   # log(1 + e^-2)
0.126928
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["acgan_discriminator_loss", "acgan_generator_loss", "weighted_mean"]


def weighted_mean(losses: Tensor, weights: float | Tensor = 1.0) -> Tensor:
    """``Σ wᵢ·ℓᵢ / #{wᵢ ≠ 0}`` over the batch (TF's ``SUM_BY_NONZERO_WEIGHTS``); 0 when every weight is 0."""
    w = torch.as_tensor(weights, dtype=losses.dtype, device=losses.device).expand_as(losses)
    nonzero = (w != 0).sum()
    return (w * losses).sum() / nonzero.clamp(min=1)


def acgan_discriminator_loss(real_class_logits: Tensor, fake_class_logits: Tensor, labels: Tensor,
                             label_smoothing: float = 0.0, weights: float | Tensor = 1.0) -> Tensor:
    """The discriminator's auxiliary-classifier loss: CE on real (smoothed) plus CE on generated data.

    Parameters
    ----------
    real_class_logits, fake_class_logits : Tensor, shape (batch, K)
    labels : Tensor of int64, shape (batch,)
        The classes of the real batch, which the generated batch was drawn for.
    label_smoothing : float in [0, 1]
        Smoothing of the real term's one-hot target (TF-GAN's meaning); 0 = none.
    weights : float or Tensor (batch,)
    """
    on_real = F.cross_entropy(real_class_logits, labels, reduction="none", label_smoothing=label_smoothing)
    on_fake = F.cross_entropy(fake_class_logits, labels, reduction="none")
    return weighted_mean(on_fake, weights) + weighted_mean(on_real, weights)


def acgan_generator_loss(fake_class_logits: Tensor, labels: Tensor, weights: float | Tensor = 1.0) -> Tensor:
    """The generator's auxiliary-classifier loss: CE of the generated batch's class logits against its labels."""
    return weighted_mean(F.cross_entropy(fake_class_logits, labels, reduction="none"), weights)
