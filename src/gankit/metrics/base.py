"""What a registered metric is, and how the metrics that apply to a data source are run.

A metric is a stateful object in the style of torchmetrics: :meth:`Metric.update` takes a
batch of generated samples, :meth:`Metric.compute` returns a dict of named numbers,
:meth:`Metric.reset` clears the state; the maths lives in a pure function beside it. Each
metric class says which data it applies to (:meth:`Metric.applies`) and builds itself
from the data (:meth:`Metric.from_data`). Metric classes are registered in
:data:`gankit.registry.METRICS` by a decorator in their own file, and
:func:`score` runs every registered metric that applies.

Adding a metric is one file in ``src/gankit/metrics/``::

    @METRICS.register("mean_norm", help="mean Euclidean norm of the samples (vector data)")
    class MeanNorm(Metric):
        higher_is_better = {"mean_norm": None}

        @classmethod
        def applies(cls, data: EvalData) -> bool:
            return len(data.source.shape) == 1

        @classmethod
        def from_data(cls, data: EvalData) -> "MeanNorm":
            return cls()

        def reset(self) -> None:
            self.total, self.n = 0.0, 0

        def update(self, fake: Tensor) -> None:
            self.total += float(fake.flatten(1).norm(dim=1).sum())
            self.n += len(fake)

        def compute(self) -> dict[str, float]:
            return {"mean_norm": self.total / self.n}

and its module name in the ``import`` list of ``metrics/__init__.py``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from torch import Tensor

from ..data.toy import DataSource
from ..registry import METRICS

__all__ = ["EvalData", "Metric", "metric_classes", "applicable", "score"]

T = TypeVar("T")


@dataclass(frozen=True)
class EvalData:
    """What generated samples are scored against, and how.

    Parameters
    ----------
    source : DataSource
        The training data (a toy source, a 1-D mixture, a table, an image data set's training split).
    test : DataSource, optional
        The test split of an image data set (the reference of the Fréchet distance).
    seed : int
        Seeds every draw a metric makes (fresh real samples, fixed subsets), never the training streams.
    w1_samples : int
        Generated and fresh real samples of the exact W1.
    use_cache : bool
        Whether the image metrics' feature classifier may be read from and written to its disk cache.
    """

    source: DataSource
    test: DataSource | None = None
    seed: int = 12345
    w1_samples: int = 1000
    use_cache: bool = True
    _shared: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def is_image(self) -> bool:
        """An image data set held in memory: samples of shape (C, H, W) and an ``images`` tensor."""
        return len(self.source.shape) == 3 and hasattr(self.source, "images")

    @property
    def has_labels(self) -> bool:
        """An image data set with class labels (what the feature classifier needs)."""
        return (self.is_image and getattr(self.source, "labels", None) is not None
                and getattr(self.source, "n_classes", None) is not None)

    def shared(self, key: Hashable, make: Callable[[], T]) -> T:
        """``make()``, computed once per :class:`EvalData` and shared by its metrics (a classifier, features)."""
        if key not in self._shared:
            self._shared[key] = make()
        return self._shared[key]


class Metric(ABC):
    """A stateful metric of generated samples: ``update(fake)`` / ``compute()`` / ``reset()``.

    The state adds up over batches (and so across processes). Subclasses set
    :attr:`higher_is_better` and :attr:`order`, and define :meth:`applies` and :meth:`from_data`.
    """

    #: for each key of :meth:`compute`: ``True`` when larger is better, ``False`` when smaller,
    #: ``None`` for provenance (counts, hashes, the reference used)
    higher_is_better: ClassVar[dict[str, bool | None]] = {}
    #: where this metric's keys stand among the others in :func:`score`'s output (ascending)
    order: ClassVar[int] = 100

    @classmethod
    @abstractmethod
    def applies(cls, data: EvalData) -> bool:
        """Whether this metric is defined for ``data``."""

    @classmethod
    @abstractmethod
    def from_data(cls, data: EvalData) -> Metric:
        """A fresh metric scoring samples against ``data`` (call only where :meth:`applies`)."""

    @abstractmethod
    def reset(self) -> None:
        """Forget every sample seen."""

    @abstractmethod
    def update(self, fake: Tensor) -> None:
        """Add generated samples ``fake`` of shape ``(n, *data shape)``."""

    @abstractmethod
    def compute(self) -> dict[str, Any]:
        """The metric's values on every sample seen since the last :meth:`reset`."""


def metric_classes() -> list[type[Metric]]:
    """Every :class:`Metric` class registered in :data:`~gankit.registry.METRICS`, in :attr:`Metric.order`.

    Entries of ``METRICS`` that are not :class:`Metric` classes are skipped: they are not run
    by :func:`score`.
    """
    found = [e.obj for e in METRICS.entries() if isinstance(e.obj, type) and issubclass(e.obj, Metric)]
    return sorted(found, key=lambda cls: cls.order)


def applicable(data: EvalData) -> list[Metric]:
    """A fresh instance of every registered metric that applies to ``data``, in output order."""
    return [cls.from_data(data) for cls in metric_classes() if cls.applies(data)]


def score(fake: Tensor, data: EvalData) -> dict[str, Any]:
    """Every registered metric that applies to ``data``, on the generated samples ``fake``.

    Parameters
    ----------
    fake : Tensor, shape (n, *data shape)
        Generated samples.
    data : EvalData
        What they are scored against.

    Returns
    -------
    dict
        The keys of every applicable metric, in :attr:`Metric.order`.
    """
    out: dict[str, Any] = {}
    for metric in applicable(data):
        metric.update(fake)
        out.update(metric.compute())
    return out
