r"""f-GAN, section 4: fit a single Gaussian to a 1-D mixture with every f-divergence.

Nowozin, Cseke & Tomioka (2016) fit ``Q_θ = N(μ, σ²)`` to a mixture ``P`` by f-GAN
training and compare the learned ``(μ̂, σ̂)`` with the best fit ``(μ*, σ*)`` found by
minimising the exact divergence directly. Both sides here measure the **same direction
with the same f**: ``D_f(P‖Q) = ∫ q f(p/q)`` with ``P`` = data (the target) and ``Q`` =
the model. So ``kl`` is the mass-covering ``KL(P‖Q)`` (moment matching) and
``reverse_kl`` the mode-seeking ``KL(Q‖P)``.

* **Exact optimum**: ``(μ*, σ*) = argmin D_f(P‖N(μ, σ²))`` by Nelder–Mead on
  ``(μ, log σ)`` from several starts; the objective is the integral on a fine grid
  (trapezoid, 2,001 points covering both densities; for total variation, whose integrand
  ``½|p − q|`` has kinks, exactly from the crossings of ``p`` and ``q`` and the CDFs,
  :func:`gankit.divergences.tv_mixtures`) and the reported ``D_f`` at the optimum is
  recomputed by QUADPACK (:func:`gankit.divergences.divergence`).
* **f-GAN training**: the generator is ``x = μ + σ z`` with ``σ = softplus(s)``; the
  discriminator ``V_ω`` an MLP (tanh) on standardised inputs; both play the saddle-point
  game of f-GAN eq. (6), ``min_θ max_ω F(θ, ω) = E_P[g_f(V)] − E_{Q_θ}[f*(g_f(V))]``: the
  discriminator minimises :func:`~gankit.objectives.fgan_discriminator_loss`, the
  generator the *saturating* :func:`~gankit.objectives.fgan_generator_loss` (its fixed
  point is ``argmin D_f`` even when ``Q`` cannot equal ``P``, which the non-saturating
  loss does not guarantee). ``d_steps`` discriminator steps per generator step, batches
  of ``batch_size``, Adam with cosine-decayed learning rates, and ``(μ̂, σ̂)`` are Polyak
  averages over the last ``average`` fraction of training.
* **Critic heads** (:data:`HEADS`, :mod:`gankit.theory._nets`): the objective of every row
  is f-GAN's, with the paper's ``g_f`` and ``f*``; only the critic ``V_ω`` differs where a
  plain tanh MLP cannot follow ``T* = f'(p/q)``: total variation ``V = 3·sin(u)`` (bounded,
  never saturating; best response ``½·tanh(3)·sign(p − q)``, same minimiser), Jeffrey
  ``V = a − exp(b)`` with quadratic skips. Pearson and Neyman χ² (grid game): a log-ratio
  ``u = β·φ(x)`` linear in ``β`` (quadratic + 80 Gaussian bumps over the grid; Pearson
  ``V = 2(e^u − 1)``, Neyman ``V = u``), each critic step up to 5 safeguarded Gauss–Newton
  steps on the same ``F`` (:mod:`gankit.theory._newton`), a critic refitted from scratch
  every 50 generator steps replacing it when its ``F`` is higher, starts only where
  ``D_χ²`` is finite (:func:`finite_starts`). With Adam on MLPs these two rows missed the
  optimum by 0.083 / 0.41 where it lies near the edge of the finite region (docs/theory.md).
* **Several starts** (:func:`fgan_fit`): one game from the off-target start and one from
  each of the heaviest components of ``P``; after ``explore`` steps the game with the
  lowest bound is played to the end (mode-seeking rows have one local optimum per mode).
* ``bound`` is ``F`` at the end of training, by quadrature with the trained ``V`` and
  ``Q_{μ̂,σ̂}``; it is a lower bound on ``D_f(P‖Q_{μ̂,σ̂})``.

Rows where a minibatch cannot estimate the game at the optimum say so in ``note``:
:func:`gankit.divergences.minibatch_variance_finite` decides from the tails whether
``E_P[T*²]`` and ``E_Q[f*(T*)²]`` are finite at ``(μ*, σ*)``; where they are not, the paper's
minibatch estimate of ``F`` and of the generator's gradient near the optimum is carried by rare
samples (``expectation="samples"``). The grid game has no sampling noise.

Rows whose divergence is infinite for Gaussians wide enough to matter (Pearson, Neyman,
α-rows with a heavy tail ratio) are flagged, never forced into agreement: when the exact
minimiser sits on the edge of the finite region the row says so in ``note``.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from scipy import optimize
from torch import nn

from ..data.toy import Mixture1D, parse_mixture
from ..divergences.exact import divergence, is_finite, minibatch_variance_finite, perspective, tv_mixtures
from ..divergences.fdiv import FDivergence, divergence_names, get_divergence
from ..errors import GankitError
from ..objectives.fgan import fgan_discriminator_loss, fgan_generator_loss
from ._nets import BASIS_HEADS, CRITIC_HEADS, make_critic
from ._newton import grid_objective, maximise

__all__ = ["FitRow", "exact_fit", "fgan_fit", "train_gaussian", "starts", "fit_table", "plot_fits", "DEFAULT_TARGET", "gaussian", "HEADS",
           "SAMPLE_HEADS", "critic_head", "finite_starts"]

#: the default target: the ``mixture1d`` data source
DEFAULT_TARGET = "0.3*N(-2,0.5) + 0.7*N(1,1)"

#: the critic's output head where the plain MLP cannot follow ``T* = f'(p/q)`` (see
#: :mod:`gankit.theory._nets`); every other divergence uses ``"plain"``. Total variation:
#: ``T* = ½·sign(p − q)`` sits at ``V = ±∞`` (tanh saturates); Jeffrey: ``T* ≈ −q/p`` under
#: the identity activation. Pearson and Neyman χ² (session 7): a log-ratio critic linear in
#: its parameters, trained by Gauss–Newton (:mod:`gankit.theory._newton`) — with Adam on an
#: MLP the critic never reached ``T*`` in the tails that hold the generator back from the
#: edge of the region where ``D_χ²`` is finite (Neyman missed target 3 by 0.083, Pearson
#: target 7 by 0.41). The basis heads need the grid game; with ``expectation="samples"``
#: the χ² rows use :data:`SAMPLE_HEADS`.
HEADS = {"total_variation": "sine", "jeffrey": "exp", "neyman": "basis", "pearson": "basis-ratio"}

#: the heads with ``expectation="samples"`` (minibatches): MLPs trained by Adam
SAMPLE_HEADS = {"total_variation": "sine", "jeffrey": "exp", "neyman": "quadratic"}

#: per-divergence training defaults that differ from :func:`fgan_fit`'s. Jeffrey plays one
#: game from the off-target start: it contains the mass-covering KL(P‖Q), and exact_fit
#: from 6–7 starts finds one optimum on every benchmark target, while its games from the
#: components' starts end with a lagging critic (error 0.06–0.25 on targets 2–4 of
#: benchmarks/fgan_fit_targets.py). Its outcome is sensitive to the critic's lr: 1e-2 is
#: within 0.05 on targets 1–7 and misses the default target by 0.0003 (0.0503); 3e-2
#: gives 0.0003 there but misses targets 2–4 (docs/theory.md). With lr 1e-2 and 2,500
#: instead of 1,500 steps every target is within 0.05 (default target 0.044, the others
#: ≤ 0.019; 4,000 steps: 0.040): its critic lags a moving generator, and the longer cosine
#: schedule spends more steps at small learning rates.
OVERRIDES: dict[str, dict[str, Any]] = {"jeffrey": {"explore": 0, "steps": 2500}}


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


def gaussian(mu: float, sigma: float) -> Mixture1D:
    """``N(μ, σ²)`` as a one-component :class:`Mixture1D`."""
    return Mixture1D(np.ones(1), np.array([mu]), np.array([sigma]), name=f"N({mu:g},{sigma:g})")


def _grid_divergence(div: FDivergence, p: Mixture1D, mu: float, sigma: float, n: int = 2001) -> float:
    """``D_f(P‖N(μ, σ²))`` by the trapezoid rule on a grid covering both densities (``inf`` if infinite).

    The grid starts at ``P``'s 1 − 1e-15 range joined with ``μ ± 9σ`` (``n`` points) and is widened
    by half, at the same spacing (at most 200,001 points, and only while the integrand is finite
    there), until the integrand ``q·f(p/q)`` at both ends is below 1e-14 of its largest value:
    near the edge of the region where ``D_f`` is finite
    (Pearson, Neyman, α-rows) it decays like ``exp(−c x²)`` with a small ``c``, and a fixed ±9σ
    grid cut off enough of it to move the optimum (Neyman on ``0.2*N(-3,0.4) + 0.5*N(0,0.7) +
    0.3*N(2.5,0.5)``: σ* 0.939 instead of 0.931; QUADPACK confirms the lower divergence at 0.931).
    """
    q = gaussian(mu, sigma)
    if not is_finite(div, p, q):
        return math.inf
    if div.name == "total_variation":  # |p − q| has kinks: integrate between its crossings exactly
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

    ``note`` is empty, or says why the optimum is not an interior finite minimum.
    """
    div = get_divergence(div)
    m, s = p.mean(), math.sqrt(float((p.weights * (p.stds**2 + p.means**2)).sum()) - p.mean() ** 2)
    rng = np.random.default_rng(seed)
    inits = [(m, math.log(s))] + [(m + s * rng.uniform(-1.5, 1.5), math.log(s * rng.uniform(0.3, 1.5)))
                                  for _ in range(starts - 1)]
    inits += [(float(mk), math.log(float(sk))) for mk, sk in zip(p.means, p.stds, strict=True)]  # each mode
    best = None
    for x0 in inits:
        fun = lambda th: _grid_divergence(div, p, th[0], math.exp(th[1]))  # noqa: E731
        if not math.isfinite(fun(x0)):
            continue
        res = optimize.minimize(fun, np.array(x0), method="Nelder-Mead",
                                options={"xatol": 1e-7, "fatol": 1e-12, "maxiter": 4000})
        if best is None or res.fun < best.fun:
            best = res
    if best is None:
        return math.nan, math.nan, "D_f(P‖Q) is infinite for every Gaussian tried"
    mu, sigma = float(best.x[0]), float(math.exp(best.x[1]))
    note = ""
    if div.power is not None:  # near the edge of the finite region the minimiser may be degenerate
        for f in (0.98, 1.02):
            if not is_finite(div, p, gaussian(mu, sigma * f)):
                note = "optimum at the edge of the region where D_f is finite"
    return mu, sigma, note


