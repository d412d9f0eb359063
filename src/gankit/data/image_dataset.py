"""The in-memory image data set every image loader returns, and its fixed train/test split.

Images are one float32 tensor ``(N, C, H, W)`` scaled to [-1, 1]; labels, when present,
one int64 tensor ``(N,)``. :func:`make_image_dataset` turns raw pixels of any numeric
dtype into that form: uint8 (and integers within 0..255) are read as 0..255, floats as
[0, 1] or [-1, 1], anything else needs an explicit ``value_range``; NaN or infinite
pixels are refused. The split rule is in :func:`split_indices`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ..errors import GankitError
from .toy import DataSource

__all__ = ["ImageDataset", "SPLITS", "split_indices", "make_image_dataset"]

SPLITS = ("train", "test", "all")


class ImageDataset(DataSource):
    """Images in memory, scaled to [-1, 1], with optional integer labels.

    Parameters
    ----------
    images : Tensor, shape (N, C, H, W), float32 in [-1, 1]
    labels : Tensor, shape (N,), int64, optional
    name : str
    split : {"train", "test", "all"}
    n_classes : int, optional
        Number of classes (from the labels of the whole data set, so both splits agree).
    class_names : list of str, optional
    """

    def __init__(self, images: Tensor, labels: Tensor | None = None, *, name: str = "images",
                 split: str = "all", n_classes: int | None = None, class_names: list[str] | None = None) -> None:
        if images.ndim != 4 or images.dtype != torch.float32:
            raise ValueError(f"images must be a float32 (N, C, H, W) tensor, got {images.dtype} {tuple(images.shape)}")
        if labels is not None and labels.shape != (len(images),):
            raise ValueError(f"labels must have shape ({len(images)},), got {tuple(labels.shape)}")
        self.images, self.labels, self.name, self.split = images, labels, name, split
        self.shape = tuple(images.shape[1:])
        if n_classes is None and labels is not None and len(labels):
            n_classes = int(labels.max()) + 1
        self.n_classes = n_classes
        self.class_names = class_names

    def __len__(self) -> int:
        return len(self.images)

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:  # (n, C, H, W)
        """Draw ``n`` images uniformly **with replacement** using ``generator``."""
        return self.images[self._draw(n, generator)]

    def sample_labeled(self, n: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """Draw ``n`` (image, label) pairs with replacement; raises GankitError when unlabelled."""
        if self.labels is None:
            raise GankitError(f"data set {self.name!r} has no labels")
        idx = self._draw(n, generator)
        return self.images[idx], self.labels[idx]

    def _draw(self, n: int, generator: torch.Generator | None) -> Tensor:
        return torch.randint(0, len(self.images), (n,), generator=generator)  # (n,)

    def __repr__(self) -> str:
        c, h, w = self.shape
        return f"ImageDataset({self.name} [{self.split}] {len(self)} images {c}x{h}x{w}, n_classes={self.n_classes})"


def split_indices(n: int, split: str, test_fraction: float = 0.2, split_seed: int = 0) -> np.ndarray:
    """Indices of ``split`` among ``n`` items: the last ``round(test_fraction·n)`` of a fixed permutation are test.

    >>> split_indices(10, "test").tolist()
    [1, 8]
    """
    _check_split(split)
    if not 0.0 < test_fraction < 1.0:
        raise GankitError(f"test_fraction must be strictly between 0 and 1, got {test_fraction}")
    if split == "all":
        return np.arange(n)
    perm = np.random.default_rng(split_seed).permutation(n)
    n_test = int(round(test_fraction * n))
    chosen = perm[n - n_test:] if split == "test" else perm[: n - n_test]
    return np.sort(chosen)


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise GankitError(f"unknown split {split!r}; accepted: {', '.join(SPLITS)}")


def _infer_range(arr: np.ndarray, source: str) -> tuple[float, float]:
    if arr.dtype == np.bool_:
        return (0.0, 1.0)
    if np.issubdtype(arr.dtype, np.integer):
        if arr.dtype == np.uint8 or arr.size == 0 or (arr.min() >= 0 and arr.max() <= 255):
            return (0.0, 255.0)
        raise GankitError(f"{source}: integer pixels outside 0..255; pass value_range=(low, high)")
    lo, hi = (float(arr.min()), float(arr.max())) if arr.size else (0.0, 1.0)
    if lo >= 0.0 and hi <= 1.0:
        return (0.0, 1.0)
    if lo >= -1.0 and hi <= 1.0:
        return (-1.0, 1.0)
    raise GankitError(f"{source}: float pixels span [{lo:g}, {hi:g}], neither [0, 1] nor [-1, 1]; "
                      "pass value_range=(low, high)")


def _check_pixels(arr: np.ndarray, source: str) -> None:
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating) or arr.dtype == np.bool_):
        raise GankitError(f"{source}: pixels have dtype {arr.dtype}; accepted: unsigned/signed integers, floats, bool")
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise GankitError(f"{source}: {bad} pixel values are NaN or infinite")


def _pixel_range(arr: np.ndarray, value_range: tuple[float, float] | None, source: str) -> tuple[float, float]:
    """The range of ``arr``'s pixel scale: ``value_range`` checked against the data, or inferred."""
    if value_range is None:
        return _infer_range(arr, source)
    lo, hi = float(value_range[0]), float(value_range[1])
    if not hi > lo:
        raise GankitError(f"{source}: value_range must have low < high, got ({lo:g}, {hi:g})")
    if arr.size and (arr.min() < lo or arr.max() > hi):
        raise GankitError(f"{source}: pixels span [{arr.min():g}, {arr.max():g}], outside value_range ({lo:g}, {hi:g})")
    return lo, hi


