"""Generator / discriminator architectures, registered by name in ``gankit.registry.MODELS``."""

from .mlp import MLPDiscriminator, MLPGenerator, make_mlp
from .spectral import apply_spectral_norm
from .vae import VAEDecoder, VAEEncoder, make_vae
from .vae_conv import ConvVAEDecoder, ConvVAEEncoder

__all__ = ["MLPDiscriminator", "MLPGenerator", "make_mlp", "apply_spectral_norm", "VAEDecoder", "VAEEncoder",
           "make_vae", "ConvVAEDecoder", "ConvVAEEncoder"]