def _softplus_inv(y: float) -> float:
    return y + math.log(-math.expm1(-y))


def starts(p: Mixture1D, most: int = 4) -> list[tuple[float, float]]:
    """Where the generator starts: off target, then on each of the ``most`` heaviest components.

    The first start is deliberately off target, ``μ = m − s/2``, ``σ = s/2`` (``m, s``: mean
    and standard deviation of ``P``); a one-component ``P`` gets only that one.
    """
    m = p.mean()
    s = math.sqrt(float((p.weights * (p.stds**2 + p.means**2)).sum()) - m**2)
    out = [(m - 0.5 * s, 0.5 * s)]
    if len(p.weights) > 1:
        order = np.argsort(-p.weights, kind="stable")[:most]
        out += [(float(p.means[k]), float(p.stds[k])) for k in order]
    return out


def fgan_fit(div: str | FDivergence, p: Mixture1D, *, steps: int | None = None, explore: int | None = None,
             seed: int = 0, **train: Any) -> tuple[float, float, float]:
    """f-GAN fit of ``N(μ, σ²)`` to ``P`` from several starts; returns ``(μ̂, σ̂, bound)``.

    Mode-seeking divergences (reverse KL, Neyman χ², squared Hellinger on well separated
    modes, ...) have one local minimum per mode of a multimodal ``P``, and a gradient method
    finds the basin it starts in. So, like :func:`exact_fit`, one f-GAN game is started
    from every start of :func:`starts` and played for its first ``explore`` generator
    steps and 200 critic-only steps; the game whose **bound** there is lowest (f-GAN's own
    estimate of ``D_f(P‖Q)``, by quadrature with its critic — never the exact divergence)
    is played on to ``steps``,
    critic, optimisers and schedules unchanged. ``explore = 0`` (or a one-component ``P``):
    one game from the off-target start. Cost: ``steps + (n_starts − 1)·explore`` steps.
    ``explore = None`` / ``steps = None``: the divergence's :data:`OVERRIDES` entry, else
    300 / 1500.

    ``**train`` goes to every game (see :func:`train_gaussian`; :data:`OVERRIDES` first).
    """
    div = get_divergence(div)
    inits = starts(p)
    kw = {**OVERRIDES.get(div.name, {}), **train}
    if critic_head(div, kw.get("expectation", "grid"), kw.get("head")) in BASIS_HEADS:
        inits = finite_starts(div, p, inits)
    explore = kw.pop("explore", 300) if explore is None else explore
    kw.pop("explore", None)
    steps = kw.pop("steps", 1500) if steps is None else steps
    kw.pop("steps", None)
    if explore <= 0 or explore >= steps or len(inits) == 1:
        return next(_play(div, p, init=inits[0], steps=steps, seed=seed, **kw))
    games = [_play(div, p, init=x0, steps=steps, pause=explore, seed=seed, **kw) for x0 in inits]
    bounds = [next(g)[2] for g in games]
    best = min(range(len(games)), key=lambda i: bounds[i] if math.isfinite(bounds[i]) else math.inf)
    return next(games[best])


