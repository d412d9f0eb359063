r"""Exact f-divergences between 1-D Gaussian mixtures, their closed forms, and Monte Carlo.

:func:`divergence` integrates ``q f(p/q)`` over the whole line with ``scipy.integrate.quad``,
split at every component mean and ``mean ± 3 std``. The integrand comes from ``log p`` and
``log q`` only (:func:`perspective`): ``q f(e^r)`` where ``r = log p − log q ≤ 0``, else
``p f̃(e^{−r})`` with the reverse generator ``f̃(w) = w f(1/w)``, so nothing overflows in the
tails and they are integrated, not cut off.

χ²-type divergences (Pearson, Neyman, ``alpha:<α>``) contain ``∫ p^α q^{1−α}`` with
``α ∉ [0, 1]``, which can diverge: each tail of that integrand is ``exp(a x² + b x + …)``,
set by the widest component on that side, and :func:`is_finite` reads the answer off ``a``
and ``b``; :func:`divergence` then reports ``inf`` instead of integrating a divergent tail.

Example
-------
>>> from gankit.data.toy import parse_mixture
>>> p, q = parse_mixture("N(0,1)"), parse_mixture("N(1,1)")
>>> round(divergence("kl", p, q).value, 10)
0.5
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from typing import NamedTuple

import numpy as np
import torch
from scipy import integrate, optimize
from scipy.special import ndtr

from ..data.toy import Mixture1D
from .fdiv import FDivergence, divergence_names, get_divergence

__all__ = ["Quadrature", "MonteCarloEstimate", "perspective", "is_finite", "growth_exponents",
           "minibatch_variance_finite", "divergence", "monte_carlo_divergence", "divergence_table", "kl_gaussians",
           "hellinger_gaussians", "pearson_gaussians", "neyman_gaussians", "alpha_gaussians", "tv_gaussians_equal_std",
           "tv_mixtures"]


class Quadrature(NamedTuple):
    """A quadrature result: ``value`` (may be ``inf``) and QUADPACK's ``abs_error``."""

    value: float
    abs_error: float


class MonteCarloEstimate(NamedTuple):
    """A Monte Carlo mean: ``value``, its standard error ``stderr``, and the sample size ``n``."""

    value: float
    stderr: float
    n: int


def perspective(div: str | FDivergence, log_p: np.ndarray, log_q: np.ndarray) -> np.ndarray:
    """``q f(p/q)`` from log densities, without forming ``p/q``.

    Parameters
    ----------
    div : str or FDivergence
    log_p, log_q : ndarray, shape (n,)
        Log densities at the same points. ``perspective(div, r, 0)`` is ``f(e^r)``.

    Returns
    -------
    ndarray, shape (n,)
    """
    div = get_divergence(div)
    rev = get_divergence(div.reverse)
    lp, lq = np.broadcast_arrays(np.asarray(log_p, dtype=np.float64), np.asarray(log_q, dtype=np.float64))
    both_zero = np.isneginf(lp) & np.isneginf(lq)  # both densities vanish: no contribution
    lp = np.where(both_zero, 0.0, lp)
    lq = np.where(both_zero, 0.0, lq)
    r = lp - lq
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.where(r <= 0, div.weighted(lq, np.minimum(r, 0.0)), rev.weighted(lp, np.minimum(-r, 0.0)))
    return np.where(both_zero, 0.0, out)


def _tail(m: Mixture1D, side: int) -> tuple[float, float]:
    """(std, mean) of the component dominating the ``side`` (+1 / −1) tail."""
    key = [(s, side * mu) for s, mu in zip(m.stds, m.means, strict=True)]
    i = max(range(len(key)), key=key.__getitem__)
    return float(m.stds[i]), float(m.means[i])


def _side_finite(beta: float, side: int, p: Mixture1D, q: Mixture1D) -> bool:
    """Whether the ``side`` (+1 / −1) tail of ``∫ p^β q^{1−β}`` is finite (Gaussian mixtures)."""
    (sp, mp), (sq, mq) = _tail(p, side), _tail(q, side)
    # log(p^β q^{1−β}) = a x² + b x + const along the tail
    a = -beta / (2 * sp**2) - (1 - beta) / (2 * sq**2)
    b = beta * mp / sp**2 + (1 - beta) * mq / sq**2
    scale = abs(beta) / sp**2 + abs(1 - beta) / sq**2
    if a > 1e-12 * scale:
        return False
    return not (abs(a) <= 1e-12 * scale
                and side * b >= -1e-12 * (abs(beta * mp) / sp**2 + abs((1 - beta) * mq) / sq**2 + 1))


