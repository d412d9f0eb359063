"""Improved precision and recall of generated samples (Kynkäänniemi et al. 2019).

Each set's manifold is the union of balls around its points, of radius the distance to the
point's ``k``-th nearest neighbour in the set (``k = 3``). Precision is the fraction of generated
samples inside the real manifold (how many look real), recall the fraction of real samples
inside the generated one (how much of the data the samples cover).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from ..errors import GankitError
from ..registry import METRICS
from .base import EvalData, Metric
from .images import PR_K, check_images, feature_classifier, train_features

__all__ = ["knn_radii", "in_manifold", "precision_recall", "PrecisionRecall"]


def _by_rows(x: Tensor, y: Tensor, fn: Callable[[Tensor], Tensor], batch: int) -> Tensor:
    """``fn`` of the distances ``(batch, len(y))`` of each batch of rows of ``x`` to ``y``, concatenated."""
    return torch.cat([fn(torch.cdist(x[i:i + batch], y)) for i in range(0, x.shape[0], batch)])


def knn_radii(x: Tensor, k: int = 3, batch: int = 1024) -> Tensor:
    """Distance of each row of ``x`` ``(n, d)`` to its ``k``-th nearest other row; shape ``(n,)``."""
    if not 1 <= k < x.shape[0]:
        raise ValueError(f"k must be in [1, {x.shape[0] - 1}] for {x.shape[0]} points, got {k}")
    x = x.double()
    return _by_rows(x, x, lambda d: d.kthvalue(k + 1, dim=1).values, batch)  # the point itself is at distance 0


def in_manifold(points: Tensor, support: Tensor, radii: Tensor, batch: int = 1024) -> Tensor:
    """Boolean ``(n,)``: is each row of ``points`` inside some ball ``(support_j, radii_j)``?"""
    return _by_rows(points.double(), support.double(), lambda d: (d <= radii[None, :]).any(dim=1), batch)


def precision_recall(real: Tensor, fake: Tensor, k: int = 3) -> dict[str, float]:
    """Precision and recall of ``fake`` against ``real`` (both ``(n, d)`` features).

    Examples
    --------
    >>> import torch
    >>> x = torch.randn(50, 4, generator=torch.Generator().manual_seed(0))
    >>> precision_recall(x, x)
    {'precision': 1.0, 'recall': 1.0}
    """
    real = real.reshape(real.shape[0], -1)
    fake = fake.reshape(fake.shape[0], -1)
    precision = in_manifold(fake, real, knn_radii(real, k)).double().mean()
    recall = in_manifold(real, fake, knn_radii(fake, k)).double().mean()
    return {"precision": float(precision), "recall": float(recall)}


@METRICS.register("precision_recall", help="improved precision and recall (k = 3) in feature-classifier space "
                                           "against as many training images; labelled image data sets")
class PrecisionRecall(Metric):
    """Precision and recall of the first ``m ≤ len(train)`` generated images against ``m`` fixed training images.

    Both sets' k-NN balls are needed, so the state keeps the features of the images seen.
    """

    higher_is_better = {"precision": True, "recall": True}
    order = 30

    def __init__(self, data: EvalData, k: int = PR_K) -> None:
        self.data, self.k = data, k
        self.fc = feature_classifier(data)
        self.reset()

    @classmethod
    def applies(cls, data: EvalData) -> bool:
        return data.has_labels

    def reset(self) -> None:
        self.features: list[Tensor] = []
        self.seen = 0

    def update(self, fake: Tensor) -> None:
        take = check_images(fake, self.data)[: max(len(self.data.source) - self.seen, 0)]
        if len(take):
            self.features.append(self.fc.features(take))
            self.seen += len(take)

    def compute(self) -> dict[str, float]:
        n_train = len(self.data.source)
        if self.seen <= self.k or n_train <= self.k:
            raise GankitError(f"image metrics need more than {self.k} generated and training images; "
                              f"got {self.seen} and {n_train}")
        return precision_recall(train_features(self.data, self.seen), torch.cat(self.features), k=self.k)
