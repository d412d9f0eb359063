"""Every image metric of a set of generated images, with its provenance.

:func:`image_metrics` scores generated images ``(n, C, H, W)`` in [-1, 1] against an
image data set's training and test splits:

- ``frechet_distance``: Fréchet distance between the feature classifier's penultimate
  features of ``m`` generated images and of the **test split**, with
  ``m = min(n, len(train))``; ``frechet_floor`` is the same distance for ``m`` training
  images (a fixed subset) against the test split — the value a generator that draws
  from the data distribution would get, up to sampling noise. Provenance:
  ``fd_samples`` (m), ``fd_reference`` (``"test:<N>"``), ``feature_net`` (the first 16
  hex digits of the SHA-256 of the classifier's weights) and ``classifier_accuracy``
  (its test-split accuracy).
- ``classes_covered``, ``confident_fraction``, ``class_kl``: :mod:`.classes` on all
  ``n`` generated images.
- ``precision``, ``recall``: :mod:`.precision_recall` (k = 3) in feature space, the
  ``m`` generated images against the same ``m`` training images.
- ``parzen_ll`` (± ``parzen_se``, bandwidth ``parzen_sigma``): :mod:`.parzen` on pixels
  scaled to [0, 1], kernels on all ``n`` generated images, σ chosen on a fixed
  validation subset of the training split (``parzen_valid`` images), test split scored;
  ``parzen_floor`` is the test-split log-likelihood under kernels on the other training
  images with the bandwidth chosen the same way.

Data sets without labels get only the Parzen numbers (the classifier needs labels).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from ..errors import GankitError
from .classes import class_coverage
from .classifier import get_classifier
from .frechet import FrechetDistance, feature_stats, frechet_distance
from .parzen import parzen_score
from .precision_recall import precision_recall

__all__ = ["image_metrics", "PR_K", "PARZEN_VALID"]

PR_K = 3
#: images of the training split held out to choose the Parzen bandwidth
PARZEN_VALID = 300


def _subset(n_total: int, n: int, seed: int) -> Tensor:
    return torch.randperm(n_total, generator=torch.Generator().manual_seed(seed))[:n].sort().values


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
    fake = fake.detach().float().cpu()
    if len(fake) <= PR_K or len(train) <= PR_K:
        raise GankitError(f"image metrics need more than {PR_K} generated and training images; "
                          f"got {len(fake)} and {len(train)}")
    if tuple(fake.shape[1:]) != tuple(train.shape):
        raise ValueError(f"generated images have shape {tuple(fake.shape[1:])}, the data {tuple(train.shape)}")
    ref = test if test is not None else train
    out: dict[str, Any] = {"n_samples": int(len(fake))}
    if train.labels is not None and train.n_classes is not None:
        fc = get_classifier(train, test, use_cache=use_cache)
        m = min(len(fake), len(train))
        real_idx = _subset(len(train), m, seed)
        f_fake, f_train = fc.features(fake[:m]), fc.features(train.images[real_idx])
        ref_mu, ref_cov = feature_stats(fc.features(ref.images))
        fd = FrechetDistance(ref_mu, ref_cov)
        fd.update(f_fake)
        out["frechet_distance"] = fd.compute()
        out["frechet_floor"] = frechet_distance(*feature_stats(f_train), ref_mu, ref_cov) if test is not None else math.nan
        out["fd_samples"] = m
        out["fd_reference"] = f"{'test' if test is not None else 'train'}:{len(ref)}"
        out["feature_net"] = fc.hash[:16]
        out["classifier_accuracy"] = fc.test_accuracy
        out.update(class_coverage(fc.probabilities(fake)))
        out.update(precision_recall(f_train, f_fake, k=PR_K))
    out.update(_parzen(fake, train, ref, seed))
    return out


def _parzen(fake: Tensor, train: Any, ref: Any, seed: int) -> dict[str, float]:
    n_valid = min(PARZEN_VALID, len(train) // 2)
    perm = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed + 1))
    valid = (train.images[perm[:n_valid]] + 1) / 2  # pixels in [0, 1]
    rest = (train.images[perm[n_valid:]] + 1) / 2
    target = (ref.images + 1) / 2
    out = parzen_score((fake + 1) / 2, valid, target)
    out["parzen_floor"] = parzen_score(rest, valid, target)["parzen_ll"]
    out["parzen_valid"] = n_valid
    return out
