"""Image data sets: scikit-learn's digits, MNIST IDX files, CIFAR batches, ``.npy``/``.npz``, PNG/JPEG folders.

Every loader returns an :class:`ImageDataset`: all images in memory as one float32 tensor
``(N, C, H, W)`` scaled to [-1, 1] (a ``tanh`` generator's range), with optional int64 labels.
Splits are fixed: a format's own split where it ships one (MNIST ``train-``/``t10k-`` files,
CIFAR ``data_batch_*``/``test_batch``, an ``.npz`` with ``x_train``/``x_test``), else the
fixed permutation of :func:`split_indices`. ``split="all"`` takes every image.

Example
-------
>>> import torch
>>> train = load_images("digits")            # 1438 of the 1797 8x8 digits
>>> train.shape, train.n_classes, len(train)
((1, 8, 8), 10, 1438)
>>> x = train.sample(4, torch.Generator().manual_seed(0))
>>> tuple(x.shape), bool(x.min() >= -1 and x.max() <= 1)
((4, 1, 8, 8), True)
"""

from __future__ import annotations

import functools
import inspect
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.datasets import load_digits

from ..errors import GankitError
from ..registry import DATA
from .image_dataset import SPLITS, ImageDataset, _check_split, make_image_dataset, split_indices
from .image_formats import (
    IMAGE_SUFFIXES,
    concat_parts,
    is_idx_file,
    read_array_file,
    read_cifar_batch,
    read_idx,
    read_image_folder,
    safe_pickle_load,
    to_nchw,
)

__all__ = ["ImageDataset", "SPLITS", "ACCEPTED_FORMATS", "split_indices", "make_image_dataset", "load_images",
           "load_digits_images", "load_idx", "load_cifar", "load_array", "load_folder"]

ACCEPTED_FORMATS = (
    "a named data set (digits); an MNIST IDX file (plain or .gz) or a folder with train-/t10k- IDX files; "
    "a CIFAR python batch (data_batch_N, test_batch, .pkl) or a folder of them; a .npy/.npz array; "
    f"a folder of {'/'.join(s[1:].upper() for s in IMAGE_SUFFIXES)} images"
)


def load_digits_images(split: str = "train", test_fraction: float = 0.2, split_seed: int = 0) -> ImageDataset:
    """scikit-learn's 8×8 handwritten digits (1797 images, 10 classes; shipped, no download).

    Pixels 0..16 are mapped to [-1, 1]. With the defaults the test split is the last 359
    entries of ``default_rng(0).permutation(1797)`` and the training split the other 1438.
    """
    x, y = load_digits(return_X_y=True)
    return make_image_dataset(x.reshape(-1, 1, 8, 8), y, name="digits", split=split, test_fraction=test_fraction,
                              split_seed=split_seed, value_range=(0.0, 16.0), n_classes=10)


def _sibling_labels(path: Path) -> Path | None:
    """``train-images-idx3-ubyte[.gz]`` → ``train-labels-idx1-ubyte[.gz]`` when that file exists."""
    name = path.name.replace("images", "labels").replace("idx3", "idx1")
    cand = path.with_name(name)
    return cand if cand != path and cand.is_file() else None


def _read_idx_pair(path: Path, labels: str | os.PathLike[str] | None) -> tuple[np.ndarray, np.ndarray | None]:
    images = read_idx(path)
    if images.ndim not in (3, 4):
        raise GankitError(f"IDX file {str(path)!r} has {images.ndim} dimensions; images need 3 (N, H, W) or 4 (N, H, W, C)")
    label_path = Path(labels) if labels is not None else _sibling_labels(path)
    y = None
    if label_path is not None:
        y = read_idx(label_path)
        if y.ndim != 1:
            raise GankitError(f"IDX label file {str(label_path)!r} has shape {y.shape}; expected one dimension")
        if len(y) != len(images):
            raise GankitError(f"IDX label file {str(label_path)!r} has {len(y)} labels for {len(images)} images "
                              f"in {str(path)!r}")
    return to_nchw(images, "NHW" if images.ndim == 3 else "NHWC", source=str(path)), y


