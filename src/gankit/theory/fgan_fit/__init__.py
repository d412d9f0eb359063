r"""f-GAN, section 4: fit a single Gaussian to a 1-D mixture with every f-divergence.

Both sides minimise the same ``D_f(P‖Q) = ∫ q f(p/q)`` (``P`` the target, ``Q = N(μ, σ²)``;
``kl`` is the mass-covering ``KL(P‖Q)``, ``reverse_kl`` the mode-seeking ``KL(Q‖P)``):
:func:`exact_fit` directly (Nelder–Mead), :func:`fgan_fit` by f-GAN training
(:class:`FGanGame`, the saddle point of f-GAN eq. (6)); :func:`fit_table` puts them side by
side, one :class:`FitRow` per divergence. docs/theory.md describes the game, the critic heads
and the notes a row can carry.

>>> rows = fit_table("0.3*N(-2,0.5) + 0.7*N(1,1)", "kl")   # doctest: +SKIP
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
