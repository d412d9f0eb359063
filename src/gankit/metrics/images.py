"""The image metrics on their own (:func:`image_metrics`), and the helpers they share.

Every registered metric that applies to image data (docs/images.md); all but the Parzen window
need class labels, for the feature classifier. The classifier and the features of the fixed
training subset are computed once per :class:`~.base.EvalData` and shared.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..errors import GankitError
from .base import EvalData, score
from .classifier import FeatureClassifier, get_classifier

__all__ = ["image_metrics", "PR_K", "PARZEN_VALID", "check_images", "feature_classifier", "train_features",
           "reference", "reference_features"]

#: the k of precision/recall's k-NN balls
PR_K = 3
#: images of the training split held out to choose the Parzen bandwidth
PARZEN_VALID = 300


def _subset(n_total: int, n: int, seed: int) -> Tensor:
    """A fixed subset of ``n`` of ``n_total`` indices, sorted, drawn with a generator seeded ``seed``."""
    return torch.randperm(n_total, generator=torch.Generator().manual_seed(seed))[:n].sort().values


def check_images(fake: Tensor, data: EvalData) -> Tensor:
    """``fake`` detached as CPU float32, after checking it has the data's image shape (ValueError if not)."""
    if tuple(fake.shape[1:]) != tuple(data.source.shape):
        raise ValueError(f"generated images have shape {tuple(fake.shape[1:])}, the data {tuple(data.source.shape)}")
    return fake.detach().float().cpu()


def feature_classifier(data: EvalData) -> FeatureClassifier:
    """The feature classifier of ``data``'s labelled image set, made once per :class:`EvalData`."""
    return data.shared("classifier", lambda: get_classifier(data.source, data.test, use_cache=data.use_cache))


def train_features(data: EvalData, m: int) -> Tensor:
    """Classifier features of the fixed subset of ``m`` training images (seeded ``data.seed``)."""
    images = data.source.images
    return data.shared(("train_features", m),
                       lambda: feature_classifier(data).features(images[_subset(len(images), m, data.seed)]))


def reference(data: EvalData) -> Any:
    """The split generated images are compared with: the test split, else the training split."""
    return data.test if data.test is not None else data.source


def reference_features(data: EvalData) -> Tensor:
    """Classifier features of every image of the :func:`reference` split, computed once per :class:`EvalData`."""
    return data.shared("reference_features", lambda: feature_classifier(data).features(reference(data).images))


def image_metrics(fake: Tensor, train: Any, test: Any | None = None, seed: int = 12345,
                  use_cache: bool = True) -> dict[str, Any]:
    """Fréchet distance and KID (+ floors), class coverage, precision/recall and Parzen log-likelihood.

    ``fake`` ``(n, C, H, W)`` holds generated images in [-1, 1]; ``train`` and ``test`` are the
    data set's splits (``test=None``: the training split is its own reference, the floor NaN);
    ``seed`` draws the fixed training subsets; ``use_cache``: the classifier's disk cache.
    """
    if len(fake) <= PR_K or len(train) <= PR_K:
        raise GankitError(f"image metrics need more than {PR_K} generated and training images; "
                          f"got {len(fake)} and {len(train)}")
    data = EvalData(train, test, seed=seed, use_cache=use_cache)
    if not data.is_image:
        raise GankitError(f"image metrics need an image data set; got {type(train).__name__} "
                          f"with samples of shape {tuple(train.shape)}")
    return score(fake, data)