def is_finite(div: str | FDivergence, p: Mixture1D, q: Mixture1D) -> bool:
    """Whether ``D_f(P‖Q) < ∞`` for Gaussian mixtures (``∫ p^α q^{1−α}`` decided from both tails)."""
    div = get_divergence(div)
    return div.power is None or all(_side_finite(div.power, side, p, q) for side in (1, -1))


def _ratio_tail(side: int, p: Mixture1D, q: Mixture1D) -> int:
    """Where ``r = p/q`` goes along the ``side`` tail: +1 (→ ∞), −1 (→ 0) or 0 (stays bounded)."""
    (sp, mp), (sq, mq) = _tail(p, side), _tail(q, side)
    a = 1 / (2 * sq**2) - 1 / (2 * sp**2)  # log r = a x² + b x + …
    b = mp / sp**2 - mq / sq**2
    if abs(a) > 1e-12 * (1 / sq**2 + 1 / sp**2):
        return 1 if a > 0 else -1
    if abs(b) > 1e-12 * (abs(mp) / sp**2 + abs(mq) / sq**2 + 1):
        return 1 if side * b > 0 else -1
    return 0


def growth_exponents(div: str | FDivergence) -> dict[str, tuple[float, float]]:
    """Power-law growth of the optimal critic's two terms as ``u = p/q → ∞`` and ``u → 0``.

    Returns ``{"T": (k∞, k₀), "f*(T)": (k∞, k₀)}`` with ``|T*(u)| ~ u^k`` for ``T* = f'(u)``
    and ``|f*(T*)| = |u f'(u) − f(u)| ~ u^k``; ``k = 0`` where the term stays bounded or
    grows like a logarithm. Exact for the α family; for the other rows read off at
    ``u = e^{±10}, e^{±20}`` and rounded to the nearest ½.
    """
    div = get_divergence(div)
    if div.name.startswith("alpha:"):
        a = float(div.name.split(":", 1)[1])
        return {"T": (max(a - 1, 0.0), min(a - 1, 0.0)), "f*(T)": (max(a, 0.0), min(a, 0.0))}
    out: dict[str, tuple[float, float]] = {}
    for key, fn in (("T", lambda u: div.f_prime(u)), ("f*(T)", lambda u: u * div.f_prime(u) - div.f(u))):
        ks = []
        for side in (1, -1):
            s = torch.tensor([10.0, 20.0], dtype=torch.float64) * side
            with torch.no_grad():
                y = torch.log(torch.as_tensor(fn(torch.exp(s))).abs().double())
            if bool(torch.isposinf(y).any()):
                k = side * math.inf
            elif bool(torch.isneginf(y).any()):  # the term vanishes there: bounded
                k = 0.0
            else:
                k = round(2 * float((y[1] - y[0]) / (s[1] - s[0]))) / 2
            ks.append(max(k, 0.0) if side == 1 else min(k, 0.0))
        out[key] = (ks[0], ks[1])
    return out


def minibatch_variance_finite(div: str | FDivergence, p: Mixture1D, q: Mixture1D) -> dict[str, bool]:
    r"""Whether f-GAN's minibatch objective has finite variance at the optimal critic ``T* = f'(p/q)``.

    That needs ``E_P[T*²]`` and ``E_Q[f*(T*)²]`` finite. A term growing like ``u^k``
    (:func:`growth_exponents`) along a tail where ``p/q → ∞`` (``k > 0``) or ``→ 0`` (``k < 0``)
    gives ``∫ p^{1+2k} q^{−2k}`` or ``∫ p^{2k} q^{1−2k}`` there, decided like :func:`is_finite`.
    Where they are infinite no batch size makes the objective (or the generator's gradient)
    concentrate.

    Returns
    -------
    dict
        ``{"E_P[T*^2]": bool, "E_Q[f*(T*)^2]": bool}``.
    """
    g = growth_exponents(div)

    def finite(term: str, base: float, side: int) -> bool:
        regime = _ratio_tail(side, p, q)  # 0: p/q stays bounded along this tail
        k = 0.0 if regime == 0 else g[term][0 if regime > 0 else 1]
        return k == 0 or (not math.isinf(k) and _side_finite(base + 2 * k, side, p, q))

    return {key: all(finite(term, base, side) for side in (1, -1))
            for key, term, base in (("E_P[T*^2]", "T", 1.0), ("E_Q[f*(T*)^2]", "f*(T)", 0.0))}


