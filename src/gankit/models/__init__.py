"""Generator / discriminator architectures, registered by name in ``gankit.registry.MODELS``."""

from .mlp import MLPDiscriminator, MLPGenerator, make_mlp

__all__ = ["MLPDiscriminator", "MLPGenerator", "make_mlp"]
