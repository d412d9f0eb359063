r"""Fenchel duality, checked numerically: ``f** = f`` for every f-divergence (Fenchel–Moreau).

.. math::  f^{**}(u) = \sup_{t ∈ \operatorname{dom} f^*} \big(u t − f^*(t)\big) = f(u).

:func:`check_biconjugate` computes the supremum from the record's ``conjugate`` alone (never
``f_prime``) and reports the largest error against ``f`` on a grid of ``u``.

>>> check_biconjugate("kl").max_abs_error < 1e-8
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from scipy import optimize

from ..divergences.fdiv import FDivergence, get_divergence
from ..report.plots import new_figure, save_figure

__all__ = ["ConjugateCheck", "biconjugate", "check_biconjugate", "plot_conjugate"]

T_LIMIT = 1e4  # |t| searched over when dom f* is unbounded on that side


@dataclass
class ConjugateCheck:
    """``f**`` against ``f`` on a grid of ``u``."""
    name: str
    formula: str
    domain: str
    u_range: tuple[float, float]
    max_abs_error: float
    u: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    f: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    f_bi: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "formula": self.formula, "domain": self.domain, "u_range": list(self.u_range),
                "n_points": int(len(self.u)), "max_abs_error": self.max_abs_error}


def _t_grid(div: FDivergence) -> np.ndarray:
    """Points of ``dom f*``, dense near its ends (geometric spacing up to ``T_LIMIT``)."""
    lo, hi = max(div.domain.lo, -T_LIMIT), min(div.domain.hi, T_LIMIT)
    mid = 0.0 if lo < 0.0 < hi else 0.5 * (lo + hi)
    steps = np.geomspace(1e-9, 1.0, 400)
    left = lo + (mid - lo) * steps  # dense near lo
    right = hi - (hi - mid) * steps  # dense near hi
    # plus steps of 1/200 on [-10, 10]: a kink of f* at a simple number (total variation's max(t, −½)) is a grid point
    near = np.linspace(-10.0, 10.0, 4001)
    t = np.unique(np.concatenate([left, right, [mid], np.linspace(lo, hi, 2001), near[(near >= lo) & (near <= hi)]]))
    return t[div.domain.contains(t) & np.isfinite(div.conjugate(t))]


def biconjugate(div: str | FDivergence, u: np.ndarray) -> np.ndarray:
    """``f**(u) = sup_t (u t − f*(t))``, numerically, from ``f*`` alone.

    A dense grid over ``dom f*`` brackets each supremum (``u t − f*(t)`` is concave in ``t``);
    bounded Brent (:func:`scipy.optimize.minimize_scalar`) refines it, unless the grid's best
    value is higher (a supremum at an end of ``dom f*``).

    Parameters
    ----------
    div : str or FDivergence
    u : ndarray, shape (n,)

    Returns
    -------
    ndarray, shape (n,)
    """
    div = get_divergence(div)
    t = _t_grid(div)
    ft = np.asarray(div.conjugate(t), dtype=np.float64)
    u = np.asarray(u, dtype=np.float64)
    vals = u[:, None] * t[None, :] - ft[None, :]  # (n_u, n_t)
    i = np.argmax(vals, axis=1)
    best = vals[np.arange(len(u)), i]
    lo, hi = t[np.maximum(i - 1, 0)], t[np.minimum(i + 1, len(t) - 1)]

    def refined(uk: float, a: float, b: float) -> float:
        res = optimize.minimize_scalar(lambda s: float(div.conjugate(np.float64(s))) - uk * s, bounds=(a, b),
                                       method="bounded", options={"xatol": 1e-12, "maxiter": 500})
        return -float(res.fun)

    return np.maximum(best, [refined(uk, a, b) for uk, a, b in zip(u, lo, hi, strict=True)])


def check_biconjugate(name: str | FDivergence, u_min: float = 0.1, u_max: float = 5.0,
                      n: int = 200) -> ConjugateCheck:
    """Max ``|f**(u) − f(u)|`` over ``n`` points of ``[u_min, u_max]``.

    Parameters
    ----------
    name : str or FDivergence
        ``"kl"``, ``"alpha:0.5"``, ...
    u_min, u_max : float
        The ``u`` interval (``u = p/q``; ``u_min > 0`` because ``f(0)`` may be infinite
        and its supremum is then not attained).
    n : int
    """
    div = get_divergence(name)
    u = np.linspace(u_min, u_max, n)
    f = np.asarray(div.f(u), dtype=np.float64)
    f_bi = biconjugate(div, u)
    err = float(np.max(np.abs(f_bi - f)))
    return ConjugateCheck(div.name, div.formula, str(div.domain), (u_min, u_max), err, u, f, f_bi)


def _plot_t(div: FDivergence, reach: float = 6.0) -> np.ndarray:
    """Points of ``dom f* ∩ [-reach, reach]`` where ``f*`` is finite, dense near finite ends (for the picture)."""
    lo, hi = max(div.domain.lo, -reach), min(div.domain.hi, reach)
    near = (hi - lo) * np.geomspace(1e-6, 1e-2, 60)
    t = np.unique(np.concatenate([np.linspace(lo, hi, 801), lo + near, hi - near]))
    with np.errstate(all="ignore"):
        keep = div.domain.contains(t) & np.isfinite(div.conjugate(t))
    return t[keep]


def plot_conjugate(check: ConjugateCheck, path: str | Path | None = None) -> Figure:
    """Left: ``f`` and the numeric ``f**``; right: ``f*`` on ``dom f* ∩ [-6, 6]``. Written to ``path`` if given."""
    div = get_divergence(check.name)
    fig = new_figure((9, 3.6))
    a1, a2 = fig.subplots(1, 2)
    a1.plot(check.u, check.f, "k", lw=2, label="f(u)")
    a1.plot(check.u[::8], check.f_bi[::8], "C3o", ms=4, label="f**(u), numeric")
    a1.set_xlabel("u = p/q")
    a1.set_title(f"{check.name}: f(u) = {check.formula}", fontsize=9)
    a1.legend(fontsize=8)
    t = _plot_t(div)
    a2.plot(t, div.conjugate(t), "C0", lw=2, label="f*(t)")
    a2.set_xlabel(f"t ∈ dom f* = {check.domain}")
    a2.set_title(f"max |f** − f| = {check.max_abs_error:.2e}", fontsize=9)
    a2.legend(fontsize=8)
    for ax in (a1, a2):
        ax.grid(alpha=0.3)
    if not math.isfinite(check.max_abs_error):
        a2.set_title("f** differs from f", fontsize=9)
    return save_figure(fig, path, dpi=110)
