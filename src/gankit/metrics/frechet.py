"""Fréchet distance between Gaussians fitted to features (the maths of FID, Heusel et al. 2017).

:class:`ClassifierFrechet` works in the feature classifier's space (:mod:`.classifier`, not
Inception), so values compare only between runs with the same feature network: its hash, the
sample count, the reference split and the real-vs-real floor are reported beside each number.
``feature_net_provenance`` says whether the network is the one shipped with gankit ("shipped":
the same on every machine, digits) or trained on this machine ("local": other data sets).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import scipy.linalg
from torch import Tensor

from ..registry import METRICS
from .base import EvalData, Metric
from .images import check_images, feature_classifier, reference, reference_features, train_features

__all__ = ["frechet_distance", "feature_stats", "FrechetDistance", "ClassifierFrechet"]


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray,
                     eps: float = 1e-6) -> float:
    r"""Squared Fréchet (2-Wasserstein) distance between :math:`N(\mu_1, \Sigma_1)` and :math:`N(\mu_2, \Sigma_2)`.

    .. math::
        d^2 = \lVert\mu_1 - \mu_2\rVert^2 + \operatorname{tr}\bigl(\Sigma_1 + \Sigma_2
              - 2 (\Sigma_1 \Sigma_2)^{1/2}\bigr)

    (Dowson & Landau 1982) for means ``(d,)`` and covariances ``(d, d)``. Where the product is
    singular ``eps·I`` is added to both covariances, as in the reference FID code.

    Examples
    --------
    >>> import numpy as np
    >>> frechet_distance(np.zeros(2), np.eye(2), np.ones(2), 4 * np.eye(2))  # |1|^2·2 + 2·(1 + 4 - 2·2)
    4.0
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, dtype=np.float64)), np.atleast_1d(np.asarray(mu2, dtype=np.float64))
    cov1, cov2 = np.atleast_2d(np.asarray(cov1, dtype=np.float64)), np.atleast_2d(np.asarray(cov2, dtype=np.float64))
    if mu1.shape != mu2.shape or cov1.shape != cov2.shape or cov1.shape != (mu1.size, mu1.size):
        raise ValueError(f"shapes do not match: mu {mu1.shape} {mu2.shape}, cov {cov1.shape} {cov2.shape}")
    diff = mu1 - mu2
    with warnings.catch_warnings():  # singular products (dead ReLU features) are handled below
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        covmean = scipy.linalg.sqrtm(cov1 @ cov2)
        if not np.isfinite(covmean).all():
            offset = eps * np.eye(mu1.size)
            covmean = scipy.linalg.sqrtm((cov1 + offset) @ (cov2 + offset))
    value = float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * np.trace(np.real(covmean)))
    return max(value, 0.0)


def _float64(features: np.ndarray | Tensor) -> np.ndarray:
    return features.detach().cpu().double().numpy() if isinstance(features, Tensor) else np.asarray(features, np.float64)


def feature_stats(features: np.ndarray | Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(d,)`` and unbiased covariance ``(d, d)`` of ``features`` ``(n, d)`` in float64."""
    f = _float64(features)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"features must have shape (n >= 2, d), got {f.shape}")
    return f.mean(axis=0), np.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1])


class FrechetDistance:
    """Fréchet distance of accumulated features ``(n, d)`` to reference statistics; the state sums across processes.

    Examples
    --------
    >>> import numpy as np
    >>> ref = np.random.default_rng(0).normal(size=(500, 3))
    >>> m = FrechetDistance(*feature_stats(ref))
    >>> m.update(ref[:250]); m.update(ref[250:])
    >>> round(m.compute(), 12)
    0.0
    """

    higher_is_better = False

    def __init__(self, ref_mu: np.ndarray, ref_cov: np.ndarray) -> None:
        self.ref_mu = np.asarray(ref_mu, np.float64)
        self.ref_cov = np.asarray(ref_cov, np.float64)
        self.reset()

    def reset(self) -> None:
        d = self.ref_mu.size
        self.n, self.sum, self.outer = 0, np.zeros(d), np.zeros((d, d))

    def update(self, features: np.ndarray | Tensor) -> None:
        f = _float64(features)
        self.n += f.shape[0]
        self.sum += f.sum(axis=0)
        self.outer += f.T @ f

    def compute(self) -> float:
        if self.n < 2:
            raise ValueError("FrechetDistance needs at least 2 feature vectors")
        mu = self.sum / self.n
        cov = (self.outer - self.n * np.outer(mu, mu)) / (self.n - 1)  # unbiased
        return frechet_distance(mu, cov, self.ref_mu, self.ref_cov)


@METRICS.register("frechet", help="Frechet distance of feature-classifier features to the test split, with the "
                                  "real-vs-real floor and provenance; labelled image data sets")
class ClassifierFrechet(Metric):
    """Fréchet distance of the first ``m ≤ len(train)`` generated images to the reference split.

    Reports ``frechet_distance``, ``frechet_floor`` (``m`` fixed training images against the
    same reference; NaN without a test split), ``fd_samples`` (m), ``fd_reference``,
    ``feature_net`` (first 16 hex digits of its weights' SHA-256), ``feature_net_provenance``
    ("shipped" or "local") and ``classifier_accuracy``.
    """

    higher_is_better = {"frechet_distance": False, "frechet_floor": None, "fd_samples": None, "fd_reference": None,
                        "feature_net": None, "feature_net_provenance": None, "classifier_accuracy": None}
    order = 10

    def __init__(self, data: EvalData) -> None:
        self.data, self.fc = data, feature_classifier(data)
        ref = reference(data)
        self.ref_size = len(ref)
        self.fd = FrechetDistance(*feature_stats(reference_features(data)))

    @classmethod
    def applies(cls, data: EvalData) -> bool:
        return data.has_labels

    def reset(self) -> None:
        self.fd.reset()

    def update(self, fake: Tensor) -> None:
        take = check_images(fake, self.data)[: max(len(self.data.source) - self.fd.n, 0)]
        if len(take):
            self.fd.update(self.fc.features(take))

    def compute(self) -> dict[str, Any]:
        m, has_test = self.fd.n, self.data.test is not None
        floor = (frechet_distance(*feature_stats(train_features(self.data, m)), self.fd.ref_mu, self.fd.ref_cov)
                 if has_test else math.nan)
        return {"frechet_distance": self.fd.compute(), "frechet_floor": floor,
                "fd_samples": m, "fd_reference": f"{'test' if has_test else 'train'}:{self.ref_size}",
                "feature_net": self.fc.hash[:16], "feature_net_provenance": self.fc.provenance,
                "classifier_accuracy": self.fc.test_accuracy}
