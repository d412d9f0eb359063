"""What a registered metric is, and :func:`score`, which runs every one that applies to the data.

A metric is a stateful object (``update`` / ``compute`` / ``reset``, as in torchmetrics) whose
maths lives in a pure function beside it. Adding one is a module in ``src/gankit/metrics/``
(named in the ``import`` list of ``metrics/__init__.py``) that registers a :class:`Metric`
subclass with ``@METRICS.register(name, help=...)``; :mod:`.count` is the smallest example.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from torch import Tensor

from ..data.toy import DataSource
from ..registry import METRICS

__all__ = ["EvalData", "Metric", "metric_classes", "score"]

T = TypeVar("T")


@dataclass(frozen=True)
class EvalData:
    """What generated samples are scored against: the training data ``source`` (a toy source, a 1-D
    mixture, a table, an image training split), an image data set's ``test`` split, the ``seed`` of
    every draw a metric makes (never the training streams), the sample count ``w1_samples`` of the
    exact W1, and whether the feature classifier may ``use_cache`` (its disk cache)."""

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
    """A stateful metric of generated samples; its state adds up over batches (and so across processes)."""

    #: per key of :meth:`compute`: True when larger is better, False when smaller, None for provenance
    higher_is_better: ClassVar[dict[str, bool | None]] = {}
    #: where this metric's keys stand among the others in :func:`score`'s output (ascending)
    order: ClassVar[int] = 100

    @classmethod
    @abstractmethod
    def applies(cls, data: EvalData) -> bool:
        """Whether this metric is defined for ``data``."""

    @classmethod
    def from_data(cls, data: EvalData) -> Metric:
        """A fresh metric scoring samples against ``data`` (call only where :meth:`applies`)."""
        return cls(data)  # type: ignore[call-arg]  # metrics built from other arguments override this

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
    """Every :class:`Metric` class registered in :data:`~gankit.registry.METRICS`, in :attr:`Metric.order`."""
    found = [e.obj for e in METRICS.entries() if isinstance(e.obj, type) and issubclass(e.obj, Metric)]
    return sorted(found, key=lambda cls: cls.order)


def score(fake: Tensor, data: EvalData) -> dict[str, Any]:
    """Every registered metric that applies to ``data``, on generated samples ``fake`` ``(n, *data shape)``."""
    out: dict[str, Any] = {}
    for metric in [cls.from_data(data) for cls in metric_classes() if cls.applies(data)]:
        metric.update(fake)
        out.update(metric.compute())
    return out