def _breakpoints(p: Mixture1D, q: Mixture1D) -> np.ndarray:
    means = np.concatenate([p.means, q.means])
    stds = np.concatenate([p.stds, q.stds])
    return np.unique(np.concatenate([means, means - 3 * stds, means + 3 * stds]))


def integrate_line(fun: Callable[[float], float], points: np.ndarray, epsabs: float = 1e-13, epsrel: float = 1e-10) -> Quadrature:
    """``∫_ℝ fun`` by ``quad`` on ``(−∞, x₀], [x₀, x₁], …, [x_k, ∞)``; errors summed."""
    edges = [-math.inf, *sorted(float(x) for x in points), math.inf]
    total, err = 0.0, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)  # reflected in err
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            if hi > lo:
                v, e = integrate.quad(fun, lo, hi, epsabs=epsabs, epsrel=epsrel, limit=200)
                total, err = total + v, err + e
    return Quadrature(total, err)


def divergence(div: str | FDivergence, p: Mixture1D, q: Mixture1D,
               epsabs: float = 1e-13, epsrel: float = 1e-10) -> Quadrature:
    """Exact ``D_f(P‖Q) = ∫ q f(p/q)`` by quadrature over the whole line.

    Parameters
    ----------
    div : str or FDivergence
        A registered name (``"kl"``, ``"alpha:0.5"``) or a record.
    p, q : Mixture1D
    epsabs, epsrel : float
        Per-piece tolerances passed to ``scipy.integrate.quad``.

    Returns
    -------
    Quadrature
        ``(value, abs_error)``; ``(inf, 0.0)`` when :func:`is_finite` says it diverges.
    """
    div = get_divergence(div)
    if not is_finite(div, p, q):
        return Quadrature(math.inf, 0.0)

    def fun(x: float) -> float:
        x = np.array([x])
        return float(perspective(div, p.log_pdf(x), q.log_pdf(x))[0])

    return integrate_line(fun, _breakpoints(p, q), epsabs, epsrel)


def monte_carlo_divergence(div: str | FDivergence, p: Mixture1D, q: Mixture1D, n: int,
                           generator: torch.Generator | None = None) -> MonteCarloEstimate:
    """Monte Carlo ``D_f(P‖Q) ≈ (1/n) Σ f(p(xᵢ)/q(xᵢ))``, ``xᵢ ~ Q``, ratios in log space.

    Parameters
    ----------
    div : str or FDivergence
    p, q : Mixture1D
        Known log densities (``log_pdf``); only ``q`` is sampled.
    n : int
        Number of samples.
    generator : torch.Generator, optional
        Drives ``q.sample``; pass a seeded one for a repeatable estimate.

    Returns
    -------
    MonteCarloEstimate
        ``(value, stderr, n)`` with ``stderr = std(f)/√n``; ``(inf, inf, n)`` when the divergence
        is infinite (:func:`is_finite`), where a finite sample mean would be meaningless.
    """
    div = get_divergence(div)
    if not is_finite(div, p, q):
        return MonteCarloEstimate(math.inf, math.inf, n)
    x = q.sample(n, generator).double().numpy().reshape(-1)  # (n,)
    vals = perspective(div, p.log_pdf(x) - q.log_pdf(x), 0.0)  # f(p/q), (n,)
    return MonteCarloEstimate(float(vals.mean()), float(vals.std(ddof=1) / math.sqrt(n)), n)


def divergence_table(p: Mixture1D, q: Mixture1D, names: Iterable[str] | str | None = None) -> list[dict]:
    """``D_f(P‖Q)`` for several divergences, as rows for a table or JSON.

    Parameters
    ----------
    p, q : Mixture1D
    names : iterable of str, ``"all"`` or None
        Divergence names; None / ``"all"``: every registered one (families excluded).

    Returns
    -------
    list of dict
        ``{"name": str, "value": float, "abs_error": float}`` per name, in order; ``value`` is
        ``inf`` for an infinite divergence (not valid JSON: print it as the string ``"inf"``).
    """
    if names is None or names == "all":
        names = divergence_names()
    elif isinstance(names, str):
        names = [names]
    return [{"name": name, **divergence(name, p, q)._asdict()} for name in names]


