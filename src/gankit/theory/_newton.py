r"""Gauss–Newton ascent of a critic linear in its parameters, on f-GAN's grid objective.

The χ² rows of ``fgan-fit`` need a critic that reaches ``T* = f'(p/q)`` in tails where both
densities are tiny; Adam's gradient there vanishes with them. The critic is
:class:`gankit.theory._nets.BasisCritic`, ``u = Φβ``, ``V = link(u)``, and each step raises
the same objective

.. math::  F(β) = \sum_i w^P_i\, g_f(V_i) - w^Q_i\, f^*(g_f(V_i))

by a Levenberg–Marquardt step: with ``a = ∂F/∂u`` and the curvature
``c = max(w^Q f*''(T)·(∂T/∂u)², −∂²F/∂u²)``, solve ``min_Δ Σ c_i (φ_i·Δ − a_i/c_i)²`` with the
columns of ``√c·Φ`` normalised (a tail basis function gets its own Newton step) and a ridge
``damping``. Safeguards: targets ``a/c`` clipped to ``±clip`` (else the unclipped direction is
tried); a ridge ``½ρ·Σu²`` with ``ρ = floor·max(c)`` keeps irrelevant points near ``u = 0``;
the change of ``u`` capped at ``cap``, then halved until ``F`` rises; an accepted full step
doubled while ``F`` keeps rising (up to ``expand``). Every accepted step increases ``F − ½ρ·Σu²``.
"""

from __future__ import annotations

import math

import torch

from ..divergences.fdiv import FDivergence

__all__ = ["grid_objective", "newton_ascent", "maximise"]


def grid_objective(div: FDivergence, v: torch.Tensor, w_p: torch.Tensor, w_q: torch.Tensor) -> torch.Tensor:
    """``Σ w^P g_f(v) − w^Q f*(g_f(v))``; a point whose weight is 0 contributes 0 (never ``0·∞``)."""
    pt = torch.where(w_p > 0, w_p * div.activation(v), 0.0)
    qc = torch.where(w_q > 0, w_q * div.conjugate_activation(v), 0.0)
    return pt.sum() - qc.sum()


def _slope_curvature(div: FDivergence, critic: torch.nn.Module, u: torch.Tensor, w_p: torch.Tensor,
                     w_q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Pointwise ``a = ∂F/∂u`` and curvature ``c`` at log-ratios ``u`` (module doc); 0 where not finite."""
    v = critic.link(u)
    t = div.activation(v)
    (dt,) = torch.autograd.grad(t.sum(), u, retain_graph=True)
    (a,) = torch.autograd.grad((w_p * t - w_q * div.conjugate_activation(v)).sum(), u, create_graph=True)
    (h,) = torch.autograd.grad(a.sum(), u)
    a, h = a.detach(), -h
    tt = t.detach().requires_grad_(True)
    (c1,) = torch.autograd.grad(div.conjugate(tt).sum(), tt, create_graph=True)
    (c2,) = torch.autograd.grad(c1.sum(), tt)
    c = torch.maximum(w_q * c2 * dt**2, torch.where(torch.isfinite(h), h, 0.0))
    ok = torch.isfinite(a) & torch.isfinite(c)
    return torch.where(ok, a, 0.0), torch.where(ok, c, 0.0)


def newton_ascent(div: FDivergence, critic: torch.nn.Module, phi: torch.Tensor, w_p: torch.Tensor,
                  w_q: torch.Tensor, *, clip: float = 2.0, damping: float = 1e-3, floor: float = 1e-20,
                  cap: float = 10.0, expand: float = 100.0, halvings: int = 20) -> float:
    """One safeguarded Gauss–Newton step on ``critic.beta``; returns the relative gain of the objective (0: no step).

    ``critic`` has a parameter ``beta`` and a method ``link``; ``phi`` holds its features
    on the grid (``(n, len(beta))``, float64); ``w_p``, ``w_q`` are the grid weights
    (quadrature weight times density) of ``P`` and ``Q``.
    """
    beta = critic.beta.detach()
    u = (phi @ beta).requires_grad_(True)
    a, c = _slope_curvature(div, critic, u, w_p, w_q)
    rho = floor * float(c.max()) + 1e-300
    u = u.detach()
    a, c = a - rho * u, c + rho

    def objective(b: torch.Tensor) -> float:
        with torch.no_grad():
            ub = phi @ b
            return float(grid_objective(div, critic.link(ub), w_p, w_q)) - 0.5 * rho * float((ub * ub).sum())

    sc = c.sqrt()
    A = sc[:, None] * phi
    norms = A.norm(dim=0).clamp_min(1e-300)
    k = phi.shape[1]
    lhs = torch.cat([A / norms, math.sqrt(damping) * torch.eye(k, dtype=phi.dtype)], 0)
    f0 = objective(beta)
    for target, tries in (((a / c).clamp(-clip, clip), 6), (a / c, halvings)):
        rhs = torch.cat([sc * target, torch.zeros(k, dtype=phi.dtype)])
        step = torch.linalg.lstsq(lhs, rhs, driver="gelsd").solution / norms
        du = float((phi @ step).abs().max())
        if not math.isfinite(du) or du == 0.0:
            continue
        if du > cap:
            step, du = step * (cap / du), cap
        scale = 1.0
        for _ in range(tries):
            f1 = objective(beta + scale * step)
            if math.isfinite(f1) and f1 > f0:
                while scale >= 1.0 and 2 * scale * du <= expand:  # accepted at full length: try longer
                    f2 = objective(beta + 2 * scale * step)
                    if not (math.isfinite(f2) and f2 > f1):
                        break
                    f1, scale = f2, 2 * scale
                with torch.no_grad():
                    critic.beta.copy_(beta + scale * step)
                return (f1 - f0) / max(abs(f1), 1e-12)
            scale *= 0.5
    return 0.0


def maximise(div: FDivergence, critic: torch.nn.Module, phi: torch.Tensor, w_p: torch.Tensor, w_q: torch.Tensor,
             iterations: int = 5, tol: float = 1e-6) -> None:
    """Up to ``iterations`` :func:`newton_ascent` steps, stopping once a step gains less than ``tol`` (relative)."""
    for _ in range(iterations):
        if not newton_ascent(div, critic, phi, w_p, w_q) > tol:
            return
