r"""Is the f-GAN critic's generator gradient right? Q held fixed, critic trained alone, gradient vs exact.

The fixed point of the f-GAN game of ``gankit theory fgan-fit`` (grid expectations) is where
the generator's gradient ``∂F/∂θ = −∂/∂θ Σᵢ wᵢ q_θ(xᵢ) f*(T(xᵢ))`` (critic ``T`` fixed) is
zero. With the optimal critic ``T* = f'(p/q)`` this is ``∂D_f(P‖Q_θ)/∂θ`` (envelope theorem),
so a critic that is right where it matters puts the game's fixed point at ``argmin D_f``.

For each ``σ`` in ``--offsets`` (relative to σ*; μ held at μ*) this script trains a fresh
critic alone for ``--steps`` steps on the game's grid and loss, then prints its
``∂F/∂σ`` and ``∂F/∂μ`` beside the exact derivatives of ``D_f`` (central differences of
the grid divergence :func:`gankit.theory.fgan_fit.grid_divergence`) and the bound ``F``
beside ``D_f``. Heads: the library's (``plain``, ``quadratic``, ``sine``, ``exp``) and
``ratio`` (defined here, Pearson only), ``V = 2(e^u − 1)`` — the optimal critic written
as ``f'(e^u)``, ``u`` a tanh MLP with a quadratic skip (``u* = log p/q`` is quadratic in
a Gaussian's tails).

Usage::

    PYTHONPATH=src python benchmarks/fgan_critic_gradient.py --target "0.9*N(0,1)+0.1*N(2,3)" \
        --divergence pearson --heads plain ratio --offsets -0.2 0 0.2
"""

from __future__ import annotations

import argparse
import math

import torch
from torch import nn

from gankit.data.toy import Mixture1D, parse_mixture
from gankit.divergences.fdiv import FDivergence, get_divergence
from gankit.theory._nets import StandardisedMLP, make_critic
from gankit.theory.fgan_fit import Grid, exact_fit, grid_divergence, mean_std, quadrature_bound


class PearsonRatioCritic(nn.Module):
    """``V = 2(e^u − 1) = f'(e^u)`` for Pearson χ² (identity activation)."""

    def __init__(self, u: StandardisedMLP) -> None:
        super().__init__()
        self.u = u

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 2 * torch.expm1(self.u(x))


def critic(head: str, div: FDivergence, centre: float, scale: float) -> nn.Module:
    if head == "ratio":
        if div.name != "pearson":
            raise SystemExit("the ratio head is written for pearson only")
        return PearsonRatioCritic(StandardisedMLP(centre, scale, 64, 2, quadratic=True))
    return make_critic(head, centre, scale, 64, 2)


def critic_gradient(div: FDivergence, p: Mixture1D, mu0: float, sigma0: float, head: str, steps: int,
                    lr: float = 1e-2, grid_points: int = 512, seed: int = 0) -> tuple[float, float, float]:
    """``(∂F/∂μ, ∂F/∂σ, F)`` of a critic trained alone against ``N(mu0, sigma0²)`` (the game's grid and loss)."""
    torch.manual_seed(seed)
    m, s = mean_std(p)
    lo, hi = p.support(1 - 1e-9)  # the game's grid (gankit.theory.fgan_fit.FGanGame)
    grid = Grid(p, lo - s, hi + s, grid_points)
    x64, trap, w_p, xg = grid.x64, grid.trap, grid.w_p, grid.x32
    mu = torch.tensor(mu0, dtype=torch.float64, requires_grad=True)
    sigma = torch.tensor(sigma0, dtype=torch.float64, requires_grad=True)

    def w_q() -> torch.Tensor:
        return trap * torch.exp(-0.5 * ((x64 - mu) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))

    V = critic(head, div, m, s)
    opt = torch.optim.Adam(V.parameters(), lr=lr, betas=(0.5, 0.999))
    sch = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=lr / 30)
    with torch.no_grad():
        wq = w_q()
    for _ in range(steps):
        v = V(xg).double()
        loss = -((w_p * div.activation(v)).sum() - (wq * div.conjugate_activation(v)).sum())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sch.step()
    with torch.no_grad():
        conj = div.conjugate_activation(V(xg).double())
    (-(w_q() * conj).sum()).backward()  # the generator's loss; its gradient is ∂F/∂θ (T fixed)
    return float(mu.grad), float(sigma.grad), quadrature_bound(div, p, V, mu0, sigma0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", default="0.9*N(0,1)+0.1*N(2,3)")
    ap.add_argument("--divergence", default="pearson")
    ap.add_argument("--heads", nargs="+", default=["plain", "ratio"])
    ap.add_argument("--offsets", nargs="+", type=float, default=[-0.2, 0.0, 0.2])
    ap.add_argument("--steps", type=int, default=3000)
    args = ap.parse_args()
    torch.set_num_threads(1)
    div, p = get_divergence(args.divergence), parse_mixture(args.target)
    mu_s, sigma_s, _ = exact_fit(div, p)
    print(f"{div.name} on {args.target}: mu* = {mu_s:.4f}, sigma* = {sigma_s:.4f}")
    print(f"{'head':<10}{'sigma':>8}{'D_f':>10}{'bound':>10}{'dD/dsig':>12} {'critic':>10} {'dD/dmu':>10} {'critic':>10}")
    h = 1e-4
    for off in args.offsets:
        sig = sigma_s + off
        d = grid_divergence(div, p, mu_s, sig)
        d_sig = (grid_divergence(div, p, mu_s, sig + h) - grid_divergence(div, p, mu_s, sig - h)) / (2 * h)
        d_mu = (grid_divergence(div, p, mu_s + h, sig) - grid_divergence(div, p, mu_s - h, sig)) / (2 * h)
        for head in args.heads:
            g_mu, g_sig, bound = critic_gradient(div, p, mu_s, sig, head, args.steps)
            print(f"{head:<10}{sig:>8.3f}{d:>10.4g}{bound:>10.4g}{d_sig:>12.4g} {g_sig:>10.4g} {d_mu:>10.4g} {g_mu:>10.4g}",
                  flush=True)


if __name__ == "__main__":
    main()