# ------------------------------------------------------------------- Gaussian closed forms


def _power_integral(alpha: float, m1: float, s1: float, m2: float, s2: float) -> float:
    """``∫ N(m1, s1)^α N(m2, s2)^{1−α} dx`` (``inf`` when it diverges)."""
    v = alpha * s2**2 + (1 - alpha) * s1**2
    if v <= 0:
        return math.inf
    return (s1 ** (1 - alpha) * s2**alpha / math.sqrt(v)
            * math.exp(-alpha * (1 - alpha) * (m1 - m2) ** 2 / (2 * v)))


def kl_gaussians(m1: float, s1: float, m2: float, s2: float) -> float:
    """``KL(N(m1, s1²) ‖ N(m2, s2²)) = log(s2/s1) + (s1² + (m1 − m2)²)/(2 s2²) − ½``."""
    return math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5


def hellinger_gaussians(m1: float, s1: float, m2: float, s2: float) -> float:
    """``∫(√p − √q)² = 2 − 2 √(2 s1 s2/(s1² + s2²)) exp(−(m1 − m2)²/(4(s1² + s2²)))``."""
    return 2.0 - 2.0 * _power_integral(0.5, m1, s1, m2, s2)


def alpha_gaussians(alpha: float, m1: float, s1: float, m2: float, s2: float) -> float:
    """α-divergence ``(∫ p^α q^{1−α} − 1)/(α(α − 1))`` between two Gaussians (``inf`` if it diverges)."""
    return (_power_integral(alpha, m1, s1, m2, s2) - 1.0) / (alpha * (alpha - 1))


def pearson_gaussians(m1: float, s1: float, m2: float, s2: float) -> float:
    """Pearson ``χ²(P‖Q) = ∫ p²/q − 1``; finite iff ``2 s2² > s1²``, else ``inf``."""
    return _power_integral(2.0, m1, s1, m2, s2) - 1.0


def neyman_gaussians(m1: float, s1: float, m2: float, s2: float) -> float:
    """Neyman ``χ²(P‖Q) = ∫ q²/p − 1``; finite iff ``2 s1² > s2²``, else ``inf``."""
    return _power_integral(-1.0, m1, s1, m2, s2) - 1.0


def tv_gaussians_equal_std(m1: float, m2: float, s: float) -> float:
    """``½∫|p − q| = 2Φ(|m1 − m2|/(2s)) − 1`` for two Gaussians of equal std ``s``."""
    return float(2.0 * ndtr(abs(m1 - m2) / (2.0 * s)) - 1.0)


def tv_mixtures(p: Mixture1D, q: Mixture1D, grid: int = 4001) -> float:
    """``½∫|p − q|`` between 1-D mixtures, exactly, from the crossings of ``p`` and ``q`` and the CDFs.

    Roots of ``p − q`` are bracketed by sign changes on ``grid`` points and refined by Brent's
    method; between roots ``p − q`` keeps its sign, so ``½∫|p − q| = ½ Σ_k |ΔF(I_k)|`` with
    ``F = cdf_P − cdf_Q`` (no kinked integrand for QUADPACK). Two crossings closer than the
    grid spacing would be missed.
    """
    lo_p, hi_p = p.support(1 - 1e-15)
    lo_q, hi_q = q.support(1 - 1e-15)
    x = np.linspace(min(lo_p, lo_q), max(hi_p, hi_q), grid)
    d = p.pdf(x) - q.pdf(x)
    roots = []
    for i in np.flatnonzero(np.sign(d[:-1]) * np.sign(d[1:]) < 0):
        fun = lambda t: float(p.pdf(np.array([t]))[0] - q.pdf(np.array([t]))[0])  # noqa: E731
        roots.append(optimize.brentq(fun, x[i], x[i + 1], xtol=1e-14))
    roots += [float(x[i]) for i in np.flatnonzero(d[1:-1] == 0) + 1]  # exact zeros on the grid
    edges = np.array([-np.inf, *sorted(roots), np.inf])
    diff = p.cdf(edges) - q.cdf(edges)  # F at the edges (0 at ±inf)
    return float(0.5 * np.abs(np.diff(diff)).sum())