def _to_unit_range(arr: np.ndarray, lo: float, hi: float) -> Tensor:
    """Map pixel values linearly from [lo, hi] onto [-1, 1], as float32."""
    x = torch.from_numpy(np.array(arr, dtype=np.float32))  # a copy (the caller's array is kept); float32 throughout
    return x.sub_(lo).mul_(2.0 / (hi - lo)).sub_(1.0).clamp_(-1.0, 1.0)


def _labels_array(labels: np.ndarray | None, n: int, source: str) -> np.ndarray | None:
    if labels is None:
        return None
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != n:
        raise GankitError(f"{source}: {n} images but labels of shape {tuple(labels.shape)}; expected ({n},)")
    if not (np.issubdtype(labels.dtype, np.integer) or labels.dtype == np.bool_):
        if np.issubdtype(labels.dtype, np.floating) and np.all(np.isfinite(labels)) and np.all(labels == np.round(labels)):
            labels = labels.astype(np.int64)
        else:
            raise GankitError(f"{source}: labels must be integers, got dtype {labels.dtype}")
    if labels.size and labels.min() < 0:
        raise GankitError(f"{source}: labels must be non-negative, found {labels.min()}")
    return labels.astype(np.int64)


def make_image_dataset(images: np.ndarray, labels: np.ndarray | None = None, *, name: str, split: str = "train",
                       test_fraction: float = 0.2, split_seed: int = 0, presplit: bool = False,
                       value_range: tuple[float, float] | None = None, n_classes: int | None = None,
                       class_names: list[str] | None = None) -> ImageDataset:
    """Validate, split and scale raw ``(N, C, H, W)`` images into an :class:`ImageDataset`.

    ``presplit=True`` means ``images`` already are the requested split (nothing is split).
    """
    _check_split(split)
    if images.ndim != 4 or 0 in images.shape[1:]:
        raise GankitError(f"{name}: images have shape {tuple(images.shape)}; expected (N, C, H, W)")
    labels = _labels_array(labels, len(images), name)
    _check_pixels(images, name)
    lo, hi = _pixel_range(images, value_range, name)  # from the whole data set: both splits scale alike
    if n_classes is None and labels is not None and labels.size:
        n_classes = int(labels.max()) + 1
    if not presplit:
        idx = split_indices(len(images), split, test_fraction, split_seed)
        images = images[idx]
        labels = labels[idx] if labels is not None else None
    if len(images) == 0:
        raise GankitError(f"{name}: split {split!r} is empty ({'no images' if presplit else 'too few images'}); "
                          "try split='all'")
    x = _to_unit_range(images, lo, hi)
    y = torch.from_numpy(labels) if labels is not None else None
    return ImageDataset(x, y, name=name, split=split, n_classes=n_classes, class_names=class_names)
