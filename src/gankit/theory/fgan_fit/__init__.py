r"""f-GAN, section 4: fit a single Gaussian to a 1-D mixture with every f-divergence.

Nowozin, Cseke & Tomioka (2016) fit ``Q_θ = N(μ, σ²)`` to a mixture ``P`` by f-GAN
training and compare the learned ``(μ̂, σ̂)`` with the best fit ``(μ*, σ*)`` found by
minimising the exact divergence directly. Both sides here measure the **same direction
with the same f**: ``D_f(P‖Q) = ∫ q f(p/q)`` with ``P`` = data (the target) and ``Q`` =
the model. So ``kl`` is the mass-covering ``KL(P‖Q)`` (moment matching) and
``reverse_kl`` the mode-seeking ``KL(Q‖P)``.

* **Exact optimum** (:mod:`.exact`): ``(μ*, σ*) = argmin D_f(P‖N(μ, σ²))`` by Nelder–Mead
  on ``(μ, log σ)`` from several starts; the objective is the integral on a fine grid
  (:func:`grid_divergence`) and the reported ``D_f`` at the optimum is recomputed by
  QUADPACK (:func:`gankit.divergences.divergence`).
* **f-GAN training** (:mod:`.game`, :class:`FGanGame`): the generator is ``x = μ + σ z``
  with ``σ = softplus(s)``; the critic ``V_ω`` an MLP (tanh) on standardised inputs; both
  play the saddle-point game of f-GAN eq. (6),
  ``min_θ max_ω F(θ, ω) = E_P[g_f(V)] − E_{Q_θ}[f*(g_f(V))]``: the critic minimises
  :func:`~gankit.objectives.fgan_discriminator_loss`, the generator the *saturating*
  :func:`~gankit.objectives.fgan_generator_loss` (its fixed point is ``argmin D_f`` even when
  ``Q`` cannot equal ``P``, which the non-saturating loss does not guarantee). ``d_steps``
  critic steps per generator step, Adam with cosine-decayed learning rates, and ``(μ̂, σ̂)``
  are Polyak averages over the last ``average`` fraction of training. By default the
  expectations are exact sums on a grid (:class:`~.grid.Grid`); ``expectation="samples"``
  plays the paper's minibatch game.
* **Critic heads** (:data:`HEADS`, :mod:`gankit.theory._nets`): the objective of every row
  is f-GAN's, with the paper's ``g_f`` and ``f*``; only the critic ``V_ω`` differs where a
  plain tanh MLP cannot follow ``T* = f'(p/q)``: total variation ``V = 3·sin(u)`` (bounded,
  never saturating; best response ``½·tanh(3)·sign(p − q)``, same minimiser), Jeffrey
  ``V = a − exp(b)`` with quadratic skips. Pearson and Neyman χ² (grid game): a log-ratio
  ``u = β·φ(x)`` linear in ``β`` (quadratic + 80 Gaussian bumps over the grid; Pearson
  ``V = 2(e^u − 1)``, Neyman ``V = u``), each critic step up to 5 safeguarded Gauss–Newton
  steps on the same ``F`` (:mod:`gankit.theory._newton`), a critic refitted from scratch
  every 50 generator steps replacing it when its ``F`` is higher, starts only where
  ``D_χ²`` is finite (:func:`finite_starts`): their optimum can lie near the edge of the
  finite region, where the tails decide the generator's gradient.
* **Several starts** (:func:`fgan_fit`): one game from the off-target start and one from
  each of the heaviest components of ``P``; after ``explore`` steps the game with the
  lowest bound is played to the end (mode-seeking rows have one local optimum per mode).
* ``bound`` is ``F`` at the end of training, by quadrature with the trained ``V`` and
  ``Q_{μ̂,σ̂}`` (:func:`quadrature_bound`); it is a lower bound on ``D_f(P‖Q_{μ̂,σ̂})``.

Rows where a minibatch cannot estimate the game at the optimum say so in ``note``
(:func:`fit_table`): where ``E_P[T*²]`` or ``E_Q[f*(T*)²]`` is infinite at ``(μ*, σ*)``, the
paper's minibatch estimate of ``F`` and of the generator's gradient near the optimum is carried
by rare samples. The grid game has no sampling noise. Rows whose divergence is infinite for
Gaussians wide enough to matter (Pearson, Neyman, α-rows with a heavy tail ratio) are flagged,
never forced into agreement: when the exact minimiser sits on the edge of the finite region the
row says so in ``note``.
"""

from .exact import exact_fit, finite_starts, gaussian, grid_divergence, mean_std, starts
from .fit import OVERRIDES, fgan_fit, train_gaussian
from .game import HEADS, SAMPLE_HEADS, FGanGame, GameConfig, critic_head
from .grid import Grid, quadrature_bound
from .table import DEFAULT_TARGET, FitRow, fit_table, plot_fits

__all__ = [
    "DEFAULT_TARGET", "FitRow", "fit_table", "plot_fits",
    "FGanGame", "GameConfig", "HEADS", "SAMPLE_HEADS", "critic_head",
    "OVERRIDES", "fgan_fit", "train_gaussian",
    "exact_fit", "finite_starts", "gaussian", "grid_divergence", "mean_std", "starts",
    "Grid", "quadrature_bound",
]
