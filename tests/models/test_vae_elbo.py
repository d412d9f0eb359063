"""The VAE's KL term and ELBO against closed forms: torch.distributions, scipy, and a linear-Gaussian model."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal
from torch.distributions import Normal, kl_divergence

from gankit.models.vae import (
    VAEDecoder,
    VAEEncoder,
    bernoulli_nll,
    elbo_terms,
    gaussian_kl,
    gaussian_nll,
    lecture_kl_term,
    reparameterise,
)

torch.set_num_threads(1)


def _random_gaussians(seed: int, batch: int = 64, latent: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    mu = 2.0 * torch.randn(batch, latent, generator=g, dtype=torch.float64)
    logvar = 3.0 * torch.randn(batch, latent, generator=g, dtype=torch.float64)
    return mu, logvar


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_both_kl_forms_match_torch_distributions(seed: int) -> None:
    mu, logvar = _random_gaussians(seed)
    ref = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(-1)
    torch.testing.assert_close(gaussian_kl(mu, logvar), ref, rtol=1e-12, atol=1e-10)
    # the lecture's form has no factor 1/2: it is twice the KL
    torch.testing.assert_close(lecture_kl_term(mu, logvar), 2 * ref, rtol=1e-12, atol=1e-10)
    assert gaussian_kl(mu, logvar).shape == (mu.shape[0],)
    assert bool((ref >= 0).all())


def test_kl_matches_scipy_entropy_and_cross_entropy() -> None:
    # KL(q || p) = -H(q) - E_q[log p], with H(q) from scipy and E_q[log N(z; 0, I)] in closed form
    mu, logvar = _random_gaussians(5, batch=8, latent=4)
    for m, lv in zip(mu.numpy(), logvar.numpy(), strict=True):
        entropy = multivariate_normal(mean=m, cov=np.diag(np.exp(lv))).entropy()
        cross = 0.5 * (len(m) * math.log(2 * math.pi) + np.sum(m**2 + np.exp(lv)))
        kl = cross - entropy
        assert abs(float(gaussian_kl(torch.tensor(m), torch.tensor(lv))) - kl) < 1e-9 * max(1.0, kl)
        assert abs(float(lecture_kl_term(torch.tensor(m), torch.tensor(lv))) - 2 * kl) < 1e-9 * max(1.0, kl)


def test_kl_is_zero_only_at_the_prior() -> None:
    z = torch.zeros(3, 5)
    assert float(gaussian_kl(z, z).abs().max()) == 0.0
    assert float(lecture_kl_term(z, z).abs().max()) == 0.0
    assert float(gaussian_kl(z + 0.1, z).min()) > 0


def test_reparameterisation_values_and_gradients() -> None:
    mu = torch.tensor([[0.5, -1.0]], requires_grad=True)
    logvar = torch.tensor([[0.2, -0.4]], requires_grad=True)
    eps = torch.tensor([[1.5, -0.3]])
    z = reparameterise(mu, logvar, eps)
    torch.testing.assert_close(z.detach(), mu.detach() + (0.5 * logvar.detach()).exp() * eps)
    z.sum().backward()
    torch.testing.assert_close(mu.grad, torch.ones_like(mu))
    torch.testing.assert_close(logvar.grad, 0.5 * (0.5 * logvar.detach()).exp() * eps)


def test_gaussian_and_bernoulli_nll_match_torch_distributions() -> None:
    g = torch.Generator().manual_seed(3)
    x, mean, log_std = torch.randn(10, 7, generator=g), torch.randn(10, 7, generator=g), torch.randn(7, generator=g)
    ref = -Normal(mean, log_std.exp()).log_prob(x).sum(-1)
    torch.testing.assert_close(gaussian_nll(x, mean, log_std), ref)
    x01, logits = torch.rand(10, 7, generator=g).round(), torch.randn(10, 7, generator=g)
    ref_b = -torch.distributions.Bernoulli(logits=logits).log_prob(x01).sum(-1)
    torch.testing.assert_close(bernoulli_nll(x01, logits), ref_b)


# --------------------------------------------------------------------------- linear-Gaussian VAE
# p(z) = N(0, I_L), p(x|z) = N(Wz + b, s^2 I_d)  =>  p(x) = N(b, W W^T + s^2 I) exactly.
# With orthogonal columns of W the posterior p(z|x) is diagonal, so a linear encoder can
# represent it and the ELBO equals log p(x); any other encoder gives ELBO < log p(x).

D, L, S = 5, 2, 0.5


def _linear_model() -> tuple[VAEDecoder, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(11)
    q, _ = torch.linalg.qr(torch.randn(D, D, generator=g, dtype=torch.float64))
    W = q[:, :L] * torch.tensor([2.0, 0.7], dtype=torch.float64)  # (D, L), orthogonal columns
    b = torch.randn(D, generator=g, dtype=torch.float64)
    dec = VAEDecoder(L, (D,), depth=0).double()
    with torch.no_grad():
        dec.net[0].weight.copy_(W)
        dec.net[0].bias.copy_(b)
        dec.log_std.fill_(math.log(S) / dec.std_speed)
    return dec, W, b


def _encoder(A: torch.Tensor, c: torch.Tensor, logvar: torch.Tensor) -> VAEEncoder:
    """Linear encoder mu = A x + c, constant logvar."""
    enc = VAEEncoder((D,), L, depth=0).double()
    with torch.no_grad():
        enc.net[0].weight.zero_()
        enc.net[0].weight[:L] = A
        enc.net[0].bias.copy_(torch.cat([c, logvar]))
    return enc


def _exact_log_px(x: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    cov = W @ W.T + S**2 * torch.eye(D, dtype=torch.float64)
    return torch.distributions.MultivariateNormal(b, cov).log_prob(x)


def _analytic_elbo(x: torch.Tensor, enc: VAEEncoder, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """E_q[log p(x|z)] - KL in closed form: E||x - Wz - b||^2 = ||x - W mu - b||^2 + sum_jk W_jk^2 v_k."""
    with torch.no_grad():
        mu, logvar = enc(x)
    v = logvar.exp()
    sq = (x - mu @ W.T - b).square().sum(-1) + (W.square() @ v.T).sum(0)
    e_log_lik = -sq / (2 * S**2) - D * (math.log(S) + 0.5 * math.log(2 * math.pi))
    kl = 0.5 * (v + mu.square() - 1 - logvar).sum(-1)
    return e_log_lik - kl


def _mc_elbo(x: torch.Tensor, enc: VAEEncoder, dec: VAEDecoder, n: int = 20000) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard error over n one-draw estimates of elbo_terms, per row of x."""
    g = torch.Generator().manual_seed(0)
    xr = x.repeat_interleave(n, 0)
    eps = torch.randn(len(xr), L, generator=g, dtype=torch.float64)
    with torch.no_grad():
        e = elbo_terms(enc, dec, xr, eps)["elbo"].reshape(len(x), n)
    return e.mean(1), e.std(1) / math.sqrt(n)


