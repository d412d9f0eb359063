r"""Parzen-window log-likelihood, the protocol of Goodfellow et al. 2014 (section 5).

A Gaussian kernel density of bandwidth :math:`\sigma` on the generated samples
:math:`g_1..g_m` (flattened, ``d`` dimensions) scores held-out real data:

.. math::
    \log \hat p(x) = \operatorname{logsumexp}_i\Bigl(-\frac{\lVert x - g_i\rVert^2}{2\sigma^2}\Bigr)
                     - \log m - \frac{d}{2}\log(2\pi\sigma^2),

with :math:`\sigma` chosen on a validation split, in float64. The estimate is poor in high
dimensions (Theis et al. 2016); it is reported because the GAN paper reports it.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from ..registry import METRICS
from .base import EvalData, Metric
from .images import PARZEN_VALID, check_images, reference

__all__ = ["parzen_log_likelihood", "parzen_log_likelihood_grid", "select_bandwidth", "parzen_score", "SIGMA_GRID",
           "ParzenWindow"]

#: bandwidths tried on the validation split (for pixels in [0, 1]; Goodfellow et al. used a grid too)
SIGMA_GRID = tuple(float(s) for s in np.logspace(-2, 0, 11))


def parzen_log_likelihood_grid(x: Tensor, kernels: Tensor, sigmas: tuple[float, ...] | list[float],
                               batch: int = 256) -> Tensor:
    """Log-density of each row of ``x`` for every bandwidth in ``sigmas``; shape ``(n, len(sigmas))``, float64."""
    x = x.reshape(x.shape[0], -1).double()
    g = kernels.reshape(kernels.shape[0], -1).double().to(x.device)
    m, d = g.shape
    s = torch.tensor(list(sigmas), dtype=torch.float64, device=x.device)  # (k,)
    const = -math.log(m) - 0.5 * d * torch.log(2 * math.pi * s * s)  # (k,)
    g_sq = (g * g).sum(1)  # (m,)
    out = []
    for i in range(0, x.shape[0], batch):
        xb = x[i:i + batch]
        # |x - g|^2 = |x|^2 - 2 x.g + |g|^2, clamped at 0 against round-off
        sq = ((xb * xb).sum(1, keepdim=True) - 2 * xb @ g.T + g_sq[None, :]).clamp_min(0)  # (batch, m)
        lse = torch.logsumexp(-sq[:, None, :] / (2 * s * s)[None, :, None], dim=2)  # (batch, k)
        out.append(lse + const[None, :])
    return torch.cat(out) if out else torch.empty(0, len(s), dtype=torch.float64)


def parzen_log_likelihood(x: Tensor, kernels: Tensor, sigma: float, batch: int = 256) -> Tensor:
    """Log-density ``(n,)``, float64, of each row of ``x`` ``(n, ...)`` under a Gaussian Parzen window of
    bandwidth ``sigma`` on ``kernels`` ``(m, ...)`` (the generated samples), ``batch`` rows at a time.

    Examples
    --------
    >>> import torch, math
    >>> lp = parzen_log_likelihood(torch.zeros(1, 1), torch.zeros(1, 1), 1.0)
    >>> abs(float(lp[0]) + 0.5 * math.log(2 * math.pi)) < 1e-12
    True
    """
    return parzen_log_likelihood_grid(x, kernels, (sigma,), batch)[:, 0]


def select_bandwidth(valid: Tensor, kernels: Tensor, grid: tuple[float, ...] = SIGMA_GRID) -> tuple[float, float]:
    """The ``sigma`` of ``grid`` that maximises the mean log-likelihood of ``valid``, and that likelihood."""
    means = parzen_log_likelihood_grid(valid, kernels, grid, batch=64).mean(0)  # (k,)
    best = int(torch.argmax(means))
    return float(grid[best]), float(means[best])


def parzen_score(kernels: Tensor, valid: Tensor, test: Tensor,
                 grid: tuple[float, ...] = SIGMA_GRID) -> dict[str, float]:
    """Choose ``sigma`` on ``valid``, then ``parzen_ll`` (mean log-likelihood of ``test``), its standard error
    ``parzen_se`` and ``parzen_sigma``."""
    sigma, _ = select_bandwidth(valid, kernels, grid)
    ll = parzen_log_likelihood(test, kernels, sigma)
    se = float(ll.std() / math.sqrt(len(ll))) if len(ll) > 1 else math.nan
    return {"parzen_ll": float(ll.mean()), "parzen_se": se, "parzen_sigma": sigma}


@METRICS.register("parzen", help="Parzen-window log-likelihood of the test split under the generated images "
                                 "(Goodfellow et al. 2014), with the training-split floor; image data sets")
class ParzenWindow(Metric):
    """:func:`parzen_score` of the reference split with kernels on every generated image seen (pixels in [0, 1]).

    The bandwidth is chosen on ``parzen_valid`` fixed training images (at most :data:`~.images.PARZEN_VALID`,
    at most half the split); ``parzen_floor`` puts the kernels on the other training images instead.
    """

    higher_is_better = {"parzen_ll": True, "parzen_se": None, "parzen_sigma": None, "parzen_floor": None,
                        "parzen_valid": None}
    order = 40

    def __init__(self, data: EvalData) -> None:
        self.data = data
        train = data.source
        self.n_valid = min(PARZEN_VALID, len(train) // 2)
        perm = torch.randperm(len(train), generator=torch.Generator().manual_seed(data.seed + 1))
        self.valid = (train.images[perm[:self.n_valid]] + 1) / 2  # pixels in [0, 1]
        self.rest = (train.images[perm[self.n_valid:]] + 1) / 2
        self.target = (reference(data).images + 1) / 2
        self.reset()

    @classmethod
    def applies(cls, data: EvalData) -> bool:
        """Image data sets (labels not needed)."""
        return data.is_image

    def reset(self) -> None:
        self.kernels: list[Tensor] = []

    def update(self, fake: Tensor) -> None:
        self.kernels.append((check_images(fake, self.data) + 1) / 2)

    def compute(self) -> dict[str, float]:
        out = parzen_score(torch.cat(self.kernels), self.valid, self.target)
        out["parzen_floor"] = parzen_score(self.rest, self.valid, self.target)["parzen_ll"]
        out["parzen_valid"] = self.n_valid
        return out
