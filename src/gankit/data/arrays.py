"""A data source over a user's own array of vectors (rows drawn with replacement)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..errors import GankitError
from ..registry import DATA
from .toy import DataSource

__all__ = ["ArraySource", "LabelledArraySource", "load_labelled_npz", "check_labels", "MAX_LABEL_CLASSES"]


@dataclass
class ArraySource(DataSource):
    """Empirical distribution of the rows of ``data`` (n, *shape).

    ``sample(n, generator)`` draws rows uniformly with replacement.
    """

    data: Tensor = None  # type: ignore[assignment]
    name: str = "array"

    def __post_init__(self) -> None:
        x = torch.as_tensor(np.asarray(self.data) if not isinstance(self.data, Tensor) else self.data)
        if x.is_complex():
            raise GankitError(f"data has complex dtype {x.dtype}; accepted: real numbers (integers, floats, bool)")
        if x.ndim == 1:
            x = x.reshape(-1, 1)
        if x.ndim < 2 or x.shape[0] == 0:
            raise GankitError(f"data must be a non-empty array of shape (n, dim), got shape {tuple(x.shape)}")
        if not x.is_floating_point():
            x = x.float()
        if not torch.isfinite(x).all():
            raise GankitError("data contains NaN or inf values; clean or drop those rows first")
        self.data = x.float()
        self.shape = tuple(x.shape[1:])

    def __len__(self) -> int:
        return int(self.data.shape[0])

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        idx = torch.randint(0, self.data.shape[0], (n,), generator=generator)
        return self.data[idx]


#: most classes a labelled file may hold (labels are integers in [0, MAX_LABEL_CLASSES))
MAX_LABEL_CLASSES = 1000


class LabelledArraySource(ArraySource):
    """Rows of ``data`` (n, *shape) with an integer class each, ``labels`` (n,) in ``[0, n_classes)``."""

    def __init__(self, data: Tensor, labels: Tensor, n_classes: int, name: str = "array") -> None:
        super().__init__(data=data, name=name)
        self.labels, self.n_classes = labels, int(n_classes)

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return self.sample_labeled(n, generator)[0]

    def sample_labeled(self, n: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """``n`` rows drawn with replacement, and their classes."""
        idx = torch.randint(0, self.data.shape[0], (n,), generator=generator)
        return self.data[idx], self.labels[idx]


def check_labels(y: np.ndarray, n: int, source: str) -> tuple[np.ndarray, int]:
    """Untrusted labels ``y``: ``n`` integers in ``[0, MAX_LABEL_CLASSES)``; ``(labels int64, classes)``."""
    if y.ndim != 1 or len(y) != n:
        raise GankitError(f"{source}: y has shape {tuple(y.shape)} for {n} rows of x; expected ({n},)")
    if not np.issubdtype(y.dtype, np.integer) or y.dtype == np.bool_:
        raise GankitError(f"{source}: y must hold integer classes, got dtype {y.dtype}")
    lo, hi = int(y.min()), int(y.max())
    if lo < 0 or hi >= MAX_LABEL_CLASSES:
        raise GankitError(f"{source}: classes must lie in [0, {MAX_LABEL_CLASSES - 1}], found {lo if lo < 0 else hi}")
    return y.astype(np.int64), hi + 1


def load_labelled_npz(path: str) -> LabelledArraySource:
    """A ``.npz`` with arrays ``x`` (n, dim) and ``y`` (n,) integer classes, read without pickle and checked."""
    source = f"labelled file {path!r}"
    try:
        with np.load(path, allow_pickle=False) as z:
            if not hasattr(z, "files") or not {"x", "y"} <= set(z.files):
                raise GankitError(f"{source} must be a .npz holding arrays x (n, dim) and y (n,)")
            x, y = z["x"], z["y"]
    except GankitError:
        raise
    except (OSError, ValueError, EOFError, KeyError) as exc:
        raise GankitError(f"cannot read {source}: {type(exc).__name__}: {str(exc)[:200]}") from None
    if x.ndim != 2 or 0 in x.shape or not (np.issubdtype(x.dtype, np.number) and not np.iscomplexobj(x)):
        raise GankitError(f"{source}: x must be a non-empty real array of shape (n, dim), got {x.dtype} {x.shape}")
    labels, n_classes = check_labels(y, len(x), source)
    return LabelledArraySource(torch.from_numpy(np.asarray(x, dtype=np.float32)), torch.from_numpy(labels),
                               n_classes, name=str(path))


DATA.register_family("npz", help="vectors with classes: a .npz holding x (n, dim) and integer y (n,): npz:PATH")(
    lambda path: functools.partial(load_labelled_npz, path))
