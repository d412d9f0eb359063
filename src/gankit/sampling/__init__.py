"""Sampling a trained generator: plain draws, polarity sampling through its Jacobian, its
highest-density region, and discriminator rejection sampling.

- :func:`generate` (:mod:`.plain`): the generator itself, noise seeded by ``seed``.
- :func:`polarity_sample`, :func:`hpd_sample` (:mod:`.jacobian`): latents reweighted or
  selected by the singular values of ``J_G(z)``.
- :func:`drs_sample` with :func:`fit_ratio` / :func:`fitted_ratio` (:mod:`.drs`): rejection
  by a density-ratio classifier fitted to the final generator.
- :func:`sample`: one of them, chosen by its arguments.

The generator is **not** changed: only which of its samples are shown. Every metric that
gankit reports under a sampler is reported beside the plain generator's
(``eval.polarity``, ``eval.hpd``, ``eval.drs``; :func:`gankit.metrics.evaluate.evaluate`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..errors import GankitError
from .checks import check_drs, check_hpd, check_polarity, check_sampler
from .drs import RATIO_FILE, RatioClassifier, drs_sample, fit_ratio, fitted_ratio
from .jacobian import hpd_sample, log_density, log_volume, polarity_sample
from .plain import forward_batched, generate

__all__ = ["generate", "forward_batched", "log_volume", "log_density", "polarity_sample", "hpd_sample", "sample",
           "check_polarity", "check_hpd", "check_sampler", "check_drs", "RatioClassifier", "fit_ratio",
           "fitted_ratio", "drs_sample", "RATIO_FILE"]


def sample(G: nn.Module, n: int, seed: int, device: torch.device | str = "cpu", polarity: float = 0.0,
           polarity_pool: int = 10, hpd: float = 1.0, ratio: nn.Module | None = None) -> Tensor:
    """``n`` samples of ``G``: plain, polarity (``polarity ≠ 0``), highest-density (``hpd < 1``),
    or discriminator rejection sampling with a fitted :class:`RatioClassifier` (``ratio``).

    Parameters
    ----------
    G : nn.Module
        The generator (``latent_dim`` attribute).
    n, seed : int
        Number of samples; the seed of every draw.
    device : torch.device or str
        Where ``G`` runs.
    polarity, polarity_pool, hpd : float, int, float
        The sampler settings (``eval.polarity``, ``eval.polarity_pool``, ``eval.hpd``).
    ratio : nn.Module, optional
        A density-ratio classifier (:func:`fit_ratio`): discriminator rejection sampling.

    Returns
    -------
    Tensor, shape (n, *G's output), float32 on the CPU
    """
    check_sampler(polarity, polarity_pool, hpd)
    if ratio is not None:
        if polarity != 0 or hpd != 1:
            raise GankitError("choose one sampler: polarity (rho != 0), hpd (mass < 1) or drs, not two")
        return drs_sample(G, ratio, n, seed, device)
    if hpd != 1:
        return hpd_sample(G, n, hpd, seed, device)
    return polarity_sample(G, n, polarity, seed, device, pool=polarity_pool)
