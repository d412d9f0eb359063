"""Evaluation metrics: mode coverage, exact W1 on samples, and more (``gankit list``)."""

from .modes import ModeCoverage, mode_coverage, mode_histogram

__all__ = ["ModeCoverage", "mode_coverage", "mode_histogram"]
