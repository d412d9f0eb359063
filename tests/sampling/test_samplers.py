"""Polarity and highest-density sampling (gankit.sampling) against closed forms and quadrature."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats
from torch import nn

import gankit.sampling.plain
from gankit.config import RunConfig, apply_overrides
from gankit.data import ring8
from gankit.errors import GankitError
from gankit.metrics.evaluate import evaluate, score_samples
from gankit.sampling import generate, hpd_sample, log_density, log_volume, polarity_sample, sample


class Affine(nn.Module):
    """``x = A z + b``: pushes N(0, I) forward to N(b, A Aᵀ)."""

    def __init__(self, A: np.ndarray, b: np.ndarray) -> None:
        super().__init__()
        self.latent_dim = A.shape[1]
        self.A = nn.Parameter(torch.tensor(A, dtype=torch.float32))
        self.b = nn.Parameter(torch.tensor(b, dtype=torch.float32))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z @ self.A.T + self.b


class Cubic(nn.Module):
    """1-D ``x = z³ + z``: monotone, Jacobian ``3z² + 1``."""

    latent_dim = 1

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z**3 + z


A = np.array([[2.0, 0.5], [-0.3, 0.7]])
B = np.array([1.0, -2.0])


def test_log_volume_of_a_linear_map_is_log_abs_det():
    z = torch.randn(50, 2)
    lv = log_volume(Affine(A, B), z)
    assert torch.allclose(lv, torch.full((50,), math.log(abs(np.linalg.det(A))), dtype=torch.float64), atol=1e-5)


def test_log_volume_of_a_tall_map_is_half_log_det_gram():
    A3 = np.array([[1.0, 0.2], [0.0, 2.0], [0.5, -1.0]])  # dim z = 2 < dim x = 3 (reverse mode)
    lv = log_volume(Affine(A3, np.zeros(3)), torch.randn(7, 2))
    assert torch.allclose(lv, torch.full((7,), 0.5 * math.log(np.linalg.det(A3.T @ A3)), dtype=torch.float64),
                          atol=1e-5)


def test_log_density_is_the_pushforward_density():
    G = Affine(A, B)
    z = torch.randn(100, 2)
    with torch.no_grad():
        x = G(z).double().numpy()
    ref = stats.multivariate_normal(B, A @ A.T).logpdf(x)
    assert np.allclose(log_density(G, z).numpy(), ref, atol=1e-4)


def test_hpd_sample_is_the_highest_density_region_of_a_gaussian():
    # N(b, AAᵀ): the HPD region of mass m is the ellipse of Mahalanobis² ≤ χ²₂(m)
    G, m, n = Affine(A, B), 0.5, 20000
    x = hpd_sample(G, n, m, seed=3).double().numpy()
    d2 = np.einsum("ni,ij,nj->n", x - B, np.linalg.inv(A @ A.T), x - B)
    level = stats.chi2.ppf(m, 2)
    assert x.shape == (n, 2)
    assert abs(d2.max() - level) < 0.06  # the empirical level of 40,000 draws
    # inside the region the sample keeps the Gaussian's shape: d² is χ²₂ truncated at the level
    ks = stats.kstest(d2, lambda t: stats.chi2.cdf(np.minimum(t, level), 2) / m)
    assert ks.pvalue > 1e-3


def test_hpd_keeps_the_weights_of_equally_shaped_modes():
    # two equal modes of unequal weight: conditioning on the HPD region keeps their ratio
    class TwoModes(nn.Module):
        latent_dim = 2

        def forward(self, z):  # mode by the sign of z₀, a smooth monotone map in z₀
            return torch.stack([torch.tanh(4 * z[:, 0]) * 3 + 0.1 * z[:, 0], z[:, 1]], dim=1)

    x = hpd_sample(TwoModes(), 20000, 0.8, seed=0)
    frac_right = float((x[:, 0] > 0).double().mean())
    assert abs(frac_right - 0.5) < 0.02


def test_plain_sampler_is_generate():
    G = Affine(A, B)
    assert torch.equal(sample(G, 300, seed=5), generate(G, 300, 5))
    assert torch.equal(polarity_sample(G, 300, 0.0, seed=5), generate(G, 300, 5))
    assert torch.equal(hpd_sample(G, 300, 1.0, seed=5), generate(G, 300, 5))


def test_polarity_sample_matches_its_target_density():
    # z ∝ φ(z)·(3z² + 1)^ρ for x = z³ + z; the sampled z (x inverted by Cardano) against the
    # target's CDF by quadrature
    rho = -1.0
    dens = lambda t: stats.norm.pdf(t) * (3 * t * t + 1) ** rho  # noqa: E731
    norm = integrate.quad(dens, -np.inf, np.inf)[0]
    x = polarity_sample(Cubic(), 2000, rho, seed=1, pool=20).double().numpy().ravel()
    r = np.sqrt(x * x / 4 + 1 / 27)
    z = np.cbrt(x / 2 + r) + np.cbrt(x / 2 - r)  # the real root of z³ + z − x
    grid = np.linspace(-8, 8, 4001)
    cdf_grid = np.array([integrate.quad(dens, -np.inf, -8)[0]] * len(grid))
    cdf_grid[1:] += integrate.cumulative_trapezoid(dens(grid), grid)
    cdf = lambda t: np.interp(t, grid, cdf_grid / norm)  # noqa: E731
    assert stats.kstest(z, cdf).pvalue > 1e-3
    assert stats.kstest(z, stats.norm.cdf).pvalue < 1e-6  # and it is not the plain latent


def test_samplers_are_deterministic_in_the_seed():
    G = Cubic()
    assert torch.equal(polarity_sample(G, 100, -1.0, seed=2), polarity_sample(G, 100, -1.0, seed=2))
    assert torch.equal(hpd_sample(G, 100, 0.7, seed=2), hpd_sample(G, 100, 0.7, seed=2))


@pytest.mark.parametrize("kw, match", [
    ({"eval.hpd": 0.0}, "eval.hpd must be in"),
    ({"eval.hpd": 1.5}, "eval.hpd must be in"),
    ({"eval.polarity": math.inf}, "eval.polarity must be a finite"),
    ({"eval.polarity_pool": 0}, "eval.polarity_pool must be in"),
    ({"eval.polarity": -1.0, "eval.hpd": 0.9}, "at most one sampler"),
])
def test_bad_sampler_settings_are_one_clear_error(kw, match):
    with pytest.raises(GankitError, match=match):
        apply_overrides(RunConfig(), kw)


def test_sample_rejects_two_samplers_and_bad_values():
    with pytest.raises(GankitError, match="choose one sampler"):
        sample(Cubic(), 10, 0, polarity=-1.0, hpd=0.5)
    with pytest.raises(GankitError, match="hpd mass must be"):
        hpd_sample(Cubic(), 10, 0.0, seed=0)
    with pytest.raises(GankitError, match="polarity rho must be"):
        polarity_sample(Cubic(), 10, math.nan, seed=0)


def test_evaluate_reports_the_generator_with_the_sampler_beside_it():
    G = Affine(np.eye(2) * 0.3, np.zeros(2))
    src = ring8()
    plain = evaluate(G, src, 500, 200, seed=7)
    both = evaluate(G, src, 500, 200, seed=7, hpd=0.5)
    assert {k: v for k, v in both.items() if k != "samplers"} == plain  # the top level is the generator's own
    hpd = both["samplers"]["hpd"]
    assert set(both["samplers"]) == {"hpd"} and hpd["mass"] == 0.5 and hpd["w1"] != plain["w1"]
    # the sampler's numbers are those of its own draws, scored alone
    alone = score_samples(hpd_sample(G, 500, 0.5, seed=7), src, 200, 7, None)
    assert {k: v for k, v in hpd.items() if k != "mass"} == alone
    pol = evaluate(G, src, 500, 200, seed=7, polarity=-1.0, polarity_pool=3)["samplers"]["polarity"]
    assert pol["rho"] == -1.0 and pol["pool"] == 3


def test_samplers_restore_the_generators_mode_even_on_error():
    G = Affine(A, B).train()
    generate(G, 10, 0)
    polarity_sample(G, 10, -1.0, seed=0, pool=2)
    hpd_sample(G, 10, 0.5, seed=0)
    assert G.training

    class Broken(Cubic):
        def forward(self, z):
            assert not self.training  # the sampler runs G in eval mode
            raise RuntimeError("boom")

    broken = Broken().train()
    with pytest.raises(RuntimeError, match="boom"):
        generate(broken, 5, 0)
    assert broken.training


def test_generate_docstring_example_runs():
    assert doctest.testmod(gankit.sampling.plain).failed == 0
