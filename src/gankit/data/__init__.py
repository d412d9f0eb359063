"""Data sources: toy 2-D/1-D distributions (and, later, image data sets)."""

from .toy import DataSource, GaussianMixture, Mixture1D, grid25, make_source, parse_mixture, ring8

__all__ = ["DataSource", "GaussianMixture", "Mixture1D", "grid25", "make_source", "parse_mixture", "ring8"]
