"""Data sources: toy 2-D/1-D distributions, arrays, and image data sets."""

from .arrays import ArraySource
from .images import ImageDataset, load_images
from .toy import DataSource, GaussianMixture, Mixture1D, grid25, make_source, parse_mixture, ring8

__all__ = ["ArraySource", "DataSource", "GaussianMixture", "ImageDataset", "Mixture1D", "grid25",
           "load_images", "make_source", "parse_mixture", "ring8"]
