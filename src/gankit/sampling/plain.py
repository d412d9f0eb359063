"""Plain draws of a generator: seeded noise through ``G`` in batches, ``G``'s mode restored after."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["generate", "forward_batched"]


@torch.no_grad()
def generate(G: nn.Module, n: int, seed: int, device: torch.device | str = "cpu", batch: int = 4096) -> Tensor:
    """``n`` samples of ``G`` with noise from a CPU generator seeded ``seed`` (same seed, same samples).

    Parameters
    ----------
    G : nn.Module
        A generator with a ``latent_dim`` attribute; evaluated in eval mode, its mode restored after.
    n : int
        Number of samples.
    seed : int
        Seeds the latent draws (never the global stream).
    device : torch.device or str
        Where ``G`` runs.
    batch : int
        Latents per forward pass.

    Returns
    -------
    Tensor, shape (n, *G's output), float32 on the CPU

    Examples
    --------
    >>> from gankit.models.mlp import MLPGenerator
    >>> G = MLPGenerator(2, (2,), width=8, depth=1)
    >>> torch.equal(generate(G, 5, seed=0), generate(G, 5, seed=0))
    True
    """
    gen = torch.Generator(device="cpu").manual_seed(seed)
    was_training = G.training
    G.eval()
    out = []
    for start in range(0, n, batch):
        m = min(batch, n - start)
        z = torch.randn(m, G.latent_dim, generator=gen).to(device)
        out.append(G(z).float().cpu())
    G.train(was_training)
    return torch.cat(out)


@torch.no_grad()
def forward_batched(G: nn.Module, z: Tensor, batch: int) -> Tensor:
    """``G(z)`` for the rows of ``z``, ``batch`` rows per forward pass."""
    return torch.cat([G(z[s:s + batch]) for s in range(0, z.shape[0], batch)])
