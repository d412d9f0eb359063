r"""One f-GAN game of a Gaussian generator ``N(μ, σ²)`` against a 1-D mixture ``P``.

:class:`FGanGame` plays the saddle point of f-GAN eq. (6),
``min_θ max_ω F(θ, ω) = E_P[g_f(V)] − E_{Q_θ}[f*(g_f(V))]``, with the *saturating* generator
loss (its fixed point is ``argmin D_f`` even when ``Q`` cannot equal ``P``).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ...data.toy import Mixture1D
from ...divergences.fdiv import FDivergence, get_divergence
from ...errors import GankitError
from ...objectives.fgan import fgan_discriminator_loss, fgan_generator_loss
from .._nets import BASIS_HEADS, CRITIC_HEADS, make_critic
from .._newton import grid_objective, maximise
from .exact import mean_std
from .grid import Grid, quadrature_bound

__all__ = ["GameConfig", "FGanGame", "HEADS", "SAMPLE_HEADS", "critic_head"]

#: the critic's output head where a plain tanh MLP cannot follow ``T* = f'(p/q)``
#: (:mod:`gankit.theory._nets`; every other divergence: ``"plain"``). The χ² basis heads are
#: trained by Gauss–Newton and need the grid game; with minibatches see :data:`SAMPLE_HEADS`.
HEADS = {"total_variation": "sine", "jeffrey": "exp", "neyman": "basis", "pearson": "basis-ratio"}

#: the heads with ``expectation="samples"`` (minibatches): MLPs trained by Adam
SAMPLE_HEADS = {"total_variation": "sine", "jeffrey": "exp", "neyman": "quadratic"}


def critic_head(div: str | FDivergence, expectation: str = "grid", head: str | None = None) -> str:
    """The critic head a game uses: ``head`` if given, else :data:`HEADS` (grid) or :data:`SAMPLE_HEADS`."""
    if head is not None:
        return head
    return (HEADS if expectation == "grid" else SAMPLE_HEADS).get(get_divergence(div).name, "plain")


@dataclass(frozen=True)
class GameConfig:
    """How an f-GAN game is played.

    Parameters
    ----------
    expectation : {"grid", "samples"}
        ``"grid"``: exact expectations on a fixed grid of ``grid_points`` covering ``P`` (the
        game without sampling noise); ``"samples"``: minibatches of ``batch_size``, as in the paper.
    steps, d_steps : int
        Generator steps, and critic steps before each.
    lr_d, lr_g : float
        Adam learning rates (cosine-decayed to 1/30); ``lr_g`` is multiplied by std(P).
        ``lr_g=None``: 1e-2 for the basis heads, 3e-2 for the network heads.
    width, depth : int
        The network critic's hidden layers.
    average : float
        ``(μ̂, σ̂)`` are Polyak averages over the last ``average`` fraction of the steps.
    head : {"plain", "quadratic", "sine", "exp", "basis", "basis-ratio"} or None
        The critic's output head (:func:`gankit.theory._nets.make_critic`); None:
        :func:`critic_head`. The basis heads are trained by up to ``newton_iterations``
        Gauss–Newton steps per critic step (``lr_d`` unused) on the grid; their games keep
        ``(μ, s)`` in float64 and clip the generator's gradient to norm 1.
    refine : int
        Critic-only steps of the copy :meth:`FGanGame.probe` trains before its bound.
    seed : int
    restart_every : int
        Basis heads: every ``restart_every`` generator steps a critic fitted from scratch
        replaces the current one when its ``F`` is higher (0: never).
    """

    expectation: str = "grid"
    steps: int = 1500
    d_steps: int = 2
    batch_size: int = 1024
    grid_points: int = 512
    lr_d: float = 1e-2
    lr_g: float | None = None
    width: int = 64
    depth: int = 2
    average: float = 0.2
    head: str | None = None
    refine: int = 200
    seed: int = 0
    newton_iterations: int = 5
    restart_every: int = 50


def _check(div: FDivergence, config: GameConfig) -> str:
    """The game's critic head, after checking ``config`` against ``div``."""
    if config.expectation not in ("grid", "samples"):
        raise GankitError(f"expectation must be grid or samples; got {config.expectation!r}")
    head = critic_head(div, config.expectation, config.head)
    if head not in CRITIC_HEADS:
        raise GankitError(f"head must be one of {', '.join(CRITIC_HEADS)}; got {head!r}")
    if head in BASIS_HEADS and config.expectation != "grid":
        raise GankitError(f"the {head!r} critic is trained by Gauss-Newton on the grid game; use expectation='grid' "
                          f"or a network head ({', '.join(h for h in CRITIC_HEADS if h not in BASIS_HEADS)})")
    return head


