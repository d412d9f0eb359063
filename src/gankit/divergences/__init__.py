"""Divergences: f-divergence records (f, f*, g_f), exact values between 1-D mixtures, Monte Carlo,
and the exact earth mover's distance (POT) with sliced estimates."""

from .alpha import alpha_divergence  # registers the alpha:<α> family
from .emd_io import PointSet, emd_command, load_points
from .exact import (
    MonteCarloEstimate,
    Quadrature,
    alpha_gaussians,
    divergence,
    divergence_table,
    growth_exponents,
    hellinger_gaussians,
    is_finite,
    kl_gaussians,
    minibatch_variance_finite,
    monte_carlo_divergence,
    neyman_gaussians,
    pearson_gaussians,
    perspective,
    tv_gaussians_equal_std,
    tv_mixtures,
)
from .fdiv import (
    GAN,
    HELLINGER,
    JEFFREY,
    JS,
    KL,
    NEYMAN,
    PEARSON,
    REVERSE_KL,
    TOTAL_VARIATION,
    FDivergence,
    Interval,
    divergence_names,
    get_divergence,
    wright_omega,
)
from .wasserstein import (
    DEFAULT_MAX_SIZE,
    EMDResult,
    SlicedResult,
    emd,
    sliced_wasserstein,
    w1,
    wasserstein_tensor,
)

__all__ = [
    "emd", "EMDResult", "sliced_wasserstein", "SlicedResult", "w1", "wasserstein_tensor",
    "DEFAULT_MAX_SIZE", "load_points", "PointSet", "emd_command",
    "FDivergence", "Interval", "get_divergence", "divergence_names", "alpha_divergence", "wright_omega",
    "KL", "REVERSE_KL", "PEARSON", "NEYMAN", "HELLINGER", "JEFFREY", "JS", "GAN", "TOTAL_VARIATION",
    "Quadrature", "MonteCarloEstimate", "perspective", "is_finite", "growth_exponents", "minibatch_variance_finite", "divergence", "monte_carlo_divergence",
    "divergence_table", "kl_gaussians", "hellinger_gaussians", "pearson_gaussians", "neyman_gaussians",
    "alpha_gaussians", "tv_gaussians_equal_std", "tv_mixtures",
]
