"""Class coverage of generated images, read by the feature classifier (the image analogue of :mod:`.modes`).

An image is *confident* when its top class probability is at least ``threshold`` (0.9: a blurry
image the classifier cannot place does not count); a class is *covered* when it is the predicted
class of a confident image; ``class_kl`` is KL(histogram of confident classes ‖ uniform).
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..registry import METRICS
from .base import EvalData, Metric
from .images import check_images, feature_classifier
from .modes import coverage_from_counts

__all__ = ["class_histogram", "class_coverage_from_counts", "class_coverage", "ClassCoverage", "ImageClassCoverage"]


def class_histogram(probs: Tensor, threshold: float = 0.9) -> tuple[Tensor, int]:
    """Counts ``(k,)`` of confident predictions per class in ``probs`` ``(n, k)``, and ``n``."""
    top, pred = probs.max(dim=1)  # (n,), (n,)
    return torch.bincount(pred[top >= threshold].cpu(), minlength=probs.shape[1]), int(probs.shape[0])


def class_coverage_from_counts(counts: Tensor, n: int) -> dict[str, float]:
    """``classes_covered``, ``confident_fraction`` and ``class_kl`` from a per-class histogram."""
    return dict(zip(("classes_covered", "confident_fraction", "class_kl"), coverage_from_counts(counts, n),
                    strict=True))


def class_coverage(probs: Tensor, threshold: float = 0.9) -> dict[str, float]:
    """Classes covered, fraction of confident images and KL of the class histogram to uniform.

    Examples
    --------
    >>> import torch
    >>> p = torch.tensor([[0.95, 0.05, 0.0], [0.0, 0.5, 0.5], [0.0, 0.02, 0.98], [0.99, 0.01, 0.0]])
    >>> m = class_coverage(p)
    >>> m["classes_covered"], m["confident_fraction"]
    (2.0, 0.75)
    """
    return class_coverage_from_counts(*class_histogram(probs, threshold))


class ClassCoverage:
    """Stateful class coverage of class probabilities (``update(probs)``); counts sum across processes."""

    higher_is_better = {"classes_covered": True, "confident_fraction": True, "class_kl": False}

    def __init__(self, n_classes: int, threshold: float = 0.9) -> None:
        self.n_classes, self.threshold = n_classes, threshold
        self.reset()

    def reset(self) -> None:
        self.counts = torch.zeros(self.n_classes, dtype=torch.int64)
        self.n = 0

    def update(self, probs: Tensor) -> None:
        counts, n = class_histogram(probs, self.threshold)
        self.counts += counts
        self.n += n

    def compute(self) -> dict[str, float]:
        return class_coverage_from_counts(self.counts, self.n)


@METRICS.register("classes", help="classes covered / confident fraction / class KL of generated images, read by "
                                  "the feature classifier; labelled image data sets")
class ImageClassCoverage(ClassCoverage, Metric):
    """:class:`ClassCoverage` of generated images of a labelled image data set: ``update(fake)`` classifies them."""

    order = 20

    def __init__(self, data: EvalData, threshold: float = 0.9) -> None:
        self.data, self.fc = data, feature_classifier(data)
        super().__init__(self.fc.n_classes, threshold)

    @classmethod
    def applies(cls, data: EvalData) -> bool:
        return data.has_labels

    def update(self, fake: Tensor) -> None:
        super().update(self.fc.probabilities(check_images(fake, self.data)))
