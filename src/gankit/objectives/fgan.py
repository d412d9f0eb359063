r"""f-GAN losses (Nowozin, Cseke & Tomioka 2016, §3): pure functions of raw discriminator outputs.

The discriminator outputs raw values ``V(x)`` (logits, any real number); the activation
``g_f`` of the chosen :class:`~gankit.divergences.FDivergence` maps them to ``T = g_f(V)``
inside ``dom f*``. The variational (Fenchel) lower bound of f-GAN eq. (6) is

.. math::  F(θ, ω) = E_{x∼P}[g_f(V_ω(x))] − E_{x∼Q_θ}[f^*(g_f(V_ω(x)))] \le D_f(P \| Q_θ),

with equality at ``T*(x) = f'(p(x)/q(x))``. The discriminator maximises ``F``; the
generator minimises it (the *saturating* loss below), or, as in §3.2 of the paper,
maximises ``E_Q[g_f(V(G(z)))]`` (the *non-saturating* alternative, the f-GAN analogue of
Goodfellow et al.'s ``−log D(G(z))`` trick). For ``gan`` these reduce exactly to the usual
binary cross-entropy losses on logits.

All functions reduce by mean, keep dtype/device of their inputs and evaluate
``f*(g_f(v))`` through ``conjugate_activation``, finite with finite gradients for large
``|v|``. They know nothing of models or optimisers.

Example
-------
>>> import torch
>>> real, fake = torch.zeros(4), torch.zeros(4)
>>> round(float(fgan_discriminator_loss("gan", real, fake)), 4)  # 2 log 2
1.3863
"""

from __future__ import annotations

from typing import NamedTuple

from torch import Tensor

from ..divergences.fdiv import FDivergence, get_divergence

__all__ = [
    "FGANTerms",
    "variational_bound",
    "variational_terms",
    "fgan_discriminator_loss",
    "fgan_generator_loss",
    "fgan_nonsaturating_generator_loss",
]


class FGANTerms(NamedTuple):
    """The f-GAN quantities of one batch (scalars).

    ``bound = E_P[g_f(v)] − E_Q[f*(g_f(v))]``; ``d_loss = −bound``;
    ``g_loss = −E_Q[f*(g_f(v))]`` (saturating); ``g_loss_nonsaturating = −E_Q[g_f(v)]``.
    """

    bound: Tensor
    d_loss: Tensor
    g_loss: Tensor
    g_loss_nonsaturating: Tensor


def variational_bound(div: str | FDivergence, v_real: Tensor, v_fake: Tensor) -> Tensor:
    r"""``E_P[g_f(v)] − E_Q[f*(g_f(v))]``, the lower bound on ``D_f(P‖Q)`` (f-GAN eq. 6).

    Parameters
    ----------
    div : str or FDivergence
        ``"kl"``, ``"alpha:0.5"``, ... or a record.
    v_real : Tensor, shape (n,) or (n, 1)
        Raw discriminator outputs on samples of ``P`` (data).
    v_fake : Tensor, shape (m,) or (m, 1)
        Raw discriminator outputs on samples of ``Q`` (generator).

    Returns
    -------
    Tensor, shape ()
    """
    div = get_divergence(div)
    return div.activation(v_real).mean() - div.conjugate_activation(v_fake).mean()


def fgan_discriminator_loss(div: str | FDivergence, v_real: Tensor, v_fake: Tensor) -> Tensor:
    r"""Discriminator loss ``−(E_P[g_f(v)] − E_Q[f*(g_f(v))])``: minimising it maximises the bound.

    For ``"gan"``: ``E_P[softplus(−v)] + E_Q[softplus(v)]``, the usual cross-entropy.
    Shapes as in :func:`variational_bound`; returns a scalar.
    """
    return -variational_bound(div, v_real, v_fake)


def fgan_generator_loss(div: str | FDivergence, v_fake: Tensor) -> Tensor:
    r"""Saturating generator loss ``−E_Q[f*(g_f(v))]`` (the generator minimises the bound).

    ``E_P[g_f(v)]`` does not depend on the generator and is dropped.

    Parameters
    ----------
    div : str or FDivergence
    v_fake : Tensor, shape (m,) or (m, 1)
        Raw discriminator outputs on generated samples.

    Returns
    -------
    Tensor, shape ()
    """
    return -get_divergence(div).conjugate_activation(v_fake).mean()


def fgan_nonsaturating_generator_loss(div: str | FDivergence, v_fake: Tensor) -> Tensor:
    r"""Non-saturating generator loss ``−E_Q[g_f(v)]`` (f-GAN §3.2: maximise ``E_Q[g_f(V(G(z)))]``).

    For ``"gan"``: ``E_Q[softplus(−v)] = −E_Q[log D(G(z))]`` (Goodfellow et al. 2014).
    Shapes as in :func:`fgan_generator_loss`.
    """
    return -get_divergence(div).activation(v_fake).mean()


def variational_terms(div: str | FDivergence, v_real: Tensor, v_fake: Tensor) -> FGANTerms:
    """All f-GAN quantities of one batch, sharing one evaluation of the activations.

    Parameters
    ----------
    div : str or FDivergence
    v_real : Tensor, shape (n,) or (n, 1)
    v_fake : Tensor, shape (m,) or (m, 1)

    Returns
    -------
    FGANTerms
        ``(bound, d_loss, g_loss, g_loss_nonsaturating)``, each a scalar tensor.
    """
    div = get_divergence(div)
    e_p = div.activation(v_real).mean()  # E_P[T]
    e_q_conj = div.conjugate_activation(v_fake).mean()  # E_Q[f*(T)]
    bound = e_p - e_q_conj
    return FGANTerms(bound, -bound, -e_q_conj, -div.activation(v_fake).mean())
