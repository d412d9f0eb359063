r"""Gauss–Newton ascent of a critic that is linear in its parameters, on f-GAN's grid objective.

The χ² rows of ``fgan-fit`` (Pearson, Neyman) need a critic that reaches
``T* = f'(p/q)`` where ``p`` and ``q`` are both tiny and the ratio is huge: near the edge of
the region where ``D_χ²`` is finite the tails decide the generator's gradient. With Adam on a
neural critic the gradient there is proportional to the vanishing densities, so the critic
never gets there (docs/theory.md). Here the critic is
:class:`gankit.theory._nets.BasisCritic`, ``u(x) = φ(x)·β`` (raw output ``V = link(u)``), and
each step maximises the **same** objective

.. math::  F(β) = \sum_i w^P_i\, g_f(V_i) - w^Q_i\, f^*(g_f(V_i)),\qquad V = \mathrm{link}(Φβ),

by a damped Gauss–Newton (Levenberg–Marquardt) step: with ``a_i = ∂F/∂u_i`` and the
curvature ``c_i = max(w^Q_i f*''(T_i)·(∂T_i/∂u_i)², −∂²F/∂u_i²)`` (the two agree at the pointwise
optimum; the first alone misses the curvature of the ``P`` term, which carries Neyman's
divergence where ``p ≫ q``: on ``0.9*N(0,1) + 0.1*N(2,3)`` it stalled at 7 % of ``D_χ²``), the
step solves the weighted least-squares problem ``min_Δ Σ c_i (φ_i·Δ − a_i/c_i)²`` with the
columns of ``√c·Φ`` normalised and a ridge ``damping`` on the normalised coefficients
(Marquardt's scaling: a basis function living only in a tail, where ``c`` is 1e-20 of the
bulk's, gets its own Newton step instead of none). The point is scale: for Pearson's ratio
head ``c_i = 2 q r²`` is the weight with which the point enters ``D_χ²`` itself, however
small ``p`` and ``q`` are.

Safeguards (every accepted step increases ``F − ½ρ·Σu²``: the objective plus the ridge below,
whose weight is 1e-20 of the largest curvature — the critic's objective is otherwise unchanged):

* the pointwise Newton targets ``a_i/c_i`` are clipped to ``±clip`` in ``u`` (log-ratio
  units) — if that direction does not increase the objective the unclipped Gauss–Newton direction
  (``Φᵀa`` preconditioned by a positive definite matrix, an ascent direction) is tried;
* a ridge ``½ρ·Σu²`` with ``ρ = floor·max(c)`` joins the objective: where a point's curvature
  is far below ``ρ`` (``D_f`` does not depend on it) its log-ratio stays near 0 instead of going
  wherever the basis drags it — such points become relevant when ``Q`` moves;
* the change of ``u`` anywhere on the grid is capped at ``cap`` per step, then the step is
  halved until the objective increases;
* after a full step is accepted it is doubled while ``F`` keeps increasing (up to a change of
  ``expand`` in ``u``): in log space a Newton step moves ``u`` down by at most 1 where the
  critic is far above ``T*`` (``F ≈ −q·e^{2u}``), and a critic left far above ``T*`` by a
  moving generator drags the generator towards it.
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
                     w_q: torch.Tensor, exact_curvature: bool) -> tuple[torch.Tensor, torch.Tensor]:
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
    c = w_q * c2 * dt**2
    if exact_curvature:
        c = torch.maximum(c, torch.where(torch.isfinite(h), h, 0.0))
    ok = torch.isfinite(a) & torch.isfinite(c)
    return torch.where(ok, a, 0.0), torch.where(ok, c, 0.0)


def newton_ascent(div: FDivergence, critic: torch.nn.Module, phi: torch.Tensor, w_p: torch.Tensor,
                  w_q: torch.Tensor, *, clip: float = 2.0, damping: float = 1e-3, floor: float = 1e-20,
                  cap: float = 10.0, expand: float = 100.0, halvings: int = 20,
                  exact_curvature: bool = True) -> float:
    """One safeguarded Gauss–Newton step on ``critic.beta``; returns the relative gain of the objective (0: no step).

    ``critic`` has a parameter ``beta`` and a method ``link``; ``phi`` holds its features
    on the grid (``(n, len(beta))``, float64); ``w_p``, ``w_q`` are the grid weights
    (quadrature weight times density) of ``P`` and ``Q``.
    """
    beta = critic.beta.detach()
    u = (phi @ beta).requires_grad_(True)
    a, c = _slope_curvature(div, critic, u, w_p, w_q, exact_curvature)
    # the ridge: maximise F − ½ρ·Σu² — where a point's curvature is far below ρ the log-ratio
    # stays near 0 (T = f'(1)) instead of wandering wherever the basis drags it
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
