"""Multi-layer perceptron generator and discriminator for vector data (toy 2-D, 1-D)."""

from __future__ import annotations

import math

from torch import Tensor, nn

from ..registry import MODELS

__all__ = ["MLPGenerator", "MLPDiscriminator", "make_mlp", "ACTIVATIONS"]

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "tanh": nn.Tanh, "silu": nn.SiLU,
}


def _mlp(n_in: int, width: int, depth: int, n_out: int, activation: str) -> nn.Sequential:
    layers: list[nn.Module] = []
    d = n_in
    for _ in range(depth):
        layers += [nn.Linear(d, width), ACTIVATIONS[activation]()]
        d = width
    layers.append(nn.Linear(d, n_out))
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """G(z): latent (batch, latent_dim) → sample (batch, *data_shape)."""

    def __init__(self, latent_dim: int, data_shape: tuple[int, ...], width: int = 256, depth: int = 3,
                 activation: str = "relu", scale: float = 1.0) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.data_shape = tuple(data_shape)
        self.scale = float(scale)
        self.net = _mlp(latent_dim, width, depth, math.prod(self.data_shape), activation)

    def forward(self, z: Tensor) -> Tensor:
        out = self.net(z).view(z.shape[0], *self.data_shape)
        return out * self.scale if self.scale != 1.0 else out


class MLPDiscriminator(nn.Module):
    """D(x): sample (batch, *data_shape) → logit (batch,) (pre-sigmoid output)."""

    def __init__(self, data_shape: tuple[int, ...], width: int = 256, depth: int = 3,
                 activation: str = "relu", scale: float = 1.0) -> None:
        super().__init__()
        self.data_shape = tuple(data_shape)
        self.scale = float(scale)
        self.net = _mlp(math.prod(self.data_shape), width, depth, 1, activation)

    def forward(self, x: Tensor) -> Tensor:
        x = x.reshape(x.shape[0], -1)
        return self.net(x / self.scale if self.scale != 1.0 else x).squeeze(1)


@MODELS.register("mlp", help="MLP generator and discriminator (width, depth, activation, latent_dim)")
def make_mlp(cfg, data_shape: tuple[int, ...]) -> tuple[nn.Module, nn.Module]:
    """Build ``(G, D)`` from a :class:`~gankit.config.ModelConfig`."""
    scale = getattr(cfg, "scale", 1.0)
    g = MLPGenerator(cfg.latent_dim, data_shape, cfg.g_width, cfg.g_depth, cfg.activation, scale)
    d = MLPDiscriminator(data_shape, cfg.d_width, cfg.d_depth, cfg.activation, scale)
    return g, d
