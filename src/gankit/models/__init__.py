"""Generator / discriminator architectures, registered by name in ``gankit.registry.MODELS``."""

from .mlp import MLPDiscriminator, MLPGenerator, make_mlp
from .spectral import apply_spectral_norm

__all__ = ["MLPDiscriminator", "MLPGenerator", "make_mlp", "apply_spectral_norm"]
