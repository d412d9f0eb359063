"""The image metrics: what they report, with its provenance, and the helpers they share.

Generated images ``(n, C, H, W)`` in [-1, 1] are scored against an image data set's
training and test splits by the registered metrics that apply to image data
(:func:`image_metrics` runs them on their own):

- ``n_samples``: the number of generated images (:mod:`.count`).
- ``frechet_distance``: Fréchet distance between the feature classifier's penultimate
  features of ``m`` generated images and of the **test split**, with
  ``m = min(n, len(train))``; ``frechet_floor`` is the same distance for ``m`` training
  images (a fixed subset) against the test split — the value a generator that draws
  from the data distribution would get, up to sampling noise. Provenance:
  ``fd_samples`` (m), ``fd_reference`` (``"test:<N>"``), ``feature_net`` (the first 16
  hex digits of the SHA-256 of the classifier's weights) and ``classifier_accuracy``
  (its test-split accuracy). :mod:`.frechet`.
- ``classes_covered``, ``confident_fraction``, ``class_kl``: :mod:`.classes` on all
  ``n`` generated images.
- ``precision``, ``recall``: :mod:`.precision_recall` (k = 3) in feature space, the
  first ``m`` generated images against the same ``m`` training images.
- ``parzen_ll`` (± ``parzen_se``, bandwidth ``parzen_sigma``): :mod:`.parzen` on pixels
  scaled to [0, 1], kernels on all ``n`` generated images, σ chosen on a fixed
  validation subset of the training split (``parzen_valid`` images), test split scored;
  ``parzen_floor`` is the test-split log-likelihood under kernels on the other training
  images with the bandwidth chosen the same way.

The classifier, and the features of the ``m`` training images, are computed once per
:class:`~.base.EvalData` and shared by the metrics.

Data sets without labels get only the Parzen numbers (the classifier needs labels).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..errors import GankitError
from .base import EvalData, score
from .classifier import FeatureClassifier, get_classifier

__all__ = ["image_metrics", "PR_K", "PARZEN_VALID", "check_images", "feature_classifier", "train_features",
           "reference"]

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
    def make() -> Tensor:
        train = data.source
        return feature_classifier(data).features(train.images[_subset(len(train), m, data.seed)])

    return data.shared(("train_features", m), make)


def reference(data: EvalData) -> Any:
    """The split generated images are compared with: the test split, else the training split."""
    return data.test if data.test is not None else data.source


def image_metrics(fake: Tensor, train: Any, test: Any | None = None, seed: int = 12345,
                  use_cache: bool = True) -> dict[str, Any]:
    """Fréchet distance (+ floor), class coverage, precision/recall and Parzen log-likelihood.

    Parameters
    ----------
    fake : Tensor, shape (n, C, H, W) — generated images in [-1, 1]
    train, test : ImageDataset — the splits of the data set (``test=None``: the training
        split is its own reference and the floor is NaN)
    seed : int — seeds the fixed subsets of the training split
    use_cache : bool — use the on-disk classifier cache

    Returns
    -------
    dict — the keys listed in the module docstring
    """
    if len(fake) <= PR_K or len(train) <= PR_K:
        raise GankitError(f"image metrics need more than {PR_K} generated and training images; "
                          f"got {len(fake)} and {len(train)}")
    data = EvalData(train, test, seed=seed, use_cache=use_cache)
    if not data.is_image:
        raise GankitError(f"image metrics need an image data set; got {type(train).__name__} "
                          f"with samples of shape {tuple(train.shape)}")
    return score(fake, data)
