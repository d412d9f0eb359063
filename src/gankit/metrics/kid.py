r"""Kernel distance between features (KID, Bińkowski et al. 2018): unbiased MMD² with a cubic polynomial kernel.

.. math::

    k(x, y) = \Bigl(\frac{x \cdot y}{d} + 1\Bigr)^3, \qquad
    \widehat{\mathrm{MMD}}^2_u = \frac{\sum_{i \ne j} k(x_i, x_j)}{m(m-1)} + \frac{\sum_{i \ne j} k(y_i, y_j)}{n(n-1)}
                                 - \frac{2}{mn} \sum_{i, j} k(x_i, y_j)

for ``d``-dimensional features. The estimator is unbiased, so it can be negative when the two
samples come from one distribution. As in the paper's code (and clean-fid), it is averaged over
``subsets`` random subsets of ``subset_size`` samples from each side (drawn without replacement,
seeded); the spread over subsets is reported beside the mean.

:class:`ClassifierKernelDistance` (``kid``) computes it in the same feature space as the Fréchet
distance (:mod:`.frechet`), against the same reference split, with its floor computed the same way:
``m`` fixed training images against the reference, ``m`` the number of generated images scored.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from torch import Tensor

from ..registry import METRICS
from .base import EvalData, Metric
from .images import check_images, feature_classifier, reference_features, train_features

__all__ = ["polynomial_kernel", "mmd2_unbiased", "kernel_distance", "ClassifierKernelDistance", "SUBSETS",
           "SUBSET_SIZE", "FULL_KERNELS"]

#: subsets averaged over, and samples per side in each (the paper's code and clean-fid: 100 and 1,000)
SUBSETS = 100
SUBSET_SIZE = 1000
#: most kernel entries computed at once for all subsets (2**24 float64 = 128 MiB); beyond, each subset's own
FULL_KERNELS = 2**24


def _float64(x: np.ndarray | Tensor) -> np.ndarray:
    return x.detach().cpu().double().numpy() if isinstance(x, Tensor) else np.asarray(x, dtype=np.float64)


def polynomial_kernel(x: np.ndarray, y: np.ndarray, degree: int = 3, coef0: float = 1.0) -> np.ndarray:
    """``(x·y/d + coef0)^degree`` for every pair of rows of ``x`` ``(m, d)`` and ``y`` ``(n, d)``: shape ``(m, n)``."""
    return (x @ y.T / x.shape[1] + coef0) ** degree


def mmd2_unbiased(x: np.ndarray | Tensor, y: np.ndarray | Tensor) -> float:
    """The unbiased MMD² estimate between samples ``x`` ``(m, d)`` and ``y`` ``(n, d)`` (module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(50, 4))
    >>> abs(mmd2_unbiased(x, x + 3.0)) > 1.0, abs(mmd2_unbiased(x[:25], x[25:])) < 0.5
    (True, True)
    """
    x, y = _float64(x), _float64(y)
    if len(x) < 2 or len(y) < 2 or x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"MMD² needs two samples of shape (>= 2, d) with the same d; got {x.shape} and {y.shape}")
    return _mmd2(polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y))


def _mmd2(kxx: np.ndarray, kyy: np.ndarray, kxy: np.ndarray) -> float:
    """The unbiased MMD² from the three kernel matrices ``(m, m)``, ``(n, n)``, ``(m, n)``."""
    m, n = kxy.shape
    within = (kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(within - 2.0 * kxy.mean())


def kernel_distance(x: np.ndarray | Tensor, y: np.ndarray | Tensor, subsets: int = SUBSETS,
                    subset_size: int = SUBSET_SIZE, seed: int = 0) -> tuple[float, float]:
    """KID: mean and standard deviation of :func:`mmd2_unbiased` over random subsets.

    Parameters
    ----------
    x, y : array or Tensor, shapes (m, d) and (n, d)
        Features of the two samples.
    subsets : int
        Number of subsets.
    subset_size : int
        Samples per side in each subset; capped at ``min(m, n)`` (then each subset is a
        permutation of the smaller side: with ``m = n`` every subset is the whole sample).
    seed : int
        Seed of the subset draws.

    Returns
    -------
    (mean, std) : tuple of float
        ``std`` is the standard deviation over subsets (0 with one subset).
    """
    x, y = _float64(x), _float64(y)
    size = min(subset_size, len(x), len(y))
    if size == len(x) == len(y):
        subsets = 1  # every subset is the whole of both samples: one value, spread 0
    rng = np.random.default_rng(seed)
    draws = [(rng.choice(len(x), size, replace=False), rng.choice(len(y), size, replace=False))
             for _ in range(max(int(subsets), 1))]
    if len(x) ** 2 + len(y) ** 2 + len(x) * len(y) <= FULL_KERNELS:
        values = _subset_mmd2(x, y, [i for i, _ in draws], [j for _, j in draws])
    else:
        values = np.array([mmd2_unbiased(x[i], y[j]) for i, j in draws])
    return float(np.mean(values)), float(np.std(values))


def _subset_mmd2(x: np.ndarray, y: np.ndarray, ix: list[np.ndarray], iy: list[np.ndarray]) -> np.ndarray:
    """The unbiased MMD² of every subset pair ``(x[ix[s]], y[iy[s]])`` from the full kernels, computed once.

    With ``v`` the 0/1 indicator of a subset, the sum of a kernel's submatrix is ``vᵀKv``: all
    subsets at once are matrix products (no copy of a submatrix per subset).
    """
    k = len(ix[0])
    vx, vy = np.zeros((len(x), len(ix))), np.zeros((len(y), len(iy)))
    for s, (i, j) in enumerate(zip(ix, iy, strict=True)):
        vx[i, s], vy[j, s] = 1.0, 1.0
    kxx, kyy, kxy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    sxx = np.einsum("is,is->s", vx, kxx @ vx) - np.diag(kxx) @ vx  # off-diagonal sums
    syy = np.einsum("is,is->s", vy, kyy @ vy) - np.diag(kyy) @ vy
    sxy = np.einsum("is,is->s", vx, kxy @ vy)
    return (sxx + syy) / (k * (k - 1)) - 2.0 * sxy / (k * k)


@METRICS.register("kid", help="kernel distance (KID: unbiased polynomial-kernel MMD², mean ± std over subsets) of "
                              "feature-classifier features to the test split, with its real-vs-real floor; labelled "
                              "image data sets")
class ClassifierKernelDistance(Metric):
    """KID of the first ``m ≤ len(train)`` generated images to the reference split, in the feature classifier's space.

    Reports ``kid`` (mean over subsets), ``kid_std`` (their spread), ``kid_floor`` (``m`` fixed
    training images against the same reference, the same subsets' seed; NaN without a test split)
    and ``kid_subset_size`` (samples per side per subset). The feature network, sample count and
    reference are the Fréchet distance's (``feature_net``, ``fd_samples``, ``fd_reference``).
    """

    higher_is_better = {"kid": False, "kid_std": None, "kid_floor": None, "kid_subset_size": None}
    order = 11  # beside the Fréchet distance (10)

    def __init__(self, data: EvalData) -> None:
        self.data, self.fc = data, feature_classifier(data)
        self.ref = reference_features(data)
        self.reset()

    @classmethod
    def applies(cls, data: EvalData) -> bool:
        return data.has_labels

    def reset(self) -> None:
        self.features: list[np.ndarray] = []
        self.n = 0

    def update(self, fake: Tensor) -> None:
        take = check_images(fake, self.data)[: max(len(self.data.source) - self.n, 0)]
        if len(take):
            self.features.append(_float64(self.fc.features(take)))
            self.n += len(take)

    def compute(self) -> dict[str, Any]:
        if self.n < 2:
            raise ValueError("KID needs at least 2 generated images")
        fake = np.concatenate(self.features)
        seed = self.data.seed
        kid, std = kernel_distance(fake, self.ref, seed=seed)
        floor = (kernel_distance(train_features(self.data, self.n), self.ref, seed=seed)[0]
                 if self.data.test is not None else math.nan)
        size = min(SUBSET_SIZE, self.n, len(self.ref))
        return {"kid": kid, "kid_std": std, "kid_floor": floor, "kid_subset_size": size}
