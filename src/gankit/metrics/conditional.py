"""Metrics per class of a conditional generator (``model.conditional``), written into ``metrics.json``.

Each class ``k`` is drawn alone (``G.for_class(k)``, :mod:`gankit.sampling.conditional`), ``n``
samples seeded ``seed + k``:

- mixtures (ring8, grid25): ``class_in_mode``, the share of class ``k``'s samples whose nearest
  centre is centre ``k`` and that lie within its high-quality radius (3 std, DESIGN.md), per class
  and its mean over the classes;
- labelled images: ``class_coverage``, the share of class ``k``'s samples that the data set's
  feature classifier (the one of the Fréchet distance) assigns to class ``k``; and ``intra_fd``,
  the Fréchet distance of class ``k``'s samples to the reference images of class ``k`` on that
  classifier's features (the test split, else the training split), per class and its mean.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..data.toy import DataSource
from ..sampling import generate
from ..sampling.conditional import class_generator, is_conditional
from .classifier import get_classifier
from .frechet import feature_stats, frechet_distance

__all__ = ["conditional_metrics", "class_in_mode", "class_image_metrics"]


def _class_samples(G: nn.Module, k: int, n: int, seed: int, device: Any) -> Tensor:
    return generate(class_generator(G, k), n, seed + k, device)


def class_in_mode(samples: Tensor, centres: Tensor, std: float, k: int) -> float:
    """Share of ``samples`` (n, d) whose nearest centre is ``k`` and lies closer than 3·std."""
    x = samples.reshape(samples.shape[0], -1).double()
    dist, nearest = torch.cdist(x, centres.reshape(centres.shape[0], -1).double()).min(dim=1)
    return float(((nearest == k) & (dist < 3 * std)).double().mean())


def class_image_metrics(per_class: list[Tensor], train: Any, test: Any | None,
                        use_cache: bool = True) -> dict[str, Any]:
    """``class_coverage`` and ``intra_fd`` (mean and per class) of images drawn class by class."""
    fc = get_classifier(train, test, use_cache=use_cache)
    ref = test if test is not None and test.labels is not None else train
    ref_features = fc.features(ref.images)
    coverage, fds = [], []
    for k, images in enumerate(per_class):
        coverage.append(float((fc.probabilities(images).argmax(1) == k).double().mean()))
        mine = ref_features[ref.labels == k]
        fds.append(frechet_distance(*feature_stats(fc.features(images)), *feature_stats(mine))
                   if len(mine) >= 2 else float("nan"))
    return {"class_coverage": float(np.mean(coverage)), "intra_fd": float(np.nanmean(fds)) if fds else float("nan"),
            "class_coverage_per_class": coverage, "intra_fd_per_class": fds,
            "intra_fd_reference": f"{'test' if ref is test else 'train'}:{len(ref)}"}


def conditional_metrics(G: nn.Module, source: DataSource, test: DataSource | None = None, n: int = 2500,
                        seed: int = 12345, device: Any = "cpu", use_cache: bool = True) -> dict[str, Any]:
    """The per-class metrics of ``G`` on ``source`` (see the module docstring); ``{}`` for others."""
    if not is_conditional(G):
        return {}
    K = G.num_classes
    if getattr(source, "centres", None) is not None and getattr(source, "std", None) is not None \
            and len(source.centres) == K:
        shares = [class_in_mode(_class_samples(G, k, n, seed, device), source.centres, float(source.std), k)
                  for k in range(K)]
        return {"class_in_mode": float(np.mean(shares)), "class_in_mode_per_class": shares}
    if len(source.shape) == 3 and getattr(source, "labels", None) is not None:
        per = max(2, n // K)  # n samples in all, as the other metrics
        return class_image_metrics([_class_samples(G, k, per, seed, device) for k in range(K)], source, test,
                                   use_cache)
    return {}
