"""Shared plumbing for the classical baselines: input conversion, fitted checks, seeds."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.exceptions import NotFittedError as _SkNotFitted

from ..errors import GankitError

__all__ = ["NotFittedError", "as_features", "fitted_features", "as_labels", "check_fitted", "rng_from"]


class NotFittedError(GankitError, _SkNotFitted):
    """``sample``/``score``/``predict`` was called before ``fit``.

    A :class:`~gankit.errors.GankitError` (one line on the command line) that scikit-learn's
    ``except NotFittedError`` also catches.
    """


def check_fitted(model: object, attribute: str, action: str) -> None:
    """Raise :class:`NotFittedError` unless ``model`` has the learned ``attribute``."""
    if not hasattr(model, attribute):
        name = type(model).__name__
        raise NotFittedError(f"{name} is not fitted yet: call {name}(...).fit(X) before {action}()")


def as_features(x: Any, what: str = "X") -> tuple[np.ndarray, tuple[int, ...]]:
    """Turn an array, a tensor or an image data set into float64 ``(n, d)`` and the per-sample shape.

    Images ``(n, C, H, W)`` are flattened to ``(n, C·H·W)``; the shape ``(C, H, W)`` is
    returned so samples can be given back in it. NaN and infinities are refused.
    """
    if hasattr(x, "images"):  # an ImageDataset
        x = x.images
    if hasattr(x, "detach"):  # a torch tensor, on any device
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise GankitError(f"{what} must be a numeric array, got {type(x).__name__}") from None
    if arr.ndim < 2 or arr.shape[0] == 0 or 0 in arr.shape[1:]:
        raise GankitError(f"{what} must have shape (n_samples, n_features, ...) with n_samples >= 1, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise GankitError(f"{what} holds NaN or infinite values")
    return arr.reshape(len(arr), -1), tuple(arr.shape[1:])


def fitted_features(model: Any, X: Any) -> np.ndarray:
    """``as_features(X)`` checked against the ``n_features_in_`` that ``model`` was fitted on."""
    x, _ = as_features(X)
    if x.shape[1] != model.n_features_in_:
        raise GankitError(f"X has {x.shape[1]} features per sample, the model was fitted on {model.n_features_in_}")
    return x


def as_labels(y: Any, n: int, what: str = "y") -> np.ndarray:
    """A 1-D label array of length ``n`` (tensors are moved to numpy)."""
    if hasattr(y, "detach"):
        y = y.detach().cpu().numpy()
    arr = np.asarray(y)
    if arr.ndim != 1 or len(arr) != n:
        raise GankitError(f"{what} must have shape ({n},), got {arr.shape}")
    return arr


def rng_from(seed: int | np.random.Generator | None) -> np.random.Generator:
    """``numpy.random.default_rng(seed)``; a Generator is used as is."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
