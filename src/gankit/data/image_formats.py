"""Readers for image file formats: IDX (MNIST), CIFAR python batches, ``.npy``/``.npz``, PNG/JPEG.

Every reader returns raw arrays — images as ``(N, C, H, W)`` in their stored dtype and
labels as ``(N,)`` int64 or ``None`` — and raises :class:`~gankit.errors.GankitError`
naming the file and the problem for anything it cannot read. Scaling to [-1, 1] and
splitting happen in :mod:`gankit.data.images`.

CIFAR batches are pickles. They are read with :class:`~.safe_pickle.SafeUnpickler`, which
builds numeric numpy arrays from checked bytes and calls nothing else a file names.
"""

from __future__ import annotations

import gzip
import io
import os
import tokenize
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import Image, PngImagePlugin, UnidentifiedImageError

from ..errors import GankitError
from .safe_pickle import SafeUnpickler, safe_pickle_load

__all__ = ["IDX_DTYPES", "SafeUnpickler", "safe_pickle_load", "read_idx", "is_idx_file", "read_cifar_batch",
           "read_array_file", "read_image_folder", "to_nchw", "concat_parts", "IMAGE_SUFFIXES",
           "NUMPY_LOAD_ERRORS", "MAX_IMAGE_PIXELS", "MAX_IMAGE_SIDE"]

# IDX type code → big-endian numpy dtype (http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT").
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
#: What ``np.load`` raises on a corrupt ``.npy`` header or data or a broken ``.npz`` archive or member.
NUMPY_LOAD_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, SyntaxError, tokenize.TokenError,
                     MemoryError, zlib.error, NotImplementedError)
_CHUNK = 1 << 20
#: Side of the largest square image a folder may hold; :data:`MAX_IMAGE_PIXELS` is its area.
MAX_IMAGE_SIDE = 4096
MAX_IMAGE_PIXELS = MAX_IMAGE_SIDE * MAX_IMAGE_SIDE


def concat_parts(parts: list[tuple[np.ndarray, np.ndarray | None]]) -> tuple[np.ndarray, np.ndarray | None]:
    """Images of several parts in one array; labels too when every part has them."""
    ys = [y for _, y in parts]
    return np.concatenate([x for x, _ in parts]), (np.concatenate(ys) if all(y is not None for y in ys) else None)


# --------------------------------------------------------------------------- IDX

def _open_maybe_gzip(path: Path) -> BinaryIO:
    """Open ``path`` for reading, transparently gunzipping when it starts with the gzip magic."""
    with open(path, "rb") as f:
        head = f.read(2)
    if head == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _read_upto(f: BinaryIO, n: int) -> bytes:
    """Read at most ``n`` bytes in chunks (a corrupt header must not make us allocate a huge buffer)."""
    buf = io.BytesIO()
    while buf.tell() < n:
        chunk = f.read(min(_CHUNK, n - buf.tell()))
        if not chunk:
            break
        buf.write(chunk)
    return buf.getvalue()


