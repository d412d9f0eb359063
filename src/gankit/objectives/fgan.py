r"""f-GAN losses (Nowozin, Cseke & Tomioka 2016, §3): pure functions of raw discriminator outputs.

The activation ``g_f`` of the :class:`~gankit.divergences.FDivergence` maps a raw output
``v`` into ``dom f*``; the variational lower bound of f-GAN eq. (6) is

.. math::  F = E_{x∼P}[g_f(v(x))] − E_{x∼Q}[f^*(g_f(v(x)))] \le D_f(P \| Q).

D maximises ``F``; G minimises it (saturating) or maximises ``E_Q[g_f(v)]``
(non-saturating, §3.2). For ``gan`` these are the usual cross-entropy losses on logits.
Every loss reduces by mean and stays finite, with finite gradients, for large ``|v|``.

Example
-------
>>> import torch
>>> real, fake = torch.zeros(4), torch.zeros(4)
>>> round(float(fgan_discriminator_loss("gan", real, fake)), 4)  # 2 log 2
1.3863
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from ..divergences.fdiv import FDivergence, get_divergence
from .base import LogitObjective
from .reduce import Weights, combine, weighted_mean

__all__ = ["variational_bound", "fgan_discriminator_loss", "fgan_generator_loss", "fgan_nonsaturating_generator_loss",
           "FGAN", "FGAN_DEFAULTS", "fgan_defaults"]


def variational_bound(div: str | FDivergence, v_real: Tensor, v_fake: Tensor, real_weights: Weights = 1.0,
                      generated_weights: Weights = 1.0, *, weights: Weights = 1.0) -> Tensor:
    r"""``E_P[g_f(v)] − E_Q[f*(g_f(v))]``, the lower bound on ``D_f(P‖Q)`` (f-GAN eq. 6).

    Parameters
    ----------
    div : str or FDivergence
        ``"kl"``, ``"alpha:0.5"``, ... or a record.
    v_real : Tensor, shape (n,) or (n, 1)
        Raw discriminator outputs on samples of ``P`` (data).
    v_fake : Tensor, shape (m,) or (m, 1)
        Raw discriminator outputs on samples of ``Q`` (generator).
    real_weights, generated_weights, weights : float or Tensor of shape (n,) / (m,)
        Per-side and both-side weights, reduced as TF-GAN's (:mod:`.reduce`); default: plain means.

    Returns
    -------
    Tensor, shape ()
    """
    div = get_divergence(div)
    return (weighted_mean(div.activation(v_real), combine(real_weights, weights))
            - weighted_mean(div.conjugate_activation(v_fake), combine(generated_weights, weights)))


def fgan_discriminator_loss(div: str | FDivergence, v_real: Tensor, v_fake: Tensor, real_weights: Weights = 1.0,
                            generated_weights: Weights = 1.0, *, weights: Weights = 1.0) -> Tensor:
    r"""Discriminator loss ``−(E_P[g_f(v)] − E_Q[f*(g_f(v))])``: minimising it maximises the bound.

    For ``"gan"``: ``E_P[softplus(−v)] + E_Q[softplus(v)]``, the usual cross-entropy.
    Shapes and weights as in :func:`variational_bound`; returns a scalar.
    """
    return -variational_bound(div, v_real, v_fake, real_weights, generated_weights, weights=weights)


def fgan_generator_loss(div: str | FDivergence, v_fake: Tensor, weights: Weights = 1.0) -> Tensor:
    r"""Saturating generator loss ``−E_Q[f*(g_f(v))]`` (the generator minimises the bound).

    ``E_P[g_f(v)]`` does not depend on the generator and is dropped.

    Parameters
    ----------
    div : str or FDivergence
    v_fake : Tensor, shape (m,) or (m, 1)
        Raw discriminator outputs on generated samples.
    weights : float or Tensor of shape (m,)
        Reduced as TF-GAN's (:mod:`.reduce`).

    Returns
    -------
    Tensor, shape ()
    """
    return -weighted_mean(get_divergence(div).conjugate_activation(v_fake), weights)


def fgan_nonsaturating_generator_loss(div: str | FDivergence, v_fake: Tensor, weights: Weights = 1.0) -> Tensor:
    r"""Non-saturating generator loss ``−E_Q[g_f(v)]`` (f-GAN §3.2: maximise ``E_Q[g_f(V(G(z)))]``).

    For ``"gan"``: ``E_Q[softplus(−v)] = −E_Q[log D(G(z))]`` (Goodfellow et al. 2014).
    Shapes and ``weights`` as in :func:`fgan_generator_loss`.
    """
    return -weighted_mean(get_divergence(div).activation(v_fake), weights)


#: Training defaults of every f-GAN (keys of ``train``, or dotted), measured on ring8 and grid25
#: (docs/theory.md, "Every objective trains"); a divergence's own row in :data:`FGAN_DEFAULTS` overrides them.
FGAN_COMMON: dict[str, Any] = {
    # a Lipschitz critic (one-sided penalty on interpolates): the bound stays finite where the supports of
    # data and generator are disjoint, as on ring8 and grid25 (fgan:reverse_kl on ring8: 3 -> 8 modes)
    "objective.gp_weight": 1.0, "objective.gp_one_sided": True,
}

#: Per-divergence training defaults, each with what it fixes (3,000 steps of the default preset).
FGAN_DEFAULTS: dict[str, dict[str, Any]] = {
    # a flatter critic (Lipschitz target 1/4): at slope 1 the critic saturates (TV's ½·tanh) or its exponentials
    # blow up (Neyman's e^{-v}, KL's and Jeffrey's e^{t-1}) across grid25's distances. grid25 modes at target 1
    # -> 1/4: TV 5 -> 21, Neyman 0 -> 21, Pearson 18 -> 21 (seed 1); KL 12 -> 21, Jeffrey 18 -> 22 (seed 2)
    "total_variation": {"objective.gp_target": 0.25},
    "neyman": {"objective.gp_target": 0.25},
    "pearson": {"objective.gp_target": 0.25},
    "kl": {"objective.gp_target": 0.25},
    "jeffrey": {"objective.gp_target": 0.25},
}


def fgan_defaults(name: str) -> dict[str, Any]:
    """The training defaults of ``fgan:<name>``: :data:`FGAN_COMMON` updated by the divergence's own row."""
    return {**FGAN_COMMON, **FGAN_DEFAULTS.get(name, {})}


