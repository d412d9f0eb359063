"""A Gaussian mixture baseline (scikit-learn's ``GaussianMixture``) behind the fit/sample/score front door."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.mixture import GaussianMixture

from ..errors import GankitError
from ._base import as_features, check_fitted, fitted_features, rng_from

__all__ = ["GaussianMixtureModel"]

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


class GaussianMixtureModel:
    r"""Density model :math:`p(x) = \sum_k \pi_k \, \mathcal N(x; \mu_k, \Sigma_k)` fitted by EM.

    Parameters
    ----------
    n_components : int
        Number of mixture components :math:`K`.
    covariance_type : {"full", "tied", "diag", "spherical"}
    reg_covar : float
        Added to every covariance diagonal (keeps constant pixels from making it singular).
    max_iter, n_init : int
        EM iterations and restarts (see ``sklearn.mixture.GaussianMixture``).
    random_state : int
        Seed of the EM initialisation.

    Attributes
    ----------
    gmm_ : sklearn.mixture.GaussianMixture
    weights_, means_, covariances_ : ndarray
        The fitted :math:`\pi`, :math:`\mu`, :math:`\Sigma` (layout per ``covariance_type``).
    feature_shape_ : tuple of int
        Shape of one sample as passed to ``fit`` (images are flattened for the model).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(500, 2))
    >>> m = GaussianMixtureModel(n_components=1).fit(x)
    >>> m.sample(3, seed=0).shape
    (3, 2)
    >>> bool(abs(m.score(x) + np.log(2 * np.pi) + 1) < 0.1)   # ≈ -log(2π) - 1 for N(0, I₂)
    True
    """

    def __init__(self, n_components: int = 10, covariance_type: str = "full", reg_covar: float = 1e-6,
                 max_iter: int = 200, n_init: int = 1, random_state: int = 0) -> None:
        self.n_components, self.covariance_type, self.reg_covar = n_components, covariance_type, reg_covar
        self.max_iter, self.n_init, self.random_state = max_iter, n_init, random_state

    def fit(self, X: Any, y: Any = None) -> GaussianMixtureModel:
        """Fit by EM on ``X`` ``(n, ...)`` (array, tensor or image data set); ``y`` is ignored. Returns self."""
        if self.covariance_type not in COVARIANCE_TYPES:
            raise GankitError(f"unknown covariance_type {self.covariance_type!r}; accepted: {', '.join(COVARIANCE_TYPES)}")
        if not isinstance(self.n_components, int) or self.n_components < 1:
            raise GankitError(f"n_components must be a positive integer, got {self.n_components!r}")
        x, shape = as_features(X)
        if len(x) < self.n_components:
            raise GankitError(f"{len(x)} samples cannot fit {self.n_components} mixture components")
        self.gmm_ = GaussianMixture(self.n_components, covariance_type=self.covariance_type, reg_covar=self.reg_covar,
                                    max_iter=self.max_iter, n_init=self.n_init, random_state=self.random_state).fit(x)
        self.weights_, self.means_, self.covariances_ = self.gmm_.weights_, self.gmm_.means_, self.gmm_.covariances_
        self.feature_shape_, self.n_features_in_ = shape, x.shape[1]
        return self

    def score_samples(self, X: Any) -> np.ndarray:
        """log p(x) for each sample, shape (n,)."""
        check_fitted(self, "gmm_", "score_samples")
        return self.gmm_.score_samples(fitted_features(self, X))

    def score(self, X: Any, y: Any = None) -> float:
        """Mean log-likelihood per sample, :math:`\\frac1n \\sum_i \\log p(x_i)` (nats)."""
        check_fitted(self, "gmm_", "score")
        return float(self.score_samples(X).mean())

    def sample(self, n: int, seed: int | np.random.Generator | None = None) -> np.ndarray:
        """Draw ``n`` samples, shape ``(n, *feature_shape_)``, in random order.

        A component k ~ π per sample, then :math:`x = \\mu_k + L_k z` with
        :math:`L_k L_k^\\top = \\Sigma_k`, z ~ N(0, I). (Unlike ``GaussianMixture.sample``
        this takes a seed per call and does not group the samples by component.)
        """
        check_fitted(self, "gmm_", "sample")
        rng = rng_from(seed)
        k_of = rng.choice(self.n_components, size=n, p=self.weights_ / self.weights_.sum())  # (n,)
        z = rng.standard_normal((n, self.n_features_in_))  # (n, d)
        out = np.empty_like(z)
        for k in range(self.n_components):
            rows = k_of == k
            out[rows] = self.means_[k] + self._scale(z[rows], k)
        return out.reshape(n, *self.feature_shape_)

    def _scale(self, z: np.ndarray, k: int) -> np.ndarray:
        cov = self.covariances_
        if self.covariance_type == "full":
            return z @ np.linalg.cholesky(cov[k]).T
        if self.covariance_type == "tied":
            return z @ np.linalg.cholesky(cov).T
        return z * np.sqrt(cov[k])  # diag: (d,) variances; spherical: one variance
