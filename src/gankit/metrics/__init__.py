"""Evaluation metrics, registered in :data:`gankit.registry.METRICS` (``gankit list``).

Each metric is a stateful object (``update`` / ``compute`` / ``reset``, :mod:`.base`) in its
own module, registered there by a decorator, and says which data it applies to;
:func:`.evaluate.evaluate` runs every one that applies. Importing this package imports
every metric module, so the registry is complete.
"""

from . import classes, count, frechet, modes, parzen, precision_recall, w1  # noqa: F401  (registers the metrics)
from .base import EvalData, Metric, applicable, metric_classes, score
from .modes import ModeCoverage, mode_coverage, mode_histogram

__all__ = ["EvalData", "Metric", "applicable", "metric_classes", "score", "ModeCoverage", "mode_coverage",
           "mode_histogram"]
