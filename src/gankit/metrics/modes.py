"""Mode coverage on Gaussian-mixture benchmarks (DESIGN.md; PacGAN, Lin et al. 2018; VEEGAN, Srivastava et al. 2017).

A sample is *high quality* when it lies within ``3·std`` of its nearest centre; a mode is
*captured* when it is the nearest centre of a high-quality sample; *reverse KL* is
KL(p̂ ‖ uniform) of the histogram p̂ of high-quality samples over the modes (NaN when empty).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..registry import METRICS
from .base import EvalData, Metric

__all__ = ["mode_histogram", "coverage_from_counts", "mode_coverage_from_counts", "mode_coverage", "ModeCoverage"]


def mode_histogram(samples: Tensor, centres: Tensor, std: float | Tensor) -> tuple[Tensor, int]:
    """Counts ``(k,)`` of high-quality samples per mode, and the number of samples scored.

    ``samples`` has shape (n, d), ``centres`` (k, d), ``std`` is a float or a Tensor (k,).
    """
    samples = samples.reshape(samples.shape[0], -1).double()
    centres = centres.to(samples.device).reshape(centres.shape[0], -1).double()
    nearest_dist, nearest = torch.cdist(samples, centres).min(dim=1)  # (n,), (n,)
    std_t = torch.as_tensor(std, dtype=torch.float64, device=samples.device).expand(centres.shape[0])
    hq = nearest_dist < 3 * std_t[nearest]  # (n,)
    return torch.bincount(nearest[hq], minlength=centres.shape[0]).cpu(), int(samples.shape[0])


def coverage_from_counts(counts: Tensor, n: int) -> tuple[float, float, float]:
    """Bins hit, the fraction of the ``n`` samples counted, and KL(histogram ‖ uniform) (NaN when empty)."""
    total = int(counts.sum())
    kl = math.nan
    if total:
        p = counts.double() / total
        nz = p[p > 0]
        kl = float((nz * torch.log(nz * counts.numel())).sum())
    return float(int((counts > 0).sum())), total / n if n else math.nan, kl


def mode_coverage_from_counts(counts: Tensor, n: int) -> dict[str, float]:
    """Modes captured, high-quality fraction and reverse KL from a per-mode histogram."""
    return dict(zip(("modes", "high_quality", "reverse_kl"), coverage_from_counts(counts, n), strict=True))


def mode_coverage(samples: Tensor, centres: Tensor, std: float | Tensor) -> dict[str, float]:
    """Modes captured, fraction of high-quality samples and reverse KL (DESIGN.md).

    Examples
    --------
    >>> import torch
    >>> c = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    >>> s = torch.tensor([[0.0, 0.0], [0.0, 0.001], [5.0, 5.0], [1.0, 0.0]])
    >>> m = mode_coverage(s, c, std=0.01)
    >>> m["modes"], m["high_quality"]
    (2.0, 0.75)
    """
    return mode_coverage_from_counts(*mode_histogram(samples, centres, std))


def _mode_std(source: object) -> float | Tensor | None:
    """The per-mode std of a mixture source: ``std`` where all modes share it, else ``stds`` (1-D mixtures)."""
    std = getattr(source, "std", None)
    return std if std is not None else getattr(source, "stds", None)


@METRICS.register("modes", help="modes captured / high-quality fraction / reverse KL (PacGAN definitions); "
                                 "vector data with mixture modes")
class ModeCoverage(Metric):
    """Mode coverage of the samples seen, for ``centres`` ``(k, d)`` and ``std`` (a float or ``(k,)``).

    The state (per-mode counts, sample count) sums across processes.
    """

    higher_is_better = {"modes": True, "high_quality": True, "reverse_kl": False}
    order = 50

    def __init__(self, centres: Tensor, std: float | Tensor) -> None:
        self.centres = torch.as_tensor(centres)
        self.std = std
        self.reset()

    @classmethod
    def applies(cls, data: EvalData) -> bool:
        """Vector data whose source has mixture centres of its own dimension and a per-mode std."""
        centres = getattr(data.source, "centres", None)
        return (centres is not None and _mode_std(data.source) is not None
                and tuple(data.source.shape) == (centres.shape[1],))

    @classmethod
    def from_data(cls, data: EvalData) -> ModeCoverage:
        return cls(data.source.centres, torch.as_tensor(_mode_std(data.source)))

    def reset(self) -> None:
        self.counts = torch.zeros(self.centres.shape[0], dtype=torch.int64)
        self.n = 0

    def update(self, samples: Tensor) -> None:
        counts, n = mode_histogram(samples, self.centres, self.std)
        self.counts += counts
        self.n += n

    def compute(self) -> dict[str, float]:
        return mode_coverage_from_counts(self.counts, self.n)