class FGanGame:
    """The f-GAN game of ``Q_θ = N(μ, softplus(s)²)`` against ``P`` (module doc).

    Parameters
    ----------
    div : str or FDivergence
    p : Mixture1D
        The target.
    init : (μ₀, σ₀) or None
        The generator's start; None: off target, ``(m − s/2, s/2)`` (``m, s``: moments of ``P``).
    config : GameConfig

    Example
    -------
    >>> from gankit.data.toy import parse_mixture
    >>> game = FGanGame("kl", parse_mixture("N(0,1)"), config=GameConfig(steps=20))
    >>> game.play(20)
    >>> mu, sigma, bound = game.result()
    """

    def __init__(self, div: str | FDivergence, p: Mixture1D, init: tuple[float, float] | None = None,
                 config: GameConfig | None = None) -> None:
        self.div, self.p = get_divergence(div), p
        self.config = cfg = GameConfig() if config is None else config
        head = _check(self.div, cfg)
        self.newton = head in BASIS_HEADS
        torch.manual_seed(cfg.seed)
        self.rng = torch.Generator().manual_seed(cfg.seed)
        m, s = mean_std(p)
        mu0, sigma0 = (m - 0.5 * s, 0.5 * s) if init is None else init
        lr_g = (1e-2 if self.newton else 3e-2) if cfg.lr_g is None else cfg.lr_g
        gtype = torch.float64 if self.newton else torch.float32
        self.mu = nn.Parameter(torch.tensor(float(mu0), dtype=gtype))
        self.s_raw = nn.Parameter(torch.tensor(_softplus_inv(float(sigma0)), dtype=gtype))
        lo, hi = p.support(1 - 1e-9)
        self.critic = make_critic(head, m, s, cfg.width, cfg.depth, span=(lo - s, hi + s), grid_points=cfg.grid_points)
        self.opt_d = torch.optim.Adam(self.critic.parameters(), lr=cfg.lr_d, betas=(0.5, 0.999))
        self.opt_g = torch.optim.Adam([self.mu, self.s_raw], lr=lr_g * s, betas=(0.5, 0.999))
        self.sch_d = torch.optim.lr_scheduler.CosineAnnealingLR(self.opt_d, cfg.steps, eta_min=cfg.lr_d / 30)
        self.sch_g = torch.optim.lr_scheduler.CosineAnnealingLR(self.opt_g, cfg.steps, eta_min=lr_g * s / 30)
        self.grid = Grid(p, lo - s, hi + s, cfg.grid_points) if cfg.expectation == "grid" else None
        self.phi = self.critic.features(self.grid.x64) if self.newton else None  # the basis on the grid, fixed
        self.step, self.diverged = 0, False
        self._start_avg = int(cfg.steps * (1 - cfg.average))
        self._sum_mu, self._sum_sigma, self._n_avg = 0.0, 0.0, 0  # the Polyak average's sums

    @property
    def sigma(self) -> float:
        """The generator's current ``σ``."""
        return float(F.softplus(self.s_raw.detach()))

    def _grid_values(self, critic: nn.Module) -> torch.Tensor:
        """The critic's raw output ``V`` on the grid, float64; shape (grid_points,)."""
        return critic.link(self.phi @ critic.beta) if self.newton else critic(self.grid.x32).double()

    def _fake(self) -> torch.Tensor:  # (batch, 1)
        return self.mu + F.softplus(self.s_raw) * torch.randn(self.config.batch_size, 1, generator=self.rng)

    def critic_step(self, critic: nn.Module | None = None, opt: torch.optim.Optimizer | None = None,
                    iterations: int | None = None) -> None:
        """One step of ``critic`` (default: the game's, with its optimiser) raising ``F``.

        Network heads: one Adam step; basis heads: up to ``iterations`` (default
        ``newton_iterations``) Gauss–Newton steps.
        """
        critic = self.critic if critic is None else critic
        opt = self.opt_d if opt is None else opt
        if self.grid is not None:
            with torch.no_grad():
                w_q = self.grid.q_weights(self.mu, self.s_raw)
            if self.newton:
                its = self.config.newton_iterations if iterations is None else iterations
                maximise(self.div, critic, self.phi, self.grid.w_p, w_q, iterations=its)
                return
            loss_d = -grid_objective(self.div, self._grid_values(critic), self.grid.w_p, w_q)
        else:
            real = self.p.sample(self.config.batch_size, self.rng)  # (batch, 1)
            with torch.no_grad():
                fake = self._fake()
            loss_d = fgan_discriminator_loss(self.div, critic(real), critic(fake))
        opt.zero_grad(set_to_none=True)
        loss_d.backward()
        opt.step()

    def generator_step(self) -> None:
        """One Adam step of ``(μ, s)`` lowering ``F`` (the saturating generator loss), then the schedules."""
        self.critic.requires_grad_(False)
        if self.grid is not None:
            with torch.no_grad():
                conj = self.div.conjugate_activation(self._grid_values(self.critic))
            loss_g = -(self.grid.q_weights(self.mu, self.s_raw) * conj).sum()
        else:
            loss_g = fgan_generator_loss(self.div, self.critic(self._fake()))
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        if self.newton:  # far from the optimum D_χ² reaches 1e70, which Adam's second moment would remember
            torch.nn.utils.clip_grad_norm_([self.mu, self.s_raw], 1.0)
        self.opt_g.step()
        self.critic.requires_grad_(True)
        if not self.newton:
            self.sch_d.step()
        self.sch_g.step()

    def restart(self, critic: nn.Module, iterations: int = 30) -> None:
        """Basis heads: replace ``critic``'s coefficients by a fit from scratch if its ``F`` is higher.

        A critic fitted to an earlier ``Q`` can sit on a plateau of ``F`` that Gauss–Newton
        leaves only slowly.
        """
        fresh = copy.deepcopy(critic)
        with torch.no_grad():
            fresh.beta.zero_()
            w_q = self.grid.q_weights(self.mu, self.s_raw)
        w_p = self.grid.w_p
        maximise(self.div, fresh, self.phi, w_p, w_q, iterations=iterations)
        with torch.no_grad():
            if (grid_objective(self.div, self._grid_values(fresh), w_p, w_q)
                    > grid_objective(self.div, self._grid_values(critic), w_p, w_q)):
                critic.beta.copy_(fresh.beta)

    def bound(self, mu: float | None = None, sigma: float | None = None, critic: nn.Module | None = None) -> float:
        """``F`` by quadrature (:func:`~gankit.theory.fgan_fit.grid.quadrature_bound`) with ``critic``
        (default: the game's) at ``N(μ, σ²)`` (default: the generator's current ``μ, σ``)."""
        mu = float(self.mu.detach()) if mu is None else mu
        sigma = self.sigma if sigma is None else sigma
        return quadrature_bound(self.div, self.p, self.critic if critic is None else critic, mu, sigma)

    def probe(self, refine: int | None = None) -> tuple[float, float, float]:
        """The current (not averaged) ``(μ, σ, bound)``, the game untouched; ``(nan, nan, inf)`` if it diverged.

        The bound is that of a copy of the critic trained ``refine`` (default ``config.refine``)
        more steps alone: a lagging critic's bound is too low.
        """
        if self.diverged:
            return math.nan, math.nan, math.inf
        refine = self.config.refine if refine is None else refine
        copy_ = copy.deepcopy(self.critic)
        opt = torch.optim.Adam(copy_.parameters(), lr=self.sch_d.get_last_lr()[0], betas=(0.5, 0.999))
        if self.newton:
            self.critic_step(copy_, opt, iterations=refine)
            self.restart(copy_, iterations=refine)
        else:
            for _ in range(refine):
                self.critic_step(copy_, opt)
        mu, sigma = float(self.mu.detach()), self.sigma
        return mu, sigma, self.bound(mu, sigma, copy_)

    def play(self, until: int | None = None, exploring: bool = False) -> None:
        """Play generator steps (each after ``d_steps`` critic steps) up to step ``until`` (default: the end).

        If ``μ`` or ``σ`` becomes NaN: with ``exploring`` the game stops and is marked
        ``diverged`` (it loses any comparison); otherwise a :class:`GankitError`.
        """
        cfg = self.config
        until = cfg.steps if until is None else min(until, cfg.steps)
        while self.step < until and not self.diverged:
            step = self.step
            if self.newton and cfg.restart_every and step % cfg.restart_every == cfg.restart_every - 1:
                self.restart(self.critic)
            for _ in range(cfg.d_steps):
                self.critic_step()
            self.generator_step()
            self.step += 1
            mu = float(self.mu.detach())
            if not (math.isfinite(mu) and math.isfinite(float(self.s_raw.detach()))):
                if exploring:
                    self.diverged = True
                    return
                raise GankitError(f"f-GAN training of {self.div.name} diverged (NaN in mu or sigma at generator step "
                                  f"{step}); try another --seed or --steps")
            if step >= self._start_avg:
                self._sum_mu += mu
                self._sum_sigma += self.sigma
                self._n_avg += 1

    def result(self) -> tuple[float, float, float]:
        """The Polyak-averaged ``(μ̂, σ̂)`` and the bound of the critic at ``N(μ̂, σ̂²)``; after the last step."""
        if self.step < self.config.steps or self._n_avg == 0:
            raise GankitError(f"the game has played {self.step} of {self.config.steps} steps; play() it to the end")
        mu_hat, sigma_hat = self._sum_mu / self._n_avg, self._sum_sigma / self._n_avg
        return mu_hat, sigma_hat, self.bound(mu_hat, sigma_hat)


def _softplus_inv(y: float) -> float:
    return y + math.log(-math.expm1(-y))
