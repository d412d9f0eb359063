"""Sampling a trained generator: plain draws (:mod:`.plain`), polarity and highest-density
sampling through its Jacobian (:mod:`.jacobian`), discriminator rejection sampling (:mod:`.drs`).

The generator is never changed, only which of its samples are shown; metrics under a sampler
are reported beside the plain generator's (:func:`gankit.metrics.evaluate.evaluate`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .checks import check_drs, check_hpd, check_polarity, check_sampler
from .conditional import class_generator, is_conditional
from .drs import RatioClassifier, drs_sample, fit_ratio, fitted_ratio
from .jacobian import hpd_sample, log_density, log_volume, polarity_sample
from .plain import forward_batched, generate

__all__ = ["generate", "forward_batched", "log_volume", "log_density", "polarity_sample", "hpd_sample", "sample",
           "check_polarity", "check_hpd", "check_sampler", "check_drs", "RatioClassifier", "fit_ratio", "fitted_ratio",
           "drs_sample", "class_generator", "is_conditional"]


def sample(G: nn.Module, n: int, seed: int, device: torch.device | str = "cpu", polarity: float = 0.0,
           polarity_pool: int = 10, hpd: float = 1.0, ratio: nn.Module | None = None) -> Tensor:
    """``n`` samples ``(n, *G's output)`` of ``G``, float32 on the CPU, every draw seeded ``seed``.

    Plain, polarity (``polarity ≠ 0``, ``polarity_pool`` latents per sample), highest-density
    (``hpd < 1``) or discriminator rejection sampling with a fitted density ratio ``ratio``
    (:func:`fit_ratio`); at most one of them.
    """
    check_sampler(polarity, polarity_pool, hpd, int(ratio is not None))
    if ratio is not None:
        return drs_sample(G, ratio, n, seed, device)
    if hpd != 1:
        return hpd_sample(G, n, hpd, seed, device)
    return polarity_sample(G, n, polarity, seed, device, pool=polarity_pool)
