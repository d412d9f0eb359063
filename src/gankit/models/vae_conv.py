"""Convolutional VAE for small images (``vae-conv``): the same objective as :mod:`gankit.models.vae`.

Encoder: two stride-2 4×4 convolutions (``width/4`` then ``width/2`` channels, ReLU),
flatten, linear to ``(mu, logvar)``. Decoder: linear to ``width/2 × H/4 × W/4``, two
stride-2 4×4 transposed convolutions back to ``C × H × W``. Needs H and W divisible by 4
(8×8 digits, 28×28 MNIST, 32×32 CIFAR). The classes subclass :class:`VAEEncoder` /
:class:`VAEDecoder`, so the likelihood, the trainer, ``gankit sample`` and the
:class:`gankit.VAE` front door (``VAE(model="vae-conv")``) treat them like the MLP VAE.
"""

from __future__ import annotations

from torch import Tensor, nn

from ..config import VAEConfig
from ..errors import GankitError
from ..registry import MODELS
from .mlp import ACTIVATIONS
from .vae import VAEDecoder, VAEEncoder

__all__ = ["ConvVAEEncoder", "ConvVAEDecoder", "make_vae_conv"]


def _check_shape(data_shape: tuple[int, ...], width: int) -> tuple[int, int, int, int, int]:
    """``(C, H, W)`` and the two conv widths ``(c1, c2)``; GankitError unless H and W divide by 4."""
    if len(data_shape) != 3 or data_shape[1] % 4 or data_shape[2] % 4:
        raise GankitError(f"model vae-conv needs images (C, H, W) with H and W divisible by 4, got shape "
                          f"{tuple(data_shape)}; use model vae for other data")
    return (*data_shape, max(width // 4, 8), max(width // 2, 16))  # type: ignore[return-value]


class ConvVAEEncoder(VAEEncoder):
    """q(z | x) with a small CNN: (batch, C, H, W) → (mu, logvar), each (batch, latent_dim)."""

    def __init__(self, data_shape: tuple[int, ...], latent_dim: int, width: int = 128, activation: str = "relu") -> None:
        nn.Module.__init__(self)
        c, h, w, c1, c2 = _check_shape(data_shape, width)
        self.data_shape, self.latent_dim, self.stochastic = tuple(data_shape), latent_dim, True
        act = ACTIVATIONS[activation]
        self.net = nn.Sequential(
            nn.Conv2d(c, c1, 4, 2, 1), act(),  # (batch, c1, H/2, W/2)
            nn.Conv2d(c1, c2, 4, 2, 1), act(),  # (batch, c2, H/4, W/4)
            nn.Flatten(),
            nn.Linear(c2 * (h // 4) * (w // 4), 2 * latent_dim),
        )

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        mu, logvar = self.net(x.reshape(x.shape[0], *self.data_shape)).chunk(2, dim=1)
        return mu, logvar.clamp(-30.0, 20.0)


class ConvVAEDecoder(VAEDecoder):
    """p(x | z) with transposed convolutions; ``raw(z)`` is (batch, C·H·W) like the MLP decoder's."""

    def __init__(self, latent_dim: int, data_shape: tuple[int, ...], width: int = 128, activation: str = "relu",
                 likelihood: str = "gaussian", beta: float = 1.0, kl_warmup: int = 0) -> None:
        c, h, w, c1, c2 = _check_shape(data_shape, width)
        super().__init__(latent_dim, data_shape, width=8, depth=0, activation=activation, likelihood=likelihood,
                         beta=beta, kl_warmup=kl_warmup)
        act = ACTIVATIONS[activation]
        self.net = nn.Sequential(
            nn.Linear(latent_dim, c2 * (h // 4) * (w // 4)), act(),
            nn.Unflatten(1, (c2, h // 4, w // 4)),
            nn.ConvTranspose2d(c2, c1, 4, 2, 1), act(),  # (batch, c1, H/2, W/2)
            nn.ConvTranspose2d(c1, c, 4, 2, 1),  # (batch, C, H, W)
            nn.Flatten(),
        )


@MODELS.register("vae-conv", help="convolutional VAE for images with H, W divisible by 4 (latent_dim, g_/d_width)")
def make_vae_conv(cfg, data_shape: tuple[int, ...], vae: VAEConfig | None = None) -> tuple[nn.Module, nn.Module]:
    """Build ``(decoder, encoder)`` from a :class:`~gankit.config.ModelConfig` and a
    :class:`~gankit.config.VAEConfig` (default options when None); depths are fixed at two conv layers."""
    vae = vae or VAEConfig()
    dec = ConvVAEDecoder(cfg.latent_dim, data_shape, cfg.g_width, cfg.activation,
                         likelihood=vae.likelihood, beta=vae.beta, kl_warmup=vae.kl_warmup)
    enc = ConvVAEEncoder(data_shape, cfg.latent_dim, cfg.d_width, cfg.activation)
    return dec, enc
