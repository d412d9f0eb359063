"""Exact earth mover's distance W1 between generated samples and as many fresh draws of the data.

The maths is :func:`gankit.divergences.wasserstein.w1` on flattened samples; exact transport
grows fast with the sample count, hence ``w1_samples`` (real draws seeded ``seed + 1``).
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..divergences.wasserstein import w1
from ..errors import GankitError
from ..registry import METRICS
from .base import EvalData, Metric

__all__ = ["ExactW1", "W1_MAX_DIM"]

#: the largest sample dimension W1 is computed for, unless the source has a density (``log_prob``)
W1_MAX_DIM = 64


@METRICS.register("w1", help="exact earth mover's distance W1 between generated and fresh real samples "
                                    f"(key w1); vector data of dimension <= {W1_MAX_DIM} or with a density")
class ExactW1(Metric):
    """Exact W1 of the first ``n_fake`` generated samples (kept in the state) against ``real`` ``(m, ...)``.

    Examples
    --------
    >>> m = ExactW1(torch.tensor([[0.5], [1.5], [2.5]]), n_fake=3)
    >>> m.update(torch.tensor([[0.0], [1.0]])); m.update(torch.tensor([[2.0], [9.0]]))
    >>> m.compute()
    {'w1': 0.5}
    """

    higher_is_better = {"w1": False}
    order = 60

    def __init__(self, real: Tensor, n_fake: int) -> None:
        self.real = real.flatten(1)
        self.n_fake = int(n_fake)
        self.reset()

    @classmethod
    def applies(cls, data: EvalData) -> bool:
        """Data other than image data sets, of dimension at most :data:`W1_MAX_DIM` or with a density."""
        return not data.is_image and (data.source.dim <= W1_MAX_DIM or hasattr(data.source, "log_prob"))

    @classmethod
    def from_data(cls, data: EvalData) -> ExactW1:
        real = data.source.sample(data.w1_samples, torch.Generator().manual_seed(data.seed + 1))
        return cls(real, data.w1_samples)

    def reset(self) -> None:
        self.fake: list[Tensor] = []
        self.seen = 0

    def update(self, fake: Tensor) -> None:
        take = fake[: max(self.n_fake - self.seen, 0)].flatten(1)
        if len(take):
            self.fake.append(take)
            self.seen += len(take)

    def compute(self) -> dict[str, float]:
        if not self.fake:
            raise GankitError("W1 needs at least one generated sample; none was given to update()")
        return {"w1": w1(torch.cat(self.fake), self.real)}