def load_idx(path: str | os.PathLike[str], split: str = "train", labels: str | os.PathLike[str] | None = None,
             test_fraction: float = 0.2, split_seed: int = 0,
             value_range: tuple[float, float] | None = None) -> ImageDataset:
    """MNIST-format IDX images (plain or gzip), with labels from ``labels`` or the sibling ``*-labels-idx1-*`` file.

    ``path`` may also be a folder holding ``train-images-idx3-ubyte[.gz]`` and
    ``t10k-images-idx3-ubyte[.gz]`` (MNIST, Fashion-MNIST): then ``train``/``test`` are
    those files and ``all`` both. A single file is split by the fixed permutation.
    """
    _check_split(split)
    path = Path(path)
    if path.is_dir():
        parts = {"train": _find_idx(path, "train"), "test": _find_idx(path, "t10k")}
        chosen = ["train", "test"] if split == "all" else [split]
        x, y = concat_parts([_read_idx_pair(parts[s], None) for s in chosen])
        return make_image_dataset(x, y, name=path.name or str(path), split=split, presplit=True,
                                  value_range=value_range)
    x, y = _read_idx_pair(path, labels)
    return make_image_dataset(x, y, name=path.name, split=split, test_fraction=test_fraction,
                              split_seed=split_seed, value_range=value_range)


def _find_idx(folder: Path, prefix: str) -> Path:
    found = sorted(p for p in folder.iterdir() if re.match(rf"{prefix}-images[-.]idx3-ubyte(\.gz)?$", p.name))
    if not found:
        raise GankitError(f"folder {str(folder)!r} has no {prefix}-images-idx3-ubyte[.gz] file")
    return found[0]


def _is_mnist_dir(folder: Path) -> bool:
    return any(re.match(r"(train|t10k)-images[-.]idx3-ubyte(\.gz)?$", p.name) for p in folder.iterdir())


def _is_cifar_dir(folder: Path) -> bool:
    return (folder / "data_batch_1").is_file() or (folder / "test_batch").is_file()


def load_cifar(path: str | os.PathLike[str], split: str = "train", test_fraction: float = 0.2,
               split_seed: int = 0) -> ImageDataset:
    """CIFAR-10 python batches, read with a restricted unpickler (see :class:`~.safe_pickle.SafeUnpickler`).

    ``path`` is one batch file (split by the fixed permutation) or the extracted
    ``cifar-10-batches-py`` folder, whose ``data_batch_*`` files are ``train`` and
    ``test_batch`` is ``test``; class names come from ``batches.meta`` when present.
    """
    _check_split(split)
    path = Path(path)
    if not path.is_dir():
        x, y = read_cifar_batch(path)
        return make_image_dataset(x, y, name=path.name, split=split, test_fraction=test_fraction, split_seed=split_seed)
    train = sorted(path.glob("data_batch_*"), key=lambda p: p.name)
    test = [path / "test_batch"] if (path / "test_batch").is_file() else []
    chosen = {"train": train, "test": test, "all": train + test}[split]
    if not chosen:
        raise GankitError(f"CIFAR folder {str(path)!r} has no batch for split {split!r} "
                          "(expected data_batch_1..5 and test_batch)")
    x, y = concat_parts([read_cifar_batch(p) for p in chosen])
    names = None
    if (path / "batches.meta").is_file():
        meta = safe_pickle_load(path / "batches.meta")
        raw = meta.get(b"label_names", meta.get("label_names")) if isinstance(meta, dict) else None
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in raw] if raw is not None else None
    return make_image_dataset(x, y, name=path.name, split=split, presplit=True,
                              n_classes=len(names) if names else None, class_names=names)


