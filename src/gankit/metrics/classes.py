"""Class coverage of generated images, read by the feature classifier.

The image analogue of the mode-coverage metrics (DESIGN.md): a generated image is
*confident* when the classifier's largest class probability is at least ``threshold``
(0.9 by default); a class is *covered* when it is the predicted class (argmax) of at
least one confident image; ``class_kl`` is KL(p̂ ‖ uniform) with p̂ the histogram of the
confident images' predicted classes (``0·log 0 = 0``; NaN when no image is confident).
The threshold keeps a blurry image that the classifier cannot place from counting as a
class it happens to lean towards. :class:`ImageClassCoverage`, registered as ``classes``,
reads generated images of a labelled image data set with its feature classifier (:mod:`.images`).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..registry import METRICS
from .base import EvalData, Metric
from .images import check_images, feature_classifier

__all__ = ["class_histogram", "class_coverage_from_counts", "class_coverage", "ClassCoverage", "ImageClassCoverage"]


def class_histogram(probs: Tensor, threshold: float = 0.9) -> tuple[Tensor, int]:
    """Counts of confident predictions per class, and the number of images scored.

    Parameters
    ----------
    probs : Tensor, shape (n, k) — class probabilities (rows sum to 1)
    threshold : float — minimal top probability of a confident prediction

    Returns
    -------
    counts : Tensor (k,), int64
    n : int
    """
    top, pred = probs.max(dim=1)  # (n,), (n,)
    keep = top >= threshold
    return torch.bincount(pred[keep].cpu(), minlength=probs.shape[1]), int(probs.shape[0])


def class_coverage_from_counts(counts: Tensor, n: int) -> dict[str, float]:
    """``classes_covered``, ``confident_fraction`` and ``class_kl`` from a per-class histogram."""
    k, total = counts.numel(), int(counts.sum())
    if total == 0:
        kl = math.nan
    else:
        p = counts.double() / total
        nz = p[p > 0]
        kl = float((nz * torch.log(nz * k)).sum())
    return {"classes_covered": float(int((counts > 0).sum())), "confident_fraction": total / n if n else math.nan,
            "class_kl": kl}


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
    counts, n = class_histogram(probs, threshold)
    return class_coverage_from_counts(counts, n)


class ClassCoverage:
    """Stateful class coverage (``update(probs)`` / ``compute`` / ``reset``); counts sum across processes."""

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
class ImageClassCoverage(Metric):
    """:class:`ClassCoverage` of generated images: ``update(fake)`` classifies them first.

    Parameters
    ----------
    data : EvalData
        A labelled image data set (its feature classifier, :func:`.images.feature_classifier`).
    threshold : float
        Minimal top probability of a confident prediction.
    """

    higher_is_better = ClassCoverage.higher_is_better
    order = 20

    def __init__(self, data: EvalData, threshold: float = 0.9) -> None:
        self.data = data
        self.fc = feature_classifier(data)
        self.coverage = ClassCoverage(self.fc.n_classes, threshold)

    @classmethod
    def applies(cls, data: EvalData) -> bool:
        """Image data sets with class labels."""
        return data.has_labels

    @classmethod
    def from_data(cls, data: EvalData) -> ImageClassCoverage:
        return cls(data)

    def reset(self) -> None:
        self.coverage.reset()

    def update(self, fake: Tensor) -> None:
        self.coverage.update(self.fc.probabilities(check_images(fake, self.data)))

    def compute(self) -> dict[str, float]:
        return self.coverage.compute()
