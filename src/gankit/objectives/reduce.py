r"""How every loss of :mod:`gankit.objectives` reduces per-example terms to one number, with ``weights``.

TF-GAN's losses reduce with ``tf.compat.v1.losses.Reduction.SUM_BY_NONZERO_WEIGHTS``, and so
do gankit's: the weighted sum divided by the number of non-zero weights (after broadcasting),

.. math::  L = \frac{\sum_i w_i \ell_i}{\#\{i : w_i \ne 0\}},

0 when every weight is 0. A scalar weight ``w ≠ 0`` scales the mean: ``w · mean(ℓ)``. Per-example
weights are **not** normalised by their sum: weights ``(2, 2, 0, 0)`` give ``(2ℓ₁ + 2ℓ₂)/2``.
With the default ``weights=1.0`` the reduction is the plain mean.

Example
-------
>>> import torch
>>> terms = torch.tensor([1.0, 2.0, 3.0, 4.0])
>>> float(weighted_mean(terms)), float(weighted_mean(terms, 2.0))
(2.5, 5.0)
>>> float(weighted_mean(terms, torch.tensor([2.0, 2.0, 0.0, 0.0])))   # (2·1 + 2·2) / 2
3.0
"""

from __future__ import annotations

import numbers

import torch
from torch import Tensor

__all__ = ["weighted_mean", "Weights", "combine"]

#: a scalar, or one weight per example (shape (n,), or any shape broadcastable to the terms')
Weights = float | Tensor


def _is_one(w: Weights) -> bool:
    return isinstance(w, numbers.Real) and not isinstance(w, bool) and float(w) == 1.0


def combine(a: Weights, b: Weights) -> Weights:
    """``a · b``, keeping a Python scalar when both are (so that the default stays the plain mean)."""
    if _is_one(a):
        return b
    if _is_one(b):
        return a
    return a * b


def weighted_mean(terms: Tensor, weights: Weights = 1.0) -> Tensor:
    """Reduce per-example ``terms`` as TF-GAN's default reduction does (module docstring).

    Parameters
    ----------
    terms : Tensor, shape (n,) or (n, ...)
        One loss term per example (per output of a patch discriminator).
    weights : float or Tensor
        A scalar, or per-example weights of shape (n,) (broadcast over the trailing dimensions of
        ``terms``) or any shape broadcastable to ``terms``.

    Returns
    -------
    Tensor, shape ()
    """
    if _is_one(weights):
        return terms.mean()
    w = torch.as_tensor(weights, dtype=terms.dtype, device=terms.device)
    if 0 < w.dim() < terms.dim():  # (n,) against (n, 1, ...): one weight per example, not a row per column
        w = w.reshape(tuple(w.shape) + (1,) * (terms.dim() - w.dim()))
    try:
        w = torch.broadcast_to(w, terms.shape)
    except RuntimeError:
        raise ValueError(f"weights of shape {tuple(torch.as_tensor(weights).shape)} do not broadcast to the "
                         f"loss terms' shape {tuple(terms.shape)}") from None
    present = (w != 0).sum()
    total = (w * terms).sum()
    return torch.where(present > 0, total / present.clamp(min=1), torch.zeros_like(total))
