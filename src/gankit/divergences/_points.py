"""Validation of point sets and weights shared by the Wasserstein code and its file I/O."""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import Tensor

from ..errors import GankitError

__all__ = ["as_points", "as_weights", "matched_masses", "MASS_RTOL"]

#: Relative tolerance within which two total masses count as equal.
MASS_RTOL = 1e-9


def _to_float_array(value: Any, name: str) -> np.ndarray:
    if isinstance(value, Tensor):
        value = value.detach().cpu().double().numpy()
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise GankitError(f"{name} must be an array of numbers: {exc}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise GankitError(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise GankitError(f"{name} must be real, got complex values")
    return arr.astype(np.float64)


def as_points(value: Any, name: str) -> np.ndarray:
    """Return ``value`` as a finite float64 array of shape (n, d); (n,) means d = 1."""
    arr = _to_float_array(value, name)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise GankitError(
            f"{name} must have shape (n, d) or (n,), got shape {arr.shape}; flatten samples first"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise GankitError(f"{name} is empty (shape {arr.shape}); need at least one point of dimension >= 1")
    if not np.all(np.isfinite(arr)):
        bad = int(np.argwhere(~np.isfinite(arr))[0, 0])
        raise GankitError(f"{name} has a NaN or infinite coordinate (first at point {bad})")
    return arr


def as_weights(value: Any, n: int, name: str) -> np.ndarray:
    """Validate weights for ``n`` points; ``None`` gives uniform weights ``1/n``."""
    if value is None:
        return np.full(n, 1.0 / n)
    w = _to_float_array(value, name)
    if w.ndim != 1 or len(w) != n:
        raise GankitError(f"{name} must have shape ({n},), one weight per point, got shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise GankitError(f"{name} has a NaN or infinite weight")
    if np.any(w < 0):
        raise GankitError(f"{name} has a negative weight ({w.min():g}); weights must be >= 0")
    if not w.sum() > 0:
        raise GankitError(f"{name} weights sum to 0; need a positive total mass")
    return w


def matched_masses(a: np.ndarray, b: np.ndarray, normalize: bool) -> tuple[np.ndarray, np.ndarray]:
    """Rescale both to mass 1 (``normalize``) or check their totals agree."""
    sa, sb = float(a.sum()), float(b.sum())
    if normalize:
        return a / sa, b / sb
    if abs(sa - sb) > MASS_RTOL * max(sa, sb):
        raise GankitError(
            f"total masses differ (a sums to {sa:.10g}, b to {sb:.10g}); "
            "pass normalize=True (--normalize) to compare them as probability distributions"
        )
    # The solver wants exactly equal totals; the difference is rounding error.
    return a, b * (sa / sb)