def train_gaussian(div: str | FDivergence, p: Mixture1D, **train: Any) -> tuple[float, float, float]:
    """One f-GAN game of ``N(μ, σ²)`` against ``P``; returns Polyak-averaged ``(μ̂, σ̂, bound)``.

    Keywords (defaults, after the divergence's :data:`OVERRIDES`): see :func:`_play`.
    """
    kw = {k: v for k, v in OVERRIDES.get(get_divergence(div).name, {}).items() if k != "explore"}
    return next(_play(div, p, **{**kw, **train}))


def finite_starts(div: str | FDivergence, p: Mixture1D, inits: list[tuple[float, float]],
                  margin: float = 1.25) -> list[tuple[float, float]]:
    """The starts ``(μ₀, σ₀)`` where ``D_f(P‖N(μ₀, σ²))`` is finite for every ``σ ∈ [σ₀/margin, σ₀·margin]``.

    The χ² rows start only there: a game started where ``D_f = ∞``, or next to the edge of the
    region where it is finite, has log-ratios of 100 or more to learn on the grid (``D_χ²`` of
    1e30 and more), its critic lags and the generator is dragged after it (Pearson on
    ``0.2*N(-3,0.4) + 0.5*N(0,0.7) + 0.3*N(2.5,0.5)`` from ``N(2.5, 0.5)``, 1.01× the edge: Q went
    to μ = −7, σ = 0.06). Decided from the tails of ``P`` and the start
    (:func:`gankit.divergences.is_finite`). If no start qualifies, all are kept.
    """
    div = get_divergence(div)
    ok = [(m0, s0) for m0, s0 in inits
          if all(is_finite(div, p, gaussian(m0, s0 * c)) for c in (1 / margin, margin))]
    return ok or list(inits)


