"""The section-4 table: per divergence, the exact optimum beside f-GAN's learned Gaussian."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ...data.toy import Mixture1D, parse_mixture
from ...divergences.exact import divergence, minibatch_variance_finite
from ...divergences.fdiv import divergence_names, get_divergence
from ...report.plots import new_figure, save_figure
from .exact import exact_fit, gaussian
from .fit import fgan_fit

__all__ = ["DEFAULT_TARGET", "FitRow", "fit_table", "plot_fits"]

#: the default target: the ``mixture1d`` data source
DEFAULT_TARGET = "0.3*N(-2,0.5) + 0.7*N(1,1)"


@dataclass
class FitRow:
    """One row of the table: exact optimum vs f-GAN's learned Gaussian."""
    divergence: str
    d_f_star: float  # D_f(P‖Q*) by QUADPACK
    d_f_learned: float  # D_f(P‖Q_{μ̂,σ̂}) by QUADPACK
    bound: float  # F(ω̂, θ̂) by quadrature
    mu_star: float
    mu: float
    sigma_star: float
    sigma: float
    seconds: float
    note: str = ""

    @property
    def error(self) -> float:
        """``max(|μ̂ − μ*|, |σ̂ − σ*|)``."""
        return max(abs(self.mu - self.mu_star), abs(self.sigma - self.sigma_star))

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "error": self.error}


def fit_table(target: str | Mixture1D = DEFAULT_TARGET, names: str | list[str] = "all", tolerance: float = 0.05,
              **train: Any) -> list[FitRow]:
    """The section-4 table for ``target``: one :class:`FitRow` per divergence.

    Parameters
    ----------
    target : str or Mixture1D
        ``P``, a 1-D mixture spec.
    names : ``"all"``, a name, or a list of names
        Divergences (``"all"``: every registered one; families such as ``alpha:0.5`` by name).
    tolerance : float
        A row whose ``max(|μ̂ − μ*|, |σ̂ − σ*|)`` exceeds it is flagged in ``note``; so is a row
        whose minibatch ``E_P[T*²]`` or ``E_Q[f*(T*)²]`` is infinite at ``(μ*, σ*)``.
    **train
        Passed to :func:`~gankit.theory.fgan_fit.fgan_fit` (``steps``, ``seed``, ...).
    """
    p = target if isinstance(target, Mixture1D) else parse_mixture(target)
    if names == "all":
        names = divergence_names()
    elif isinstance(names, str):
        names = [names]
    divs = [get_divergence(n) for n in names]  # validate every name before any work
    rows = []
    for div in divs:
        t0 = time.perf_counter()
        mu_s, sigma_s, note = exact_fit(div, p)
        if not math.isfinite(mu_s):
            rows.append(FitRow(div.name, math.inf, math.nan, math.nan, math.nan, math.nan, math.nan, math.nan,
                               round(time.perf_counter() - t0, 2), note))
            continue
        mu, sigma, bound = fgan_fit(div, p, **train)
        notes = [note] if note else []
        infinite = [k for k, ok in minibatch_variance_finite(div, p, gaussian(mu_s, sigma_s)).items() if not ok]
        if infinite:
            notes.append(f"at the optimum the minibatch {' and '.join(infinite)} = inf")
        d_star = divergence(div, p, gaussian(mu_s, sigma_s)).value
        d_learned = divergence(div, p, gaussian(mu, sigma)).value
        if not math.isfinite(d_learned):
            notes.append("D_f is infinite at the learned Gaussian")
        if not max(abs(mu - mu_s), abs(sigma - sigma_s)) <= tolerance:
            notes.append(f"NOT converged: learned (mu, sigma) off by more than {tolerance:g}")
        rows.append(FitRow(div.name, d_star, d_learned, bound, mu_s, mu, sigma_s, sigma,
                           round(time.perf_counter() - t0, 2), "; ".join(notes)))
    return rows


def plot_fits(p: Mixture1D, rows: list[FitRow], path: str | Path | None = None) -> Figure:
    """The target density with each divergence's exact (solid) and learned (dashed) Gaussian; to ``path`` if given."""
    lo, hi = p.support(1 - 1e-4)
    pad = 0.25 * (hi - lo)
    x = np.linspace(lo - pad, hi + pad, 800)
    fig = new_figure((8, 4.5))
    ax = fig.subplots()
    ax.fill_between(x, p.pdf(x), color="0.85", label="target P")
    for i, r in enumerate(rows):
        if not (math.isfinite(r.mu) and math.isfinite(r.mu_star)):
            continue
        c = f"C{i % 10}"
        ax.plot(x, gaussian(r.mu_star, r.sigma_star).pdf(x), c, lw=1.5, label=f"{r.divergence}: exact")
        ax.plot(x, gaussian(r.mu, r.sigma).pdf(x), c, lw=1.5, ls="--")
    ax.set_title("Gaussian fits minimising D_f(P‖Q): exact (solid) vs f-GAN (dashed)", fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    return save_figure(fig, path, dpi=110)
