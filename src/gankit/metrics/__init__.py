"""Evaluation metrics: stateful objects (:mod:`.base`), one module each, registered in
:data:`gankit.registry.METRICS` (``gankit list``); importing this package registers them all."""

from . import classes, count, frechet, kid, modes, parzen, precision_recall, w1  # noqa: F401  (registers the metrics)
from .base import EvalData, Metric, metric_classes, score
from .modes import ModeCoverage, mode_coverage, mode_histogram

__all__ = ["EvalData", "Metric", "metric_classes", "score", "ModeCoverage", "mode_coverage", "mode_histogram"]
