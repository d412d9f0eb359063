"""Plain draws of a generator: seeded noise through ``G`` in batches, in eval mode."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn

__all__ = ["generate", "forward_batched", "eval_mode"]


@contextmanager
def eval_mode(G: nn.Module) -> Iterator[nn.Module]:
    """``G`` in eval mode inside the ``with`` block, its mode restored after."""
    was_training = G.training
    G.eval()
    try:
        yield G
    finally:
        G.train(was_training)


@torch.no_grad()
def generate(G: nn.Module, n: int, seed: int, device: torch.device | str = "cpu", batch: int = 4096) -> Tensor:
    """``n`` samples ``(n, *G's output)`` of ``G`` (``latent_dim`` attribute), float32 on the CPU.

    The latents come from a CPU generator seeded ``seed`` (same seed, same samples; never the
    global stream), ``batch`` per forward pass on ``device``, with ``G`` in eval mode.

    Examples
    --------
    >>> from gankit.models.mlp import MLPGenerator
    >>> G = MLPGenerator(2, (2,), width=8, depth=1)
    >>> torch.equal(generate(G, 5, seed=0), generate(G, 5, seed=0))
    True
    """
    gen = torch.Generator(device="cpu").manual_seed(seed)
    with eval_mode(G):
        z = [torch.randn(min(batch, n - s), G.latent_dim, generator=gen).to(device) for s in range(0, n, batch)]
        return torch.cat([G(zb).float().cpu() for zb in z])


@torch.no_grad()
def forward_batched(G: nn.Module, z: Tensor, batch: int) -> Tensor:
    """``G(z)`` for the rows of ``z``, ``batch`` rows per forward pass."""
    return torch.cat([G(z[s:s + batch]) for s in range(0, z.shape[0], batch)])
