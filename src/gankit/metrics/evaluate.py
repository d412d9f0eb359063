"""Score a generator against its data source with every metric that applies."""

from __future__ import annotations

import torch
from typing import Any

from torch import nn

from ..data.toy import DataSource
from ..divergences.wasserstein import w1
from ..registry import METRICS
from .modes import mode_coverage

__all__ = ["generate", "evaluate"]


@torch.no_grad()
def generate(G: nn.Module, n: int, seed: int, device: torch.device | str = "cpu", batch: int = 4096) -> torch.Tensor:
    """``n`` samples from ``G`` with noise from a generator seeded ``seed`` (same seed, same samples)."""
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


def evaluate(G: nn.Module, source: DataSource, n_samples: int = 2500, w1_samples: int = 1000,
             seed: int = 12345, device: torch.device | str = "cpu", test: DataSource | None = None) -> dict[str, Any]:
    """Metrics of ``G`` against ``source``: mode coverage where it has modes, and exact W1;
    for images (``source.shape`` is (C, H, W)) the image metrics of :func:`.images.image_metrics`.

    Mode coverage uses ``n_samples`` generated samples; W1 uses ``w1_samples`` generated
    samples against as many fresh real ones. Noise and real draws come from generators
    seeded by ``seed``, never from the training streams. ``test`` is the test split of an
    image data set (the reference of the Fréchet distance).
    """
    fake = generate(G, n_samples, seed, device)
    if len(source.shape) == 3 and hasattr(source, "images"):
        from .images import image_metrics

        return image_metrics(fake, source, test, seed=seed)
    out: dict[str, Any] = {}
    if source.centres is not None and getattr(source, "std", None) is not None and source.shape == (
        source.centres.shape[1],
    ):
        out.update(mode_coverage(fake, source.centres, source.std))
    if source.dim <= 64 or hasattr(source, "log_prob"):
        real = source.sample(w1_samples, torch.Generator().manual_seed(seed + 1))
        out["w1"] = w1(fake[:w1_samples], real)
    return out


METRICS.add("modes", mode_coverage, help="modes captured / high-quality fraction / reverse KL (PacGAN definitions)")
