"""gankit: generative adversarial networks, from the divergence view to the benchmark table."""

from .errors import GankitError

__version__ = "0.1.0"
__all__ = ["GankitError", "__version__"]
