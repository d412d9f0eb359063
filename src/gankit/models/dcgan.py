"""DCGAN-style convolutional generator and discriminator for small images (Radford et al. 2016).

A square image of side ``H = s0·2^k`` (:func:`stages_for`) gets ``k`` up-sampling stages in G
and ``k`` down-sampling stages in D, so 8×8, 28×28, 32×32 and 64×64 all work, with any
number of channels. ``c`` is ``ModelConfig.channels``.

- G: ``z → Linear → (c·2^k, s0, s0)`` → k × [ConvTranspose 4×4 stride 2 → BatchNorm → ReLU]
  → Conv 3×3 → ``tanh`` (images in [-1, 1]).
- D: Conv 3×3 → LeakyReLU(0.2) → k × [Conv 4×4 stride 2 → LeakyReLU(0.2)] → Linear → one
  logit per image. No batch norm, so gradient penalties (per-example gradients) work.

Example
-------
>>> import torch
>>> G, D = DCGANGenerator(16, (1, 28, 28), channels=8), DCGANDiscriminator((1, 28, 28), channels=8)
>>> x = G(torch.randn(5, 16))
>>> tuple(x.shape), tuple(D(x).shape)
((5, 1, 28, 28), (5,))
"""

from __future__ import annotations

from torch import Tensor, nn

from ..errors import GankitError
from ..registry import MODELS

__all__ = ["DCGANGenerator", "DCGANDiscriminator", "make_dcgan", "stages_for"]


def stages_for(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(s0, k)`` with ``H = s0·2^k``: halve ``H`` while it stays even and at least 8.

    >>> [stages_for((1, h, h)) for h in (8, 28, 32, 64)]
    [(4, 1), (7, 2), (4, 3), (4, 4)]
    """
    if len(shape) != 3:
        raise GankitError(f"model dcgan needs images (channels, height, width); got data of shape {tuple(shape)}; "
                          "use model.name=mlp for vector data")
    c, h, w = shape
    if h != w or h < 4:
        raise GankitError(f"model dcgan needs square images of side >= 4; got {h}x{w}")
    s0, k = h, 0
    while s0 % 2 == 0 and s0 >= 8:
        s0, k = s0 // 2, k + 1
    return s0, k


class DCGANGenerator(nn.Module):
    """G(z): latent (batch, latent_dim) → images (batch, C, H, W) in [-1, 1]."""

    def __init__(self, latent_dim: int, data_shape: tuple[int, ...], channels: int = 64) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.data_shape = tuple(data_shape)
        s0, k = stages_for(self.data_shape)
        top = channels * 2**k
        self.s0, self.top = s0, top
        self.project = nn.Sequential(nn.Linear(latent_dim, top * s0 * s0, bias=False),
                                     nn.BatchNorm1d(top * s0 * s0), nn.ReLU(inplace=True))
        layers: list[nn.Module] = []
        c = top
        for _ in range(k):
            layers += [nn.ConvTranspose2d(c, c // 2, 4, stride=2, padding=1, bias=False),
                       nn.BatchNorm2d(c // 2), nn.ReLU(inplace=True)]
            c //= 2
        layers += [nn.Conv2d(c, self.data_shape[0], 3, padding=1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        h = self.project(z).view(z.shape[0], self.top, self.s0, self.s0)  # (batch, c·2^k, s0, s0)
        return self.net(h)  # (batch, C, H, W)


class DCGANDiscriminator(nn.Module):
    """D(x): images (batch, C, H, W) → logits (batch,) (pre-sigmoid output)."""

    def __init__(self, data_shape: tuple[int, ...], channels: int = 64) -> None:
        super().__init__()
        self.data_shape = tuple(data_shape)
        s0, k = stages_for(self.data_shape)
        layers: list[nn.Module] = [nn.Conv2d(self.data_shape[0], channels, 3, padding=1), nn.LeakyReLU(0.2, inplace=True)]
        c = channels
        for _ in range(k):
            layers += [nn.Conv2d(c, 2 * c, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True)]
            c *= 2
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c * s0 * s0, 1)

    def forward(self, x: Tensor) -> Tensor:
        h = self.features(x).flatten(1)  # (batch, c·2^k·s0·s0)
        return self.head(h).squeeze(1)  # (batch,)


@MODELS.register("dcgan", help="DCGAN conv generator (batch norm) and discriminator (LeakyReLU) for images; "
                               "width model.channels")
def make_dcgan(cfg, data_shape: tuple[int, ...]) -> tuple[nn.Module, nn.Module]:
    """Build ``(G, D)`` from a :class:`~gankit.config.ModelConfig` (``latent_dim``, ``channels``)."""
    return DCGANGenerator(cfg.latent_dim, data_shape, cfg.channels), DCGANDiscriminator(data_shape, cfg.channels)
