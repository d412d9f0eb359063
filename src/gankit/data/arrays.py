"""A data source over a user's own array of vectors (rows drawn with replacement)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..errors import GankitError
from .toy import DataSource

__all__ = ["ArraySource"]


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
