r"""Samplers through the singular values of the generator's Jacobian ``J_G(z)`` (docs/leaderboard.md).

**Polarity sampling** (Humayun, Balestriero & Baraniuk, CVPR 2022) draws latents from
:math:`p_\rho(z) \propto p(z) \prod_k \sigma_k(J_G(z))^{\rho}` (``ρ < 0``: precision, ``ρ > 0``:
diversity) by sampling-importance-resampling with the Gumbel-top-k trick (Kool et al. 2019).
The **highest-density sampler** keeps the fraction ``mass`` of ``G``'s samples of highest density
:math:`\log p_G(G(z)) = \log p(z) - \sum_k \log \sigma_k(J_G(z))` (exact where ``G`` is injective
and ``dim z ≤ dim x``), dropping the thinnest regions (bridges between modes) first.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.func import jacrev, vmap

from .checks import check_hpd, check_polarity
from .plain import eval_mode, forward_batched, generate

__all__ = ["log_volume", "log_density", "polarity_sample", "hpd_sample"]


def log_volume(G: nn.Module, z: Tensor, batch: int = 2048) -> Tensor:
    """``Σ_k log σ_k(J_G(z))`` ``(n,)``, float64, for each row of ``z``: the log singular values of the
    Jacobian of ``G``'s flattened output (``torch.linalg.svdvals``), summed."""
    jacobian = vmap(jacrev(lambda zz: G(zz.unsqueeze(0)).reshape(-1)))  # (b, latent) -> (b, out, latent)
    out = []
    for start in range(0, z.shape[0], batch):
        sv = torch.linalg.svdvals(jacobian(z[start:start + batch]).double())
        out.append(torch.log(sv.clamp_min(torch.finfo(torch.float64).tiny)).sum(dim=1).detach())
    return torch.cat(out)


def polarity_sample(G: nn.Module, n: int, rho: float, seed: int, device: torch.device | str = "cpu",
                    pool: int = 10, batch: int = 4096) -> Tensor:
    """``n`` samples ``(n, *G's output)`` of ``G`` (CPU float32) under polarity ``rho``, deterministic in ``seed``;
    ``rho = 0`` is plain sampling."""
    check_polarity(rho, pool)
    if rho == 0 or pool == 1:  # the plain generator: exactly generate's draws
        return generate(G, n, seed, device, batch)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    with eval_mode(G):
        z = torch.randn(pool * n, G.latent_dim, generator=gen).to(device)
        logw = rho * log_volume(G, z).cpu()
        gumbel = -torch.log(-torch.log(torch.rand(z.shape[0], generator=gen, dtype=torch.float64).clamp_min(1e-300)))
        keep = torch.topk(logw + gumbel, n).indices.sort().values
        return forward_batched(G, z[keep.to(z.device)], batch).float().cpu()


def log_density(G: nn.Module, z: Tensor) -> Tensor:
    """``log p(z) − Σ_k log σ_k(J_G(z))`` (float64, shape ``(n,)``), ``p = N(0, I)``: ``log p_G(G(z))``."""
    log_p = -0.5 * (z.double() ** 2).sum(dim=1).cpu() - 0.5 * z.shape[1] * math.log(2 * math.pi)
    return log_p - log_volume(G, z).cpu()


def hpd_sample(G: nn.Module, n: int, mass: float, seed: int, device: torch.device | str = "cpu",
               batch: int = 4096) -> Tensor:
    """``n`` samples of ``G`` from its highest-density region of probability ``mass`` (module doc).

    The ``n`` of ``ceil(n / mass)`` latents with the highest :func:`log_density` are kept, in
    draw order; ``mass = 1`` is plain sampling. Deterministic in ``seed``.
    """
    check_hpd(mass)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    with eval_mode(G):
        m = n if mass == 1 else math.ceil(n / mass)
        z = torch.randn(m, G.latent_dim, generator=gen).to(device)
        if m > n:
            z = z[torch.topk(log_density(G, z), n).indices.sort().values.to(z.device)]
        return forward_batched(G, z, batch).float().cpu()
