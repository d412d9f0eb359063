r"""The optimal discriminator, checked numerically (Goodfellow et al. 2014, Proposition 1 and Theorem 1).

For a fixed ``p_g`` the discriminator maximising ``V(G, D) = E_{p_d}[log D] + E_{p_g}[log(1 − D)]``
is ``D* = p_d/(p_d + p_g)``, and ``V(G, D*) = 2·JSD(p_d‖p_g) − log 4``.
:func:`optimal_discriminator` trains an MLP ``D`` against a fixed 1-D ``p_g`` (on exact grid
expectations, or on minibatches) and reports ``|D − D*|`` on the interval holding 99 % of the
mass, and ``V(G, D)`` by quadrature beside ``2·JSD − log 4`` (JSD by QUADPACK).

>>> r = optimal_discriminator(steps=300)          # doctest: +SKIP
>>> r.max_abs_error < 0.1                          # doctest: +SKIP
True
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from scipy import optimize
from torch import nn
from tqdm.auto import tqdm

from ..data.toy import Mixture1D, parse_mixture
from ..divergences.exact import divergence
from ..errors import GankitError
from ..report.plots import new_figure, save_figure
from ._nets import StandardisedMLP

__all__ = ["OptimalDResult", "optimal_discriminator", "plot_optimal_d", "mass_interval", "DEFAULT_DATA", "DEFAULT_GEN"]

#: default pair: a bimodal data density against a wide single Gaussian generator
DEFAULT_DATA = "0.5*N(-1.5,0.6) + 0.5*N(1.5,0.8)"
DEFAULT_GEN = "N(0,1.5)"
LOG4 = math.log(4.0)


@dataclass
class OptimalDResult:
    """What :func:`optimal_discriminator` measured (numbers in ``float``; arrays for the plot)."""
    data: str
    gen: str
    method: str
    steps: int
    region: tuple[float, float]
    max_abs_error: float
    mean_abs_error: float
    value: float
    value_star: float
    jsd: float
    seconds: float
    x: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    d: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    d_star: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))

    @property
    def value_error(self) -> float:
        """``|V(G, D) − (2·JSD − log 4)|``."""
        return abs(self.value - self.value_star)

    def to_dict(self) -> dict[str, Any]:
        return {"data": self.data, "gen": self.gen, "method": self.method, "steps": self.steps,
                "region": list(self.region), "max_abs_error": self.max_abs_error,
                "mean_abs_error": self.mean_abs_error, "value": self.value, "value_star": self.value_star,
                "value_error": self.value_error, "jsd": self.jsd, "seconds": self.seconds}


def mass_interval(p: Mixture1D, q: Mixture1D, mass: float = 0.99) -> tuple[float, float]:
    """The central interval holding ``mass`` of ``(p + q)/2`` (equal tails cut on each side)."""
    cut = (1.0 - mass) / 2.0
    lo_b, hi_b = min(p.support()[0], q.support()[0]), max(p.support()[1], q.support()[1])

    def cdf(x: float) -> float:
        return 0.5 * float(p.cdf(np.array([x]))[0] + q.cdf(np.array([x]))[0])

    lo = optimize.brentq(lambda x: cdf(x) - cut, lo_b, hi_b, xtol=1e-12)
    hi = optimize.brentq(lambda x: cdf(x) - (1.0 - cut), lo_b, hi_b, xtol=1e-12)
    return float(lo), float(hi)


def _parse(spec: str | Mixture1D, what: str) -> Mixture1D:
    if isinstance(spec, Mixture1D):
        return spec
    try:
        return parse_mixture(spec)
    except GankitError as exc:
        raise GankitError(f"{what}: {exc}") from None


def _train_discriminator(p: Mixture1D, q: Mixture1D, method: str, steps: int, width: int, depth: int, lr: float,
                         batch_size: int, grid_points: int, seed: int, progress: bool | None = None) -> nn.Module:
    """D (logits, float64) trained by Adam on GAN's discriminator loss with G fixed (``optimal_discriminator``)."""
    torch.manual_seed(seed)
    gen_rng = torch.Generator().manual_seed(seed)
    mix_mean = 0.5 * (p.mean() + q.mean())
    second = 0.5 * sum(float((m.weights * (m.stds**2 + m.means**2)).sum()) for m in (p, q))
    D = StandardisedMLP(mix_mean, math.sqrt(max(second - mix_mean**2, 1e-12)), width, depth).double()
    opt = torch.optim.Adam(D.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=lr / 100)
    # the training grid covers all but ~1e-9 of both densities
    lo = min(p.support(1 - 1e-9)[0], q.support(1 - 1e-9)[0])
    hi = max(p.support(1 - 1e-9)[1], q.support(1 - 1e-9)[1])
    xg = np.linspace(lo, hi, grid_points)
    wg = np.full(grid_points, (hi - lo) / (grid_points - 1))
    wg[[0, -1]] /= 2  # trapezoid weights
    x_t = torch.tensor(xg)
    w_pd, w_pg = (torch.tensor(wg * m.pdf(xg)) for m in (p, q))  # (grid,)
    for _ in tqdm(range(steps), desc="optimal D", unit="step", leave=False, file=sys.stderr,
                  disable=None if progress is None else not progress):
        if method == "grid":
            logit = D(x_t)
            loss = (w_pd * F.softplus(-logit)).sum() + (w_pg * F.softplus(logit)).sum()  # −V
        else:
            real = p.sample(batch_size, gen_rng).double().reshape(-1)
            fake = q.sample(batch_size, gen_rng).double().reshape(-1)
            loss = F.softplus(-D(real)).mean() + F.softplus(D(fake)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return D


def _gan_value(D: nn.Module, p: Mixture1D, q: Mixture1D) -> float:
    """``V(G, D) = ∫ p_d log D + p_g log(1 − D)`` by the trapezoid rule on a fine grid over the whole mass."""
    xv = np.linspace(min(p.support()[0], q.support()[0]), max(p.support()[1], q.support()[1]), 40001)
    with torch.no_grad():
        logit = D(torch.tensor(xv))
        integrand = (torch.tensor(p.pdf(xv)) * -F.softplus(-logit) + torch.tensor(q.pdf(xv)) * -F.softplus(logit)).numpy()
    return float(np.trapezoid(integrand, xv))


def optimal_discriminator(data: str | Mixture1D = DEFAULT_DATA, gen: str | Mixture1D = DEFAULT_GEN, *,
                          method: str = "grid", steps: int = 1000, width: int = 64, depth: int = 2,
                          lr: float = 1e-2, batch_size: int = 4096, grid_points: int = 1024,
                          seed: int = 0, progress: bool | None = False) -> OptimalDResult:
    """Train D with G fixed and compare it with ``D* = p_d/(p_d + p_g)``.

    Parameters
    ----------
    data, gen : str or Mixture1D
        ``p_d`` and ``p_g`` as 1-D mixture specs (``"0.5*N(-1.5,0.6) + 0.5*N(1.5,0.8)"``).
    method : {"grid", "samples"}
        Exact expectations on a trapezoid grid of ``grid_points``, or minibatches of ``batch_size``.
    steps, lr : int, float
        Adam steps; the learning rate decays from ``lr`` to ``lr/100`` (cosine).
    width, depth : int
        The discriminator MLP (tanh hidden layers) on standardised inputs.
    seed : int
    progress : bool or None
        A bar on stderr over the steps (None: where stderr is a terminal).

    Returns
    -------
    OptimalDResult
    """
    p, q = _parse(data, "--data"), _parse(gen, "--gen")
    if method not in ("grid", "samples"):
        raise GankitError(f"method must be grid or samples; got {method!r}")
    for name, v in (("steps", steps), ("width", width), ("depth", depth), ("batch_size", batch_size),
                    ("grid_points", grid_points)):
        if not isinstance(v, int) or v < 1:
            raise GankitError(f"{name} must be a positive integer, got {v!r}")
    t0 = time.perf_counter()
    D = _train_discriminator(p, q, method, steps, width, depth, lr, batch_size, grid_points, seed, progress)
    seconds = time.perf_counter() - t0

    region = mass_interval(p, q, 0.99)
    x = np.linspace(region[0], region[1], 2001)
    with torch.no_grad():
        d = torch.sigmoid(D(torch.tensor(x))).numpy()
    lp, lq = p.log_pdf(x), q.log_pdf(x)
    d_star = 1.0 / (1.0 + np.exp(lq - lp))  # p_d/(p_d + p_g), stable
    err = np.abs(d - d_star)

    value = _gan_value(D, p, q)
    jsd = divergence("js", p, q).value
    return OptimalDResult(p.spec(), q.spec(), method, steps, region, float(err.max()), float(err.mean()),
                          value, 2.0 * jsd - LOG4, jsd, round(seconds, 3), x, d, d_star)


def plot_optimal_d(result: OptimalDResult, p: Mixture1D, q: Mixture1D, path: str | Path | None = None) -> Figure:
    """Densities, trained D and D* on one picture; written to ``path`` if given."""
    fig = new_figure((7, 4.2))
    ax = fig.subplots()
    x = result.x
    ax.plot(x, p.pdf(x), "k", lw=1.5, label="p_data")
    ax.plot(x, q.pdf(x), "C1", lw=1.5, label="p_g (fixed)")
    ax.set_ylabel("density")
    ax2 = ax.twinx()
    ax2.plot(x, result.d_star, "C0", lw=3, alpha=0.5, label="D* = p_d/(p_d+p_g)")
    ax2.plot(x, result.d, "C3--", lw=1.5, label="trained D")
    ax2.set_ylim(-0.02, 1.02)
    ax2.set_ylabel("D(x)")
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax2.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=8, loc="upper left")
    ax.set_title(f"max|D−D*| = {result.max_abs_error:.4f}; V = {result.value:.4f}, "
                 f"2·JSD − log 4 = {result.value_star:.4f}", fontsize=9)
    return save_figure(fig, path, dpi=110)