def test_elbo_equals_log_likelihood_at_the_exact_posterior() -> None:
    dec, W, b = _linear_model()
    post_var = 1.0 / (1.0 + W.square().sum(0) / S**2)  # (L,): diagonal because W^T W is
    A = post_var[:, None] * W.T / S**2  # posterior mean = A (x - b)
    enc = _encoder(A, -A @ b, post_var.log())
    x = torch.randn(4, D, generator=torch.Generator().manual_seed(2), dtype=torch.float64) * 2
    exact = _exact_log_px(x, W, b)
    torch.testing.assert_close(_analytic_elbo(x, enc, W, b), exact, rtol=0, atol=1e-10)
    mean, se = _mc_elbo(x, enc, dec)
    assert bool(((mean - exact).abs() < 5 * se + 1e-9).all()), (mean, exact, se)


def test_elbo_is_a_lower_bound_for_other_encoders() -> None:
    dec, W, b = _linear_model()
    g = torch.Generator().manual_seed(4)
    x = torch.randn(4, D, generator=g, dtype=torch.float64) * 2
    exact = _exact_log_px(x, W, b)
    for _ in range(3):
        enc = _encoder(torch.randn(L, D, generator=g, dtype=torch.float64) * 0.3,
                       torch.randn(L, generator=g, dtype=torch.float64) * 0.3,
                       torch.randn(L, generator=g, dtype=torch.float64))
        analytic = _analytic_elbo(x, enc, W, b)
        assert bool((analytic < exact - 1e-6).all()), (analytic, exact)
        mean, se = _mc_elbo(x, enc, dec)  # the one-draw estimator is unbiased for the analytic ELBO
        assert bool(((mean - analytic).abs() < 5 * se).all()), (mean, analytic, se)


def test_importance_bound_is_exact_at_the_posterior_and_tighter_than_the_elbo() -> None:
    from gankit.models.vae import importance_log_likelihood

    dec, W, b = _linear_model()
    post_var = 1.0 / (1.0 + W.square().sum(0) / S**2)
    A = post_var[:, None] * W.T / S**2
    x = torch.randn(4, D, generator=torch.Generator().manual_seed(2), dtype=torch.float64) * 2
    exact = _exact_log_px(x, W, b)
    g = torch.Generator().manual_seed(0)
    # the true posterior as proposal: every importance weight equals p(x), even with K = 1
    iw = importance_log_likelihood(_encoder(A, -A @ b, post_var.log()), dec, x, k=1, generator=g)
    torch.testing.assert_close(iw, exact, rtol=0, atol=1e-9)
    # a poor encoder: with K = 2000 the estimate is far closer to log p(x) than the ELBO is
    # (it is a bound only in expectation: one estimate may overshoot log p(x) slightly)
    enc = _encoder(A * 0.8, -A @ b * 0.8 + 0.1, post_var.log() + 0.5)
    iw = importance_log_likelihood(enc, dec, x, k=2000, generator=g)
    elbo = _analytic_elbo(x, enc, W, b)
    assert bool((exact - elbo > 0.2).all())
    assert bool(((exact - iw).abs() < 0.1 * (exact - elbo)).all()), (elbo, iw, exact)
    # the importance-weighted estimate of p(x) itself is unbiased: average 50 estimates with K = 20
    ratio = torch.stack([(importance_log_likelihood(enc, dec, x, k=20, generator=g) - exact).exp()
                         for _ in range(50)])  # (50, 4)
    se = ratio.std(0) / math.sqrt(50)
    assert bool(((ratio.mean(0) - 1).abs() < 5 * se + 1e-12).all()), (ratio.mean(0), se)
