"""A feature network described by what the image metrics depend on (``gankit metrics-net``).

:func:`describe` gives a network's weights hash, provenance, test accuracy and the real-vs-real
Fréchet floor: every training image against the test split, in its feature space (the
``frechet_floor`` of a run scored on at least as many samples as there are training images).
"""

from __future__ import annotations

from typing import Any

from .classifier import FeatureClassifier
from .frechet import feature_stats, frechet_distance

__all__ = ["fd_floor", "describe"]


def fd_floor(fc: FeatureClassifier, train: Any, test: Any) -> float:
    """Fréchet distance between the features of all of ``train``'s images and all of ``test``'s."""
    return frechet_distance(*feature_stats(fc.features(train.images)), *feature_stats(fc.features(test.images)))


def describe(fc: FeatureClassifier, train: Any, test: Any) -> dict[str, Any]:
    """``feature_net`` (SHA-256), ``provenance``, ``test_accuracy``, ``frechet_floor`` and the split sizes."""
    return {"feature_net": fc.hash, "provenance": fc.provenance, "test_accuracy": fc.test_accuracy,
            "frechet_floor": fd_floor(fc, train, test), "n_train": len(train), "n_test": len(test)}