def load_array(path: str | os.PathLike[str], split: str = "train", labels: str | os.PathLike[str] | None = None,
               images_key: str | None = None, labels_key: str | None = None, layout: str = "auto",
               value_range: tuple[float, float] | None = None, test_fraction: float = 0.2,
               split_seed: int = 0) -> ImageDataset:
    """Images from ``.npy``/``.npz`` (read with ``allow_pickle=False``): (N,H,W), (N,H,W,C) or (N,C,H,W).

    uint8 pixels are taken as 0..255, floats as [0, 1] or [-1, 1] (else pass
    ``value_range``). Labels come from the ``.npz`` (see
    :func:`~.image_formats.read_array_file`) or a separate ``.npy`` given as ``labels``.
    """
    _check_split(split)
    path = Path(path)
    x, y, presplit = read_array_file(path, split, images_key=images_key, labels_key=labels_key)
    if labels is not None:
        y, _, _ = read_array_file(labels)
    return make_image_dataset(to_nchw(x, layout, source=str(path)), y, name=path.name, split=split,
                              presplit=presplit, value_range=value_range, test_fraction=test_fraction,
                              split_seed=split_seed)


def load_folder(path: str | os.PathLike[str], split: str = "train", size: int | tuple[int, int] | None = None,
                mode: str = "auto", test_fraction: float = 0.2, split_seed: int = 0) -> ImageDataset:
    """A folder of PNG/JPEG images (Pillow), or one sub-folder per class; see :func:`~.image_formats.read_image_folder`."""
    _check_split(split)
    path = Path(path)
    if not path.is_dir():
        raise GankitError(f"{str(path)!r} is not a folder")
    x, y, names = read_image_folder(path, size=size, mode=mode)
    return make_image_dataset(x, y, name=path.name or str(path), split=split, test_fraction=test_fraction,
                              split_seed=split_seed, n_classes=len(names) if names else None, class_names=names)


NAMED: dict[str, Callable[..., ImageDataset]] = {"digits": load_digits_images}


def _pick_loader(path: Path) -> Callable[..., ImageDataset]:
    if path.is_dir():
        if _is_cifar_dir(path):
            return load_cifar
        if _is_mnist_dir(path):
            return load_idx
        return load_folder
    name, suffix = path.name.lower(), path.suffix.lower()
    if suffix in (".npy", ".npz"):
        return load_array
    if name.startswith(("data_batch", "test_batch")) or suffix in (".pkl", ".pickle"):
        return load_cifar
    if is_idx_file(path):
        return load_idx
    raise GankitError(f"cannot tell the format of {str(path)!r}; accepted: {ACCEPTED_FORMATS}")


def load_images(path_or_name: str | os.PathLike[str], split: str = "train", **opts: Any) -> ImageDataset:
    """Load an image data set by name, file or folder, picking the loader from what it finds.

    Parameters
    ----------
    path_or_name : str or path
        ``"digits"``, or a path: a ``.npy``/``.npz`` file, a CIFAR batch (``data_batch_N``,
        ``test_batch``, ``.pkl``) or folder of them, an IDX file (recognised by its magic
        number, gzip or not) or a folder with MNIST's ``train-``/``t10k-`` files, or a
        folder of PNG/JPEG images.
    split : {"train", "test", "all"}
    **opts
        Passed to the loader (:func:`load_digits_images`, :func:`load_idx`,
        :func:`load_cifar`, :func:`load_array`, :func:`load_folder`); an option that
        loader does not take is a GankitError listing the ones it does.

    Returns
    -------
    ImageDataset
    """
    _check_split(split)
    key = os.fspath(path_or_name)
    if key in NAMED and not Path(key).exists():
        loader, args = NAMED[key], ()
    else:
        path = Path(key)
        if not path.exists():
            raise GankitError(f"no such file or folder {key!r}; accepted: {ACCEPTED_FORMATS}")
        loader, args = _pick_loader(path), (path,)
    params = inspect.signature(loader).parameters
    unknown = sorted(set(opts) - set(params))
    if unknown:
        accepted = [p for p in params if p not in ("path", "split")]
        raise GankitError(f"{loader.__name__} does not take {', '.join(unknown)}; it takes: {', '.join(accepted)}")
    return loader(*args, split=split, **opts)


DATA.add("digits", load_digits_images, help="scikit-learn 8x8 digits as 1x8x8 images in [-1,1], 10 classes")
DATA.register_family("idx", help="MNIST-format IDX images (plain or .gz): idx:PATH")(
    lambda path: functools.partial(load_idx, path))
DATA.register_family("images", help="any image file or folder load_images reads: images:PATH")(
    lambda path: functools.partial(load_images, path))
