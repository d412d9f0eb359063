"""The theory lab: the lecture's identities, checked numerically (``gankit theory <sub>``).

- :mod:`.optimal_d`: ``D* = p_d/(p_d + p_g)`` and ``V(G, D*) = 2·JSD − log 4``;
- :mod:`.fgan_fit`: f-GAN section 4, a Gaussian fitted to a mixture with every divergence
  (a package; its function of the same name is ``gankit.theory.fgan_fit.fgan_fit``);
- :mod:`.variational`: an f-divergence estimated from below by training only the critic;
- :mod:`.conjugate`: ``f** = f`` for every divergence.
"""

from .conjugate import ConjugateCheck, biconjugate, check_biconjugate, plot_conjugate
from .fgan_fit import DEFAULT_TARGET, FitRow, exact_fit, fit_table
from .optimal_d import DEFAULT_DATA, DEFAULT_GEN, OptimalDResult, mass_interval, optimal_discriminator
from .variational import VariationalResult, variational_estimate

__all__ = [
    "ConjugateCheck", "biconjugate", "check_biconjugate", "plot_conjugate",
    "DEFAULT_TARGET", "FitRow", "exact_fit", "fit_table",
    "DEFAULT_DATA", "DEFAULT_GEN", "OptimalDResult", "mass_interval", "optimal_discriminator",
    "VariationalResult", "variational_estimate",
]