def is_idx_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` (possibly gzip-compressed) starts with a valid IDX magic number."""
    try:
        with _open_maybe_gzip(Path(path)) as f:
            magic = f.read(4)
    except (OSError, EOFError):
        return False
    return len(magic) == 4 and magic[:2] == b"\0\0" and magic[2] in IDX_DTYPES and 1 <= magic[3] <= 4


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read one IDX file (plain or gzip-compressed) into a native-endian array.

    Layout: two zero bytes, a type code (:data:`IDX_DTYPES`), the number of dimensions, one
    big-endian uint32 per dimension, then exactly ``prod(dims) · itemsize`` bytes of data.
    Anything else (missing file, wrong magic, unknown type code, zero dimensions, truncated
    header or data, trailing bytes, broken gzip stream) raises GankitError.
    """
    path = Path(path)
    if not path.is_file():
        raise GankitError(f"IDX file {str(path)!r} does not exist")
    try:
        with _open_maybe_gzip(path) as f:
            magic = f.read(4)
            if len(magic) < 4:
                raise GankitError(f"IDX file {str(path)!r} is truncated: {len(magic)} bytes, a header needs 4")
            if magic[:2] != b"\0\0":
                raise GankitError(
                    f"IDX file {str(path)!r} has a wrong magic number 0x{magic.hex()}; "
                    "an IDX file starts with two zero bytes, a type code and the number of dimensions")
            code, ndim = magic[2], magic[3]
            if code not in IDX_DTYPES:
                known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
                raise GankitError(f"IDX file {str(path)!r} has unknown type code 0x{code:02X}; known: {known}")
            if ndim == 0:
                raise GankitError(f"IDX file {str(path)!r} declares 0 dimensions")
            raw_dims = f.read(4 * ndim)
            if len(raw_dims) < 4 * ndim:
                raise GankitError(f"IDX file {str(path)!r} is truncated inside its header ({ndim} dimensions declared)")
            dims = tuple(int(d) for d in np.frombuffer(raw_dims, dtype=">u4"))
            dtype = IDX_DTYPES[code]
            expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
            data = _read_upto(f, expected + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise GankitError(f"cannot read IDX file {str(path)!r}: {exc}") from None
    if len(data) < expected:
        raise GankitError(
            f"IDX file {str(path)!r} is truncated: header says {dims} of {dtype.name} "
            f"({expected} bytes), found {len(data)} bytes of data")
    if len(data) > expected:
        raise GankitError(f"IDX file {str(path)!r} has trailing bytes after the {expected} bytes its header {dims} declares")
    return np.frombuffer(data, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))


# --------------------------------------------------------------------------- CIFAR pickles

def _get(d: dict[Any, Any], *keys: str) -> Any:
    for k in keys:
        for kk in (k.encode(), k):
            if kk in d:
                return d[kk]
    return None


def read_cifar_batch(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray | None]:
    """Read a CIFAR-10/100 python batch: a pickled dict with ``data`` (N, 3·H·W) uint8 and ``labels``.

    Returns images ``(N, 3, H, W)`` uint8 (square images, H = W) and labels ``(N,)`` int64
    (``labels``, or ``fine_labels`` for CIFAR-100), or ``None`` when the batch has none.
    """
    obj = safe_pickle_load(path)
    name = str(path)
    if not isinstance(obj, dict):
        raise GankitError(f"CIFAR batch {name!r} holds a {type(obj).__name__}, expected a dict with 'data' and 'labels'")
    data = _get(obj, "data")
    if not isinstance(data, np.ndarray) or data.ndim != 2 or data.dtype != np.uint8:
        keys = sorted(k.decode() if isinstance(k, bytes) else str(k) for k in obj)
        raise GankitError(f"CIFAR batch {name!r} needs 'data' as a (N, 3*H*W) uint8 array; keys present: {keys}")
    n, d = data.shape
    side = int(round((d / 3) ** 0.5))
    if 3 * side * side != d:
        raise GankitError(f"CIFAR batch {name!r}: rows of {d} values are not 3 square colour planes")
    images = data.reshape(n, 3, side, side)
    labels = _get(obj, "labels", "fine_labels")
    if labels is None:
        return images, None
    try:
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError):
        raise GankitError(f"CIFAR batch {name!r}: labels are not integers") from None
    if len(labels) != n:
        raise GankitError(f"CIFAR batch {name!r} has {n} images but {len(labels)} labels")
    return images, labels


# --------------------------------------------------------------------------- arrays

def to_nchw(arr: np.ndarray, layout: str = "auto", *, source: str = "array") -> np.ndarray:
    """Bring ``(N, H, W)``, ``(N, H, W, C)`` or ``(N, C, H, W)`` to ``(N, C, H, W)``.

    ``layout="auto"`` reads a 4-D array as NHWC when its last axis has 1, 3 or 4 entries,
    else as NCHW when its second axis has; pass ``"NHWC"`` or ``"NCHW"`` to decide.
    """
    layouts = ("auto", "NHW", "NHWC", "NCHW")
    if layout not in layouts:
        raise GankitError(f"unknown layout {layout!r}; accepted: {', '.join(layouts)}")
    if arr.ndim == 3 and layout in ("auto", "NHW"):
        return arr[:, None]
    if arr.ndim == 4:
        if layout == "NHWC" or (layout == "auto" and arr.shape[-1] in (1, 3, 4)):
            return np.ascontiguousarray(arr.transpose(0, 3, 1, 2))
        if layout == "NCHW" or (layout == "auto" and arr.shape[1] in (1, 3, 4)):
            return arr
    raise GankitError(
        f"{source} has shape {tuple(arr.shape)}; accepted: (N,H,W), (N,H,W,C) or (N,C,H,W) with C in 1, 3, 4"
        + ("; for vectors with classes (x and y in a .npz) use --data npz:FILE" if arr.ndim == 2 else "")
        + ("" if layout == "auto" else f" (layout {layout!r})"))


_IMAGE_KEYS = ("x", "images", "X", "data", "arr_0")
_LABEL_KEYS = ("y", "labels", "Y", "targets", "arr_1")


def read_array_file(
    path: str | os.PathLike[str], split: str = "all", *, images_key: str | None = None, labels_key: str | None = None
) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """Read images (and labels) from ``.npy``/``.npz`` with ``allow_pickle=False``.

    A ``.npz`` holding ``x_train``/``x_test`` (Keras' ``mnist.npz`` layout) gives its own
    split: ``split`` picks ``x_<split>``/``y_<split>`` and the third return value is True.
    Otherwise images come from ``images_key`` (default: the first of x, images, X, data,
    arr_0 present) and labels from ``labels_key`` (default: y, labels, Y, targets, arr_1).

    Returns
    -------
    images : ndarray, raw layout (not yet NCHW)
    labels : ndarray or None
    presplit : bool
    """
    path = Path(path)
    if not path.is_file():
        raise GankitError(f"array file {str(path)!r} does not exist")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, EOFError) as exc:
        raise GankitError(f"cannot read array file {str(path)!r}: {exc}") from None
    except NUMPY_LOAD_ERRORS as exc:
        raise GankitError(f"cannot read {str(path)!r} without pickle (object arrays are refused): {exc}") from None
    if isinstance(loaded, np.ndarray):
        return loaded, None, False
    try:
        return _read_npz_members(path, loaded, split, images_key, labels_key)
    except GankitError:
        raise
    except NUMPY_LOAD_ERRORS as exc:  # a corrupt member of the archive
        raise GankitError(f"cannot read array file {str(path)!r}: {type(exc).__name__}: {exc}") from None


def _check_splits_agree(path: Path, splits: dict[str, tuple[np.ndarray, np.ndarray | None]]) -> None:
    """Both splits of a pre-split ``.npz`` hold images of one shape, each with a label per image."""
    (xa, _), (xb, _) = splits["train"], splits["test"]
    if xa.shape[1:] != xb.shape[1:]:
        raise GankitError(f"{str(path)!r}: x_train holds images of shape {xa.shape[1:]} but x_test {xb.shape[1:]}; "
                          "both splits need the same image shape")
    for s, (x, y) in splits.items():
        if y is not None and (y.ndim != 1 or len(y) != len(x)):
            raise GankitError(f"{str(path)!r}: y_{s} has shape {y.shape} for {len(x)} images in x_{s}; "
                              f"expected ({len(x)},)")


def _read_npz_members(path: Path, loaded: Any, split: str, images_key: str | None,
                      labels_key: str | None) -> tuple[np.ndarray, np.ndarray | None, bool]:
    with loaded as z:
        keys = list(z.files)
        if images_key is None and "x_train" in keys and "x_test" in keys:
            splits = {s: (z[f"x_{s}"], z[f"y_{s}"] if f"y_{s}" in keys else None) for s in ("train", "test")}
            _check_splits_agree(path, splits)
            x, y = concat_parts([splits[s] for s in (["train", "test"] if split == "all" else [split])])
            return x, y, True
        ik = images_key or next((k for k in _IMAGE_KEYS if k in keys), None)
        if ik is None and len(keys) == 1:
            ik = keys[0]
        if ik is None or ik not in keys:
            raise GankitError(f"{str(path)!r} has arrays {keys}; name the images with images_key= "
                              f"(looked for {', '.join(_IMAGE_KEYS)})")
        lk = labels_key or next((k for k in _LABEL_KEYS if k in keys and k != ik), None)
        if labels_key is not None and labels_key not in keys:
            raise GankitError(f"{str(path)!r} has no array {labels_key!r}; arrays present: {keys}")
        return z[ik], (z[lk] if lk is not None else None), False


# --------------------------------------------------------------------------- PNG/JPEG folders

def _read_image(path: Path) -> Image.Image:
    """One decoded image, refused from its header alone when it declares over :data:`MAX_IMAGE_PIXELS`.

    Pillow's own guards stay on and become errors: its decompression-bomb warning, and
    ``PngImagePlugin.MAX_TEXT_CHUNK`` (1 MB) on a decompressed zTXt/iTXt text chunk.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = im.size
                if w * h > MAX_IMAGE_PIXELS:
                    raise GankitError(f"image {str(path)!r} declares {w}x{h} pixels; accepted: at most "
                                      f"{MAX_IMAGE_PIXELS} pixels ({MAX_IMAGE_SIDE}x{MAX_IMAGE_SIDE}) an image")
                im.load()
                return im.copy()
    except GankitError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError,
            ValueError, SyntaxError, EOFError, MemoryError) as exc:
        raise GankitError(f"cannot read image {str(path)!r}: {type(exc).__name__}: {str(exc)[:200]} "
                          f"(accepted: PNG/JPEG up to {MAX_IMAGE_SIDE}x{MAX_IMAGE_SIDE}, text chunks up to "
                          f"{PngImagePlugin.MAX_TEXT_CHUNK} bytes)") from None


def _list_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def read_image_folder(
    folder: str | os.PathLike[str], size: int | tuple[int, int] | None = None, mode: str = "auto"
) -> tuple[np.ndarray, np.ndarray | None, list[str] | None]:
    """Read every PNG/JPEG in ``folder`` (sorted by name) into ``(N, C, H, W)`` uint8.

    When ``folder`` holds no images but sub-folders that do, each sub-folder is a class
    (torchvision's ``ImageFolder`` convention) and labels follow the sorted folder names.

    Parameters
    ----------
    size : int or (height, width), optional
        Resize every image to this size (bilinear). Without it, images of different
        sizes are an error.
    mode : {"auto", "L", "RGB"}
        ``"auto"`` keeps one gray channel when every image is gray, else converts all to RGB.
    """
    folder = Path(folder)
    if mode not in ("auto", "L", "RGB"):
        raise GankitError(f"unknown image mode {mode!r}; accepted: auto, L, RGB")
    files = _list_images(folder)
    labels: list[int] | None = None
    class_names: list[str] | None = None
    if not files:
        subdirs = sorted(p for p in folder.iterdir() if p.is_dir() and _list_images(p))
        if not subdirs:
            raise GankitError(f"folder {str(folder)!r} holds no images (accepted: {', '.join(IMAGE_SUFFIXES)}, "
                              "directly or in one sub-folder per class)")
        class_names = [p.name for p in subdirs]
        per_class = [_list_images(sub) for sub in subdirs]
        files = [f for fs in per_class for f in fs]
        labels = [k for k, fs in enumerate(per_class) for _ in fs]
    if isinstance(size, int):
        size = (size, size)
    pics = [_read_image(p) for p in files]
    if mode == "auto":
        gray = all(im.mode in ("1", "L", "LA", "I", "I;16", "F") for im in pics)
        mode = "L" if gray else "RGB"
    sizes = {im.size for im in pics}  # PIL sizes are (width, height)
    if size is None and len(sizes) > 1:
        shown = ", ".join(f"{w}x{h}" for w, h in sorted(sizes)[:5])
        raise GankitError(f"images in {str(folder)!r} have different sizes ({shown}); pass size= to resize them")
    arrays = []
    for im in pics:
        im = im.convert(mode)
        if size is not None and im.size != (size[1], size[0]):
            im = im.resize((size[1], size[0]), Image.BILINEAR)
        a = np.asarray(im, dtype=np.uint8)
        arrays.append(a[None] if a.ndim == 2 else a.transpose(2, 0, 1))  # (C, H, W)
    return np.stack(arrays), (np.asarray(labels, dtype=np.int64) if labels is not None else None), class_names
