import math

import pytest
import torch

from gankit.config import ObjectiveConfig
from gankit.objectives import (
    gan_value,
    make_objective,
    minimax_discriminator_loss,
    minimax_generator_loss,
    nonsaturating_generator_loss,
)
from gankit.registry import OBJECTIVES


def naive(real, fake):
    d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake)
    v = torch.log(d_real).mean() + torch.log(1 - d_fake).mean()
    return v, torch.log(1 - d_fake).mean(), -torch.log(d_fake).mean()


def test_losses_equal_the_formulas_of_the_paper():
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(64, generator=g, dtype=torch.float64), torch.randn(64, generator=g, dtype=torch.float64)
    v, sat, ns = naive(real, fake)
    assert torch.allclose(gan_value(real, fake), v, atol=1e-12)
    assert torch.allclose(minimax_discriminator_loss(real, fake), -v, atol=1e-12)
    assert torch.allclose(minimax_generator_loss(fake), sat, atol=1e-12)
    assert torch.allclose(nonsaturating_generator_loss(fake), ns, atol=1e-12)


def test_losses_are_stable_for_extreme_logits():
    big = torch.tensor([-1e4, -100.0, 0.0, 100.0, 1e4], requires_grad=True)
    for loss in (minimax_discriminator_loss(big, big), minimax_generator_loss(big), nonsaturating_generator_loss(big)):
        loss.backward()
        assert torch.isfinite(loss)
        assert torch.isfinite(big.grad).all()
        big.grad = None


def test_value_at_the_optimum_is_minus_log_4():
    # D = 1/2 everywhere (p_g = p_data): V = -log 4
    assert float(gan_value(torch.zeros(10), torch.zeros(10))) == pytest.approx(-math.log(4))


def test_saturating_loss_gradient_vanishes_when_d_rejects_fakes():
    fake = torch.tensor([-10.0], requires_grad=True)
    minimax_generator_loss(fake).backward()
    sat = float(fake.grad.abs())
    fake.grad = None
    nonsaturating_generator_loss(fake).backward()
    assert sat < 1e-4 < float(fake.grad.abs())


@pytest.mark.parametrize("name", [e.name for e in OBJECTIVES.entries() if not e.family] + ["fgan:kl", "fgan:js"])
def test_every_objective_gives_finite_losses_and_gradients(name):
    from gankit.models.mlp import MLPDiscriminator

    torch.manual_seed(0)
    D = MLPDiscriminator((2,), 16, 2)
    obj = make_objective(ObjectiveConfig(name=name))
    real, fake = torch.randn(32, 2), torch.randn(32, 2, requires_grad=True)
    d_loss, logs = obj.discriminator_loss(D, real, fake.detach())
    d_loss.backward()
    assert torch.isfinite(d_loss)
    assert all(torch.isfinite(p.grad).all() for p in D.parameters())
    g_loss = obj.generator_loss(D, fake)
    g_loss.backward()
    assert torch.isfinite(g_loss) and torch.isfinite(fake.grad).all()
    assert all(torch.isfinite(v) for v in logs.values())
