"""Generator / discriminator architectures, registered by name in ``gankit.registry.MODELS``."""

from .dcgan import DCGANDiscriminator, DCGANGenerator, make_dcgan
from .mlp import MLPDiscriminator, MLPGenerator, make_mlp
from .spectral import apply_spectral_norm
from .vae import VAEDecoder, VAEEncoder, make_vae
from .vae_conv import ConvVAEDecoder, ConvVAEEncoder

__all__ = ["DCGANDiscriminator", "DCGANGenerator", "MLPDiscriminator", "MLPGenerator", "make_dcgan", "make_mlp",
           "resolve_model_name", "apply_spectral_norm", "VAEDecoder", "VAEEncoder", "make_vae", "ConvVAEDecoder",
           "ConvVAEEncoder"]


def resolve_model_name(name: str, data_shape: tuple[int, ...]) -> str:
    """``auto`` → ``dcgan`` for images ``(C, H, W)``, ``mlp`` for vectors; other names unchanged."""
    if name != "auto":
        return name
    return "dcgan" if len(tuple(data_shape)) == 3 else "mlp"
