"""The small critic network shared by the theory lab: an MLP on standardised inputs."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["StandardisedMLP"]


class StandardisedMLP(nn.Module):
    """``x ↦ net((x − centre)/scale)``: tanh MLP with one raw output per point.

    Parameters
    ----------
    centre, scale : float or Tensor of shape (dim,)
        Standardisation of the inputs (fixed, not trained).
    width, depth : int
        Hidden units per layer and number of hidden layers.
    dim : int
        Input dimension; inputs of shape (n,) are read as (n, 1).
    """

    def __init__(self, centre: float | torch.Tensor, scale: float | torch.Tensor, width: int = 64, depth: int = 2,
                 dim: int = 1) -> None:
        super().__init__()
        self.register_buffer("centre", torch.as_tensor(centre, dtype=torch.float32).reshape(-1))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32).reshape(-1))
        self.dim = dim
        layers: list[nn.Module] = []
        d = dim
        for _ in range(depth):
            layers += [nn.Linear(d, width), nn.Tanh()]
            d = width
        layers.append(nn.Linear(d, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (n, dim) or (n,) -> (n,)
        x = x.reshape(x.shape[0], self.dim)
        return self.net((x - self.centre.to(x.dtype)) / self.scale.to(x.dtype)).reshape(-1)
