"""f-GAN losses: GAN reduces to cross-entropy; the bound at the optimal critic is the divergence."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from gankit.data.toy import parse_mixture
from gankit.divergences import divergence, divergence_names, get_divergence
from gankit.objectives import (
    fgan_discriminator_loss,
    fgan_generator_loss,
    fgan_nonsaturating_generator_loss,
    variational_bound,
)

ALL = divergence_names() + ["alpha:0.5", "alpha:3", "alpha:-1"]


def test_gan_row_is_binary_cross_entropy():
    g = torch.Generator().manual_seed(0)
    real, fake = 3 * torch.randn(64, 1, generator=g), 3 * torch.randn(64, 1, generator=g)
    bce = F.binary_cross_entropy_with_logits
    d = bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake))
    assert torch.allclose(fgan_discriminator_loss("gan", real, fake), d, atol=1e-6)
    assert torch.allclose(fgan_nonsaturating_generator_loss("gan", fake), bce(fake, torch.ones_like(fake)), atol=1e-6)
    assert torch.allclose(fgan_generator_loss("gan", fake), -bce(fake, torch.zeros_like(fake)), atol=1e-6)


@pytest.mark.parametrize("name", ALL)
def test_losses_are_consistent_and_differentiable(name):
    v_real = torch.linspace(-50, 50, 11, dtype=torch.float64, requires_grad=True)
    v_fake = torch.linspace(-50, 50, 7, dtype=torch.float64, requires_grad=True)
    d_loss = fgan_discriminator_loss(name, v_real, v_fake)
    g_loss = fgan_generator_loss(name, v_fake)
    g_loss_ns = fgan_nonsaturating_generator_loss(name, v_fake)
    assert torch.allclose(d_loss, -variational_bound(name, v_real, v_fake))
    # the bound's Q term is the saturating generator loss: F = E_P[g_f(v)] + g_loss
    e_p = get_divergence(name).activation(v_real).mean()
    assert torch.allclose(variational_bound(name, v_real, v_fake), e_p + g_loss)
    (d_loss + g_loss + g_loss_ns).backward()
    assert torch.isfinite(v_real.grad).all() and torch.isfinite(v_fake.grad).all()


@pytest.mark.parametrize("name, v_star", [("gan", lambda r: r), ("kl", lambda r: 1 + r), ("js", lambda r: r)])
def test_monte_carlo_bound_at_optimal_logits(name, v_star):
    # v* = g_f^{-1}(f'(p/q)) as a function of r = log p − log q
    p, q = parse_mixture("0.5*N(-1,0.7) + 0.5*N(1,0.7)"), parse_mixture("N(0,1.2)")
    g = torch.Generator().manual_seed(3)
    xp, xq = p.sample(20_000, g).double(), q.sample(20_000, g).double()
    r = lambda x: p.log_prob(x) - q.log_prob(x)  # noqa: E731
    est = float(variational_bound(name, v_star(r(xp)), v_star(r(xq))))
    assert abs(est - divergence(name, p, q).value) < 0.02
    assert math.isfinite(est)