def critic_head(div: str | FDivergence, expectation: str = "grid", head: str | None = None) -> str:
    """The critic head a game uses: ``head`` if given, else :data:`HEADS` (grid) or :data:`SAMPLE_HEADS`."""
    if head is not None:
        return head
    name = get_divergence(div).name
    return (HEADS if expectation == "grid" else SAMPLE_HEADS).get(name, "plain")


def _play(div: str | FDivergence, p: Mixture1D, *, init: tuple[float, float] | None = None,
          expectation: str = "grid", steps: int = 1500, d_steps: int = 2, batch_size: int = 1024,
          grid_points: int = 512, lr_d: float = 1e-2, lr_g: float | None = None, width: int = 64,
          depth: int = 2, average: float = 0.2, head: str | None = None, warmup: int = 0,
          pause: int | None = None, refine: int = 200, seed: int = 0,
          newton_iterations: int = 5, restart_every: int = 50) -> Iterator[tuple[float, float, float]]:
    """The f-GAN game as a generator: yields ``(μ, σ, bound)`` at step ``pause`` (if given), then at the end.

    See the module docstring for the game.

    Parameters
    ----------
    init : (μ₀, σ₀) or None
        The generator's start; None: the off-target start (the first of :func:`starts`).
    expectation : {"grid", "samples"}
        ``"samples"``: minibatches of ``batch_size`` from ``P`` and ``x = μ + σ z``, as in
        the paper. ``"grid"``: the exact expectations ``Σᵢ wᵢ p(xᵢ) h(xᵢ)`` and
        ``Σᵢ wᵢ q_θ(xᵢ) h(xᵢ)`` on a fixed grid of ``grid_points`` covering ``P`` (trapezoid
        weights; the generator's gradient flows through ``q_θ(xᵢ)``): the same game
        without sampling noise, several times faster.
    head : {"plain", "quadratic", "sine", "exp", "basis", "basis-ratio"} or None
        The critic's output head (:func:`gankit.theory._nets.make_critic`); None: the
        divergence's entry in :data:`HEADS` (grid) or :data:`SAMPLE_HEADS`, else ``"plain"``.
        The basis heads are trained by Gauss–Newton (:func:`gankit.theory._newton.maximise`,
        up to ``newton_iterations`` steps per critic step; ``lr_d`` unused) and need the grid;
        their games default to a generator lr of 1e-2·std(P) (``lr_g=None``; 3e-2 for the
        network heads), keep ``(μ, s)`` in float64 and clip the generator's gradient to norm 1
        (far from the optimum ``D_χ²`` on the grid reaches 1e70 and Adam's second moment
        would remember such a gradient for thousands of steps).
    warmup : int
        Critic-only steps before the first generator step (default 0).
    pause : int or None
        Yield the current (not averaged) ``(μ, σ, bound)`` before generator step ``pause``;
        the bound is that of a copy of the critic trained ``refine`` more steps alone (a
        lagging critic's bound is too low, and the lowest bound is what :func:`fgan_fit`
        keeps); the game itself goes on untouched.
    """
    div = get_divergence(div)
    if expectation not in ("grid", "samples"):
        raise GankitError(f"expectation must be grid or samples; got {expectation!r}")
    head = critic_head(div, expectation, head)
    if head not in CRITIC_HEADS:
        raise GankitError(f"head must be one of {', '.join(CRITIC_HEADS)}; got {head!r}")
    newton = head in BASIS_HEADS
    if newton and expectation != "grid":
        raise GankitError(f"the {head!r} critic is trained by Gauss-Newton on the grid game; use expectation='grid' "
                          f"or a network head ({', '.join(h for h in CRITIC_HEADS if h not in BASIS_HEADS)})")
    torch.manual_seed(seed)
    rng = torch.Generator().manual_seed(seed)
    m = p.mean()
    s = math.sqrt(float((p.weights * (p.stds**2 + p.means**2)).sum()) - m**2)
    mu0, sigma0 = (m - 0.5 * s, 0.5 * s) if init is None else init
    if lr_g is None:
        # the basis games (session 7): 1e-2·std(P) — a mode-seeking Neyman fit to a component 7×
        # narrower than P (``0.3*N(-4,1.5) + 0.4*N(0,0.5) + 0.3*N(5,1)``, optimum (−0.030, 0.531))
        # oscillated out of its basin within 50 steps at 3e-2 (Q ended at (−2.96, 2.07)) and ends
        # on the optimum at 1e-2; 20 instead of 5 Newton steps per critic step did not help
        lr_g = 1e-2 if newton else 3e-2
    gtype = torch.float64 if newton else torch.float32
    mu = nn.Parameter(torch.tensor(float(mu0), dtype=gtype))
    s_raw = nn.Parameter(torch.tensor(_softplus_inv(float(sigma0)), dtype=gtype))
    lo, hi = p.support(1 - 1e-9)
    V = make_critic(head, m, s, width, depth, span=(lo - s, hi + s), grid_points=grid_points)
    opt_d = torch.optim.Adam(V.parameters(), lr=lr_d, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam([mu, s_raw], lr=lr_g * s, betas=(0.5, 0.999))
    sch_d = torch.optim.lr_scheduler.CosineAnnealingLR(opt_d, steps, eta_min=lr_d / 30)
    sch_g = torch.optim.lr_scheduler.CosineAnnealingLR(opt_g, steps, eta_min=lr_g * s / 30)
    if expectation == "grid":
        xg = torch.linspace(lo - s, hi + s, grid_points, dtype=torch.float64)
        dx = float(xg[1] - xg[0])
        trap = torch.full((grid_points,), dx, dtype=torch.float64)
        trap[[0, -1]] = dx / 2
        # the sums Σ wᵢ h(V(xᵢ)) in float64: in a tail where p ≫ q the critic reaches T ≈ log(p/q)
        # ≈ 90 and f*(T) ≈ e^T overflows float32, although q·f*(T) is tiny
        w_p = trap * torch.as_tensor(p.pdf(xg.numpy()))  # (grid,) float64
        x64, xg = xg, xg.float().reshape(-1, 1)

        def q_weights() -> torch.Tensor:  # trapezoid weights times q_θ(x_i), differentiable in θ
            sigma = F.softplus(s_raw).double()
            return trap * torch.exp(-0.5 * ((x64 - mu.double()) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))

        phi = V.features(x64) if newton else None  # the basis on the grid, fixed

    start_avg = int(steps * (1 - average))
    sum_mu = sum_sigma = 0.0
    n_avg = 0

    def critic_step(V: nn.Module = V, opt_d: torch.optim.Optimizer = opt_d, iterations: int = newton_iterations) -> None:
        if newton:
            with torch.no_grad():
                w_q = q_weights()
            maximise(div, V, phi, w_p, w_q, iterations=iterations)
            return
        if expectation == "grid":
            v = V(xg).double()
            with torch.no_grad():
                w_q = q_weights()
            loss_d = -((w_p * div.activation(v)).sum() - (w_q * div.conjugate_activation(v)).sum())
        else:
            real = p.sample(batch_size, rng)  # (batch, 1)
            with torch.no_grad():
                fake = mu + F.softplus(s_raw) * torch.randn(batch_size, 1, generator=rng)
            loss_d = fgan_discriminator_loss(div, V(real), V(fake))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()

    def restart(V: nn.Module, iterations: int = 30) -> None:
        # a critic fitted to an earlier Q can sit on a plateau of F (Neyman's T = 1 − e^{−V}
        # saturates where V ≫ V*; Pearson's ratio head where u ≪ u*) that Gauss–Newton leaves only
        # slowly; a critic fitted from scratch to the current Q replaces it if its F is higher
        fresh = copy.deepcopy(V)
        with torch.no_grad():
            fresh.beta.zero_()
            w_q = q_weights()
        maximise(div, fresh, phi, w_p, w_q, iterations=iterations)
        with torch.no_grad():
            if grid_objective(div, fresh.link(phi @ fresh.beta), w_p, w_q) > grid_objective(
                    div, V.link(phi @ V.beta), w_p, w_q):
                V.beta.copy_(fresh.beta)

    for _ in range(warmup):  # the critic first learns T* for the starting Gaussian
        critic_step()
    for step in range(steps):
        if step == pause:  # the caller compares runs here, then resumes the one it keeps
            # a lagging critic underestimates D_f: a copy catches up first (the game is untouched)
            V_copy = copy.deepcopy(V)
            opt_copy = torch.optim.Adam(V_copy.parameters(), lr=sch_d.get_last_lr()[0], betas=(0.5, 0.999))
            if newton:  # Gauss-Newton to convergence (at most `refine` steps), and from scratch
                critic_step(V_copy, opt_copy, iterations=refine)
                restart(V_copy, iterations=refine)
            else:
                for _ in range(refine):
                    critic_step(V_copy, opt_copy)
            sigma_now = float(F.softplus(s_raw.detach()))
            yield float(mu.detach()), sigma_now, _bound(div, p, V_copy, float(mu.detach()), sigma_now)
        if newton and restart_every and step % restart_every == restart_every - 1:
            restart(V)
        for _ in range(d_steps):
            critic_step()
        V.requires_grad_(False)
        if expectation == "grid":
            with torch.no_grad():
                conj = div.conjugate_activation(V.link(phi @ V.beta) if newton else V(xg).double())
            loss_g = -(q_weights() * conj).sum()  # saturating: G minimises the bound
        else:
            fake = mu + F.softplus(s_raw) * torch.randn(batch_size, 1, generator=rng)
            loss_g = fgan_generator_loss(div, V(fake))  # saturating: G minimises the bound
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        if newton:
            torch.nn.utils.clip_grad_norm_([mu, s_raw], 1.0)
        opt_g.step()
        V.requires_grad_(True)
        if not newton:
            sch_d.step()
        sch_g.step()
        if not (math.isfinite(float(mu.detach())) and math.isfinite(float(s_raw.detach()))):
            if pause is not None and step < pause:  # an exploring game that blew up loses the comparison
                yield math.nan, math.nan, math.inf
                return
            raise GankitError(f"f-GAN training of {div.name} diverged (NaN in mu or sigma at generator step {step}); "
                              "try another --seed or --steps")
        if step >= start_avg:
            sum_mu += float(mu.detach())
            sum_sigma += float(F.softplus(s_raw.detach()))
            n_avg += 1
    mu_hat, sigma_hat = sum_mu / n_avg, sum_sigma / n_avg
    yield mu_hat, sigma_hat, _bound(div, p, V, mu_hat, sigma_hat)


def _bound(div: FDivergence, p: Mixture1D, V: nn.Module, mu: float, sigma: float) -> float:
    """``F(ω, θ) = ∫ p·g_f(V) − q_θ·f*(g_f(V))`` by quadrature (20,001 points covering P and Q_θ)."""
    lo, hi = p.support(1 - 1e-12)
    x = np.linspace(min(lo, mu - 8 * sigma), max(hi, mu + 8 * sigma), 20001)
    # the critic in float64: Jeffrey's a − exp(b) overflows float32 far out in a tail (b > 88),
    # and p·(−inf) there made the bound NaN although p·T is tiny
    with torch.no_grad():
        v = copy.deepcopy(V).double()(torch.tensor(x, dtype=torch.float64).reshape(-1, 1))
        t, conj = div.activation(v).numpy(), div.conjugate_activation(v).numpy()
    with np.errstate(invalid="ignore"):  # 0·inf where a density underflows to 0: no contribution
        pt, qc = p.pdf(x) * t, gaussian(mu, sigma).pdf(x) * conj
        integrand = np.where(np.isnan(pt), 0.0, pt) - np.where(np.isnan(qc), 0.0, qc)
    return float(np.trapezoid(integrand, x))


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
        A row whose ``max(|μ̂ − μ*|, |σ̂ − σ*|)`` exceeds it is flagged in ``note``.
    **train
        Passed to :func:`fgan_fit` (``steps``, ``d_steps``, ``batch_size``, ``seed``, ...).
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
        infinite = [k for k, ok in minibatch_variance_finite(div, p, gaussian(mu_s, sigma_s)).items() if not ok]
        if infinite:
            note = (note + "; " if note else "") + f"at the optimum the minibatch {' and '.join(infinite)} = inf"
        d_star = divergence(div, p, gaussian(mu_s, sigma_s)).value
        d_learned = divergence(div, p, gaussian(mu, sigma)).value
        if not math.isfinite(d_learned):
            note = (note + "; " if note else "") + "D_f is infinite at the learned Gaussian"
        if not max(abs(mu - mu_s), abs(sigma - sigma_s)) <= tolerance:
            note = (note + "; " if note else "") + f"NOT converged: learned (mu, sigma) off by more than {tolerance:g}"
        rows.append(FitRow(div.name, d_star, d_learned, bound, mu_s, mu, sigma_s, sigma,
                           round(time.perf_counter() - t0, 2), note))
    return rows


def plot_fits(p: Mixture1D, rows: list[FitRow], path: str) -> None:
    """The target density with each divergence's exact (solid) and learned (dashed) Gaussian."""
    from ..report.plots import plt

    lo, hi = p.support(1 - 1e-4)
    pad = 0.25 * (hi - lo)
    x = np.linspace(lo - pad, hi + pad, 800)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.fill_between(x, p.pdf(x), color="0.85", label="target P")
    for i, r in enumerate(rows):
        if not (math.isfinite(r.mu) and math.isfinite(r.mu_star)):
            continue
        c = f"C{i % 10}"
        ax.plot(x, gaussian(r.mu_star, r.sigma_star).pdf(x), c, lw=1.5, label=f"{r.divergence}: exact")
        ax.plot(x, gaussian(r.mu, r.sigma).pdf(x), c, lw=1.5, ls="--")
    ax.set_title("Gaussian fits minimising D_f(P‖Q): exact (solid) vs f-GAN (dashed)", fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
