r"""The exact side of the f-GAN fit, ``(μ*, σ*) = argmin D_f(P‖N(μ, σ²))``, and where games start."""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize

from ...data.toy import Mixture1D
from ...divergences.exact import is_finite, perspective, tv_mixtures
from ...divergences.fdiv import FDivergence, get_divergence

__all__ = ["gaussian", "mean_std", "grid_divergence", "exact_fit", "starts", "finite_starts"]


def gaussian(mu: float, sigma: float) -> Mixture1D:
    """``N(μ, σ²)`` as a one-component :class:`Mixture1D`."""
    return Mixture1D(np.ones(1), np.array([mu]), np.array([sigma]), name=f"N({mu:g},{sigma:g})")


def mean_std(p: Mixture1D) -> tuple[float, float]:
    """Mean and standard deviation of the mixture ``P``."""
    m = p.mean()
    return m, math.sqrt(float((p.weights * (p.stds**2 + p.means**2)).sum()) - m**2)


def grid_divergence(div: FDivergence, p: Mixture1D, mu: float, sigma: float, n: int = 2001) -> float:
    """``D_f(P‖N(μ, σ²))`` by the trapezoid rule on a grid covering both densities (``inf`` if infinite).

    The grid (``P``'s 1 − 1e-15 range joined with ``μ ± 9σ``, ``n`` points) widens at the same
    spacing (to at most 200,001 points) until the integrand at both ends is below 1e-14 of its
    peak: near the edge of the finite region (Pearson, Neyman, α-rows) it decays slowly, and a
    cut tail moves the optimum. Total variation is exact (:func:`gankit.divergences.tv_mixtures`).
    """
    q = gaussian(mu, sigma)
    if not is_finite(div, p, q):
        return math.inf
    if div.name == "total_variation":
        return tv_mixtures(p, q)
    lo_p, hi_p = p.support(1 - 1e-15)
    lo, hi = min(lo_p, mu - 9 * sigma), max(hi_p, mu + 9 * sigma)
    dx = (hi - lo) / (n - 1)

    def integrand(x: np.ndarray) -> np.ndarray:
        lq = -0.5 * ((x - mu) / sigma) ** 2 - math.log(sigma) - 0.5 * math.log(2 * math.pi)
        return perspective(div, p.log_pdf(x), lq)

    x = np.linspace(lo, hi, n)
    v = integrand(x)
    small = 1e-14 * float(np.max(np.abs(v)))
    if max(abs(v[0]), abs(v[-1])) > small:  # a heavy tail: widen (checking only the two ends), then integrate once
        while (hi - lo) * 1.5 / dx <= 200_000:
            half = 0.25 * (hi - lo)
            ends = integrand(np.array([lo - half, hi + half]))
            if not np.all(np.isfinite(ends)):  # e^(lp − lq) overflowed out there: keep the last finite range
                break
            lo, hi = lo - half, hi + half
            if float(np.max(np.abs(ends))) <= small:
                break
        x = np.linspace(lo, hi, int(round((hi - lo) / dx)) + 1)
        v = integrand(x)
    return float(np.trapezoid(v, x))


def exact_fit(div: str | FDivergence, p: Mixture1D, starts: int = 4, seed: int = 0) -> tuple[float, float, str]:
    """``(μ*, σ*, note)`` minimising ``D_f(P‖N(μ, σ²))`` (Nelder–Mead on ``(μ, log σ)``, several starts).

    Parameters
    ----------
    div : str or FDivergence
    p : Mixture1D
        The target ``P``.
    starts, seed : int
        Starts at the moments of ``P``, ``starts − 1`` random ones around them, one per component.

    Returns
    -------
    (μ*, σ*, note)
        ``note`` is empty, or says why the optimum is not an interior finite minimum
        (``μ* = σ* = nan`` when ``D_f`` is infinite for every start).
    """
    div = get_divergence(div)
    m, s = mean_std(p)
    rng = np.random.default_rng(seed)
    inits = [(m, math.log(s))] + [(m + s * rng.uniform(-1.5, 1.5), math.log(s * rng.uniform(0.3, 1.5)))
                                  for _ in range(starts - 1)]
    inits += [(float(mk), math.log(float(sk))) for mk, sk in zip(p.means, p.stds, strict=True)]  # each mode

    def fun(th: np.ndarray) -> float:
        return grid_divergence(div, p, th[0], math.exp(th[1]))

    fits = [optimize.minimize(fun, np.array(x0), method="Nelder-Mead",
                              options={"xatol": 1e-7, "fatol": 1e-12, "maxiter": 4000})
            for x0 in inits if math.isfinite(fun(x0))]
    if not fits:
        return math.nan, math.nan, "D_f(P‖Q) is infinite for every Gaussian tried"
    best = min(fits, key=lambda res: res.fun)
    mu, sigma = float(best.x[0]), float(math.exp(best.x[1]))
    # near the edge of the finite region the minimiser may be degenerate
    edge = div.power is not None and not all(is_finite(div, p, gaussian(mu, sigma * f)) for f in (0.98, 1.02))
    return mu, sigma, "optimum at the edge of the region where D_f is finite" if edge else ""


def starts(p: Mixture1D, most: int = 4) -> list[tuple[float, float]]:
    """Where games start: off target ``(m − s/2, s/2)`` (``m, s``: moments of ``P``), then on each
    of the ``most`` heaviest components (a one-component ``P``: the off-target start only)."""
    m, s = mean_std(p)
    out = [(m - 0.5 * s, 0.5 * s)]
    if len(p.weights) > 1:
        order = np.argsort(-p.weights, kind="stable")[:most]
        out += [(float(p.means[k]), float(p.stds[k])) for k in order]
    return out


def finite_starts(div: str | FDivergence, p: Mixture1D, inits: list[tuple[float, float]],
                  margin: float = 1.25) -> list[tuple[float, float]]:
    """The starts ``(μ₀, σ₀)`` where ``D_f(P‖N(μ₀, σ²))`` is finite for every ``σ ∈ [σ₀/margin, σ₀·margin]``.

    The χ² rows start only there: a game started next to the edge of the finite region has
    log-ratios of 100 or more to learn, its critic lags and drags the generator away. If no
    start qualifies, all are kept.
    """
    div = get_divergence(div)
    ok = [(m0, s0) for m0, s0 in inits
          if all(is_finite(div, p, gaussian(m0, s0 * c)) for c in (1 / margin, margin))]
    return ok or list(inits)
