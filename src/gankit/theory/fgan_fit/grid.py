r"""The grid the f-GAN game's expectations are sums over (:class:`Grid`), and the bound by quadrature.

``E_P[h] ≈ Σᵢ wᵢ p(xᵢ) h(xᵢ)`` and ``E_{Q_θ}[h] ≈ Σᵢ wᵢ q_θ(xᵢ) h(xᵢ)`` with trapezoid weights
``wᵢ``; the generator's gradient flows through ``q_θ(xᵢ)``.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...data.toy import Mixture1D
from ...divergences.fdiv import FDivergence
from .exact import gaussian

__all__ = ["Grid", "quadrature_bound"]


class Grid:
    """``n`` equally spaced points on ``[lo, hi]`` with trapezoid weights, and ``P``'s weights on them.

    Attributes
    ----------
    x64 : Tensor, shape (n,), float64
        The points.
    x32 : Tensor, shape (n, 1), float32
        The points as a network critic's input.
    trap : Tensor, shape (n,), float64
        Trapezoid weights.
    w_p : Tensor, shape (n,), float64
        ``trap · p(x)``. Float64: where ``p ≫ q`` the critic reaches ``T ≈ 90`` and ``f*(T) ≈ e^T``
        overflows float32, although ``q·f*(T)`` is tiny.
    """

    def __init__(self, p: Mixture1D, lo: float, hi: float, n: int) -> None:
        self.x64 = torch.linspace(lo, hi, n, dtype=torch.float64)
        dx = float(self.x64[1] - self.x64[0])
        self.trap = torch.full((n,), dx, dtype=torch.float64)
        self.trap[[0, -1]] = dx / 2
        self.w_p = self.trap * torch.as_tensor(p.pdf(self.x64.numpy()))  # (n,)
        self.x32 = self.x64.float().reshape(-1, 1)

    def q_weights(self, mu: torch.Tensor, s_raw: torch.Tensor) -> torch.Tensor:
        """``trap · q_θ(x)`` for ``q_θ = N(μ, softplus(s_raw)²)``, differentiable in ``θ``; shape (n,)."""
        sigma = F.softplus(s_raw).double()
        return self.trap * torch.exp(-0.5 * ((self.x64 - mu.double()) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))


def quadrature_bound(div: FDivergence, p: Mixture1D, critic: nn.Module, mu: float, sigma: float) -> float:
    """``F(ω, θ) = ∫ p·g_f(V) − q_θ·f*(g_f(V))`` by the trapezoid rule (20,001 points covering P and Q_θ).

    A lower bound on ``D_f(P‖N(μ, σ²))`` for every critic ``V``. A float64 copy of the critic is
    evaluated: an ``a − exp(b)`` critic overflows float32 far out in a tail.
    """
    lo, hi = p.support(1 - 1e-12)
    x = np.linspace(min(lo, mu - 8 * sigma), max(hi, mu + 8 * sigma), 20001)
    with torch.no_grad():
        v = copy.deepcopy(critic).double()(torch.tensor(x, dtype=torch.float64).reshape(-1, 1))
        t, conj = div.activation(v).numpy(), div.conjugate_activation(v).numpy()
    with np.errstate(invalid="ignore"):  # 0·inf where a density underflows to 0: no contribution
        pt, qc = p.pdf(x) * t, gaussian(mu, sigma).pdf(x) * conj
        integrand = np.where(np.isnan(pt), 0.0, pt) - np.where(np.isnan(qc), 0.0, qc)
    return float(np.trapezoid(integrand, x))