class FGAN(LogitObjective):
    r"""f-GAN with one divergence: D maximises the bound ``E_P[T] − E_Q[f*(T)]``, ``T = g_f(v)``.

    Logs ``estimate`` (the bound), ``t_real`` (``E_P[T]``) and ``conj_fake`` (``E_Q[f*(T)]``):
    when a loss goes non-finite the health guard names the term that did.

    Parameters
    ----------
    div : str or FDivergence
    saturating : bool, default False
        Generator loss ``−E_Q[f*(T)]`` (f-GAN eq. 6) instead of ``−E_Q[T]`` (§3.2).
    """

    def __init__(self, div: str | FDivergence, saturating: bool = False) -> None:
        self.div, self.saturating = get_divergence(div), bool(saturating)
        g_loss = fgan_generator_loss if self.saturating else fgan_nonsaturating_generator_loss
        super().__init__(f"fgan:{self.div.name}", lambda r, f: fgan_discriminator_loss(self.div, r, f),
                         lambda f: g_loss(self.div, f), lambda r, f: variational_bound(self.div, r, f),
                         estimate_label=f"bound on D_{self.div.name}", defaults=fgan_defaults(self.div.name))

    def __repr__(self) -> str:
        return f"FGAN({self.div.name!r}, saturating={self.saturating})"

    def discriminator_loss(self, D: nn.Module, real: Tensor, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        t_real = self.div.activation(D(real)).mean()
        conj_fake = self.div.conjugate_activation(D(fake)).mean()
        bound = t_real - conj_fake
        return -bound, {"estimate": bound.detach(), "t_real": t_real.detach(), "conj_fake": conj_fake.detach()}
