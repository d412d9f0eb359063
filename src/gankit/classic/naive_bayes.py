"""Gaussian naive Bayes as a class-conditional generator p(x | y) p(y) (scikit-learn's ``GaussianNB``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import logsumexp
from sklearn.naive_bayes import GaussianNB

from ..errors import GankitError
from ._base import as_features, as_labels, check_fitted, fitted_features, rng_from

__all__ = ["GaussianNaiveBayesGenerator"]


class GaussianNaiveBayesGenerator:
    r"""Class-conditional Gaussian generator with independent features.

    .. math::
        p(x, y) = \pi_y \prod_j \mathcal N(x_j; \theta_{yj}, \sigma^2_{yj})

    Fitting is scikit-learn's ``GaussianNB``: :math:`\pi_y` the class frequencies (or
    ``priors``), :math:`\theta_{yj}` and :math:`\sigma^2_{yj}` the per-class feature means
    and variances, every variance increased by ``var_smoothing`` times the largest
    feature variance (``epsilon_``) so constant pixels stay usable. Samples are drawn from
    exactly these fitted parameters, smoothing included.

    Parameters
    ----------
    var_smoothing : float
    priors : array-like of shape (n_classes,), optional

    Attributes
    ----------
    nb_ : sklearn.naive_bayes.GaussianNB
    classes_ : ndarray (K,)
    class_prior_ : ndarray (K,)
    theta_, var_ : ndarray (K, d)
    feature_shape_ : tuple of int

    Examples
    --------
    >>> from gankit.data.images import load_images
    >>> m = GaussianNaiveBayesGenerator().fit(load_images("digits"))
    >>> x, y = m.sample(5, seed=0)
    >>> x.shape, y.shape
    ((5, 1, 8, 8), (5,))
    """

    def __init__(self, var_smoothing: float = 1e-9, priors: Any = None) -> None:
        self.var_smoothing = var_smoothing
        self.priors = priors

    def fit(self, X: Any, y: Any = None) -> GaussianNaiveBayesGenerator:
        """Fit on ``X`` ``(n, ...)`` and labels ``y`` ``(n,)`` (taken from ``X.labels`` for an image data set)."""
        if y is None:
            y = getattr(X, "labels", None)
            if y is None:
                raise GankitError("GaussianNaiveBayesGenerator needs labels: fit(X, y)")
        x, shape = as_features(X)
        y = as_labels(y, len(x))
        self.nb_ = GaussianNB(priors=self.priors, var_smoothing=self.var_smoothing).fit(x, y)
        self.classes_, self.class_prior_ = self.nb_.classes_, self.nb_.class_prior_
        self.theta_, self.var_ = self.nb_.theta_, self.nb_.var_
        self.feature_shape_, self.n_features_in_ = shape, x.shape[1]
        return self

    def joint_log_likelihood(self, X: Any) -> np.ndarray:
        r""":math:`\log p(x, y=k)` for every sample and class, shape (n, K)."""
        check_fitted(self, "nb_", "joint_log_likelihood")
        return self.nb_.predict_joint_log_proba(fitted_features(self, X))

    def score_samples(self, X: Any, y: Any = None) -> np.ndarray:
        """Per sample :math:`\\log p(x, y)` when ``y`` is given, else :math:`\\log p(x) = \\log \\sum_y p(x, y)`."""
        check_fitted(self, "nb_", "score_samples")
        jll = self.joint_log_likelihood(X)
        if y is None:
            return logsumexp(jll, axis=1)
        return jll[np.arange(len(jll)), self._positions(as_labels(y, len(jll)), "score")]

    def score(self, X: Any, y: Any = None) -> float:
        """Mean log-likelihood per sample: of (x, y) pairs when ``y`` is given, else of x alone."""
        check_fitted(self, "nb_", "score")
        return float(self.score_samples(X, y).mean())

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class, :math:`\\arg\\max_y p(x, y)`, shape (n,)."""
        check_fitted(self, "nb_", "predict")
        return self.classes_[self.joint_log_likelihood(X).argmax(axis=1)]

    def predict_proba(self, X: Any) -> np.ndarray:
        """:math:`p(y \\mid x)`, shape (n, K), columns ordered as ``classes_``."""
        check_fitted(self, "nb_", "predict_proba")
        jll = self.joint_log_likelihood(X)
        return np.exp(jll - logsumexp(jll, axis=1, keepdims=True))

    def sample(self, n: int, seed: int | np.random.Generator | None = None,
               y: Any = None) -> tuple[np.ndarray, np.ndarray]:
        r"""Draw ``n`` pairs: :math:`y \sim \pi`, then :math:`x_j \sim \mathcal N(\theta_{yj}, \sigma^2_{yj})`.

        Parameters
        ----------
        n : int
        seed : int or numpy Generator, optional
        y : label or array of ``n`` labels, optional
            Condition on these classes instead of drawing them from the prior.

        Returns
        -------
        X : ndarray, shape (n, *feature_shape_)
        y : ndarray, shape (n,)
        """
        check_fitted(self, "nb_", "sample")
        rng = rng_from(seed)
        if y is None:
            k = rng.choice(len(self.classes_), size=n, p=self.class_prior_ / self.class_prior_.sum())
        else:
            k = self._positions(np.broadcast_to(np.asarray(y), (n,)), "sample")
        z = rng.standard_normal((n, self.n_features_in_))
        x = self.theta_[k] + np.sqrt(self.var_[k]) * z
        return x.reshape(n, *self.feature_shape_), self.classes_[k]

    def _positions(self, labels: np.ndarray, action: str) -> np.ndarray:
        """Index of each label in ``classes_``; GankitError naming the labels not seen in fit."""
        pos = np.searchsorted(self.classes_, labels).clip(0, len(self.classes_) - 1)
        if not np.all(self.classes_[pos] == labels):
            unknown = sorted(set(labels.tolist()) - set(self.classes_.tolist()))
            raise GankitError(f"cannot {action} unseen classes {unknown[:5]}; known: {self.classes_.tolist()}")
        return pos
