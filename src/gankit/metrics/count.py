"""``n_samples``: how many generated images the image metrics scored (their provenance)."""

from __future__ import annotations

from torch import Tensor

from ..registry import METRICS
from .base import EvalData, Metric

__all__ = ["SampleCount"]


@METRICS.register("n_samples", help="number of generated images scored (image data sets)")
class SampleCount(Metric):
    """The number of generated samples of shape ``shape`` seen.

    Examples
    --------
    >>> import torch
    >>> m = SampleCount((1, 2, 2))
    >>> m.update(torch.zeros(3, 1, 2, 2)); m.update(torch.zeros(2, 1, 2, 2))
    >>> m.compute()
    {'n_samples': 5}
    """

    higher_is_better = {"n_samples": None}
    order = 0

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = tuple(shape)
        self.reset()

    @classmethod
    def applies(cls, data: EvalData) -> bool:
        return data.is_image

    @classmethod
    def from_data(cls, data: EvalData) -> SampleCount:
        return cls(tuple(data.source.shape))

    def reset(self) -> None:
        self.n = 0

    def update(self, fake: Tensor) -> None:
        if tuple(fake.shape[1:]) != self.shape:
            raise ValueError(f"generated images have shape {tuple(fake.shape[1:])}, the data {self.shape}")
        self.n += len(fake)

    def compute(self) -> dict[str, int]:
        return {"n_samples": int(self.n)}
