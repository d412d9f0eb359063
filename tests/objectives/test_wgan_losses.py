"""WGAN, WGAN-GP and hinge: losses on known outputs, gradient penalty against hand computation,
weight clipping, the critic-step schedule, spectral normalisation."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
import torch
from torch import nn

import gankit.objectives.wgan as wganmod
from gankit.config import ObjectiveConfig, RunConfig, apply_overrides
from gankit.errors import GankitError
from gankit.models import apply_spectral_norm
from gankit.models.mlp import MLPDiscriminator
from gankit.objectives import make_objective
from gankit.objectives.wgan import (
    WGAN,
    WGANGP,
    clip_weights_,
    critic_gradient_norms,
    gradient_penalty,
    hinge_discriminator_loss,
    hinge_generator_loss,
    interpolates,
    wasserstein_estimate,
    wgan_critic_loss,
    wgan_generator_loss,
)

REAL = torch.tensor([2.0, 0.5, -1.0, 3.0])
FAKE = torch.tensor([-2.0, 0.0, 1.5, -0.5])


@pytest.fixture(autouse=True)
def _one_thread():
    """One torch thread: on a loaded 2-core machine two OpenMP threads make small ops ~100x slower."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def test_wgan_losses_on_known_outputs():
    # E_P = 1.125, E_Q = -0.25
    assert float(wasserstein_estimate(REAL, FAKE)) == pytest.approx(1.375)
    assert float(wgan_critic_loss(REAL, FAKE)) == pytest.approx(-1.375)
    assert float(wgan_generator_loss(FAKE)) == pytest.approx(0.25)
    assert float(wgan_critic_loss(REAL[:, None], FAKE[:, None])) == pytest.approx(-1.375)


def test_hinge_losses_on_known_outputs():
    # relu(1 - real) = [0, .5, 2, 0] -> mean .625; relu(1 + fake) = [0, 1, 2.5, .5] -> mean 1.0
    assert float(hinge_discriminator_loss(REAL, FAKE)) == pytest.approx(1.625)
    assert float(hinge_generator_loss(FAKE)) == pytest.approx(0.25)
    # a discriminator with margin >= 1 on both sides has zero loss
    assert float(hinge_discriminator_loss(torch.tensor([1.0, 5.0]), torch.tensor([-1.0, -7.0]))) == 0.0


def test_registered_objectives_compose_the_pure_losses():
    D = nn.Linear(1, 1)
    with torch.no_grad():
        D.weight.fill_(1.0)
        D.bias.zero_()
    real, fake = REAL[:, None], FAKE[:, None]
    f = lambda x: D(x).squeeze(1)  # noqa: E731
    hinge = make_objective(ObjectiveConfig("hinge"))
    loss, _ = hinge.discriminator_loss(f, real, fake)
    assert float(loss.detach()) == pytest.approx(1.625)
    assert float(hinge.generator_loss(f, fake).detach()) == pytest.approx(0.25)
    wgan = make_objective(ObjectiveConfig("wgan", clip=0.05))
    loss, logs = wgan.discriminator_loss(f, real, fake)
    assert float(loss.detach()) == pytest.approx(-1.375) and float(logs["estimate"]) == pytest.approx(1.375)
    assert isinstance(wgan, WGAN) and wgan.clip == 0.05
    gp = make_objective(ObjectiveConfig("wgan-gp", gp_weight=3.0, gp_one_sided=True))
    assert isinstance(gp, WGANGP) and gp.weight == 3.0 and gp.one_sided


def test_gradient_penalty_of_a_linear_critic_is_closed_form():
    """D(x) = w·x + b has ‖∇D‖ = ‖w‖ at every interpolate: GP = (‖w‖ − 1)²."""
    torch.manual_seed(0)
    D = nn.Linear(3, 1)
    with torch.no_grad():
        D.weight.copy_(torch.tensor([[2.0, -1.0, 2.0]]))  # ‖w‖ = 3
    f = lambda x: D(x).squeeze(1)  # noqa: E731
    real, fake = torch.randn(16, 3), torch.randn(16, 3) + 2.0
    norms = critic_gradient_norms(f, interpolates(real, fake))
    assert torch.allclose(norms, torch.full((16,), 3.0))
    assert float(gradient_penalty(norms)) == pytest.approx(4.0)
    assert float(gradient_penalty(norms, one_sided=True)) == pytest.approx(4.0)
    loss, logs = WGANGP(10.0).discriminator_loss(f, real, fake)
    expected = float((f(fake).mean() - f(real).mean()).detach()) + 10.0 * 4.0
    assert float(loss.detach()) == pytest.approx(expected, rel=1e-6) and float(logs["gp"]) == pytest.approx(4.0)
    with torch.no_grad():
        D.weight.mul_(0.1)  # ‖w‖ = 0.3: one-sided penalty vanishes, two-sided is 0.49
    norms = critic_gradient_norms(f, interpolates(real, fake))
    assert float(gradient_penalty(norms)) == pytest.approx(0.49, rel=1e-5)
    assert float(gradient_penalty(norms, one_sided=True)) == 0.0


def test_gradient_penalty_of_a_quadratic_critic_matches_manual_computation():
    """D(x) = ½ xᵀAx has ∇D(x̂) = ½(A + Aᵀ)x̂; ε replayed from the same seed, norms in NumPy."""
    rng = np.random.default_rng(1)
    A = rng.normal(size=(4, 4))
    real, fake = rng.normal(size=(32, 4)), rng.normal(size=(32, 4)) * 2 + 1
    At = torch.tensor(A)
    f = lambda x: 0.5 * torch.einsum("bi,ij,bj->b", x, At, x)  # noqa: E731
    x_hat = interpolates(torch.tensor(real), torch.tensor(fake), torch.Generator().manual_seed(5))
    eps = torch.rand(32, 1, generator=torch.Generator().manual_seed(5), dtype=torch.float64).numpy()
    manual_hat = eps * real + (1 - eps) * fake
    assert np.allclose(x_hat.numpy(), manual_hat, rtol=0, atol=1e-12)
    manual_norms = np.linalg.norm(manual_hat @ (0.5 * (A + A.T)).T, axis=1)
    norms = critic_gradient_norms(f, x_hat)
    assert np.allclose(norms.numpy(), manual_norms, rtol=1e-12)
    assert float(gradient_penalty(norms)) == pytest.approx(np.mean((manual_norms - 1) ** 2), rel=1e-12)
    assert float(gradient_penalty(norms, True)) == pytest.approx(np.mean(np.maximum(manual_norms - 1, 0) ** 2),
                                                                 rel=1e-12)


def test_interpolation_weight_is_drawn_per_example_not_per_pixel():
    real, fake = torch.randn(6, 3, 4, 4), torch.randn(6, 3, 4, 4)
    x_hat = interpolates(real, fake, torch.Generator().manual_seed(0))
    eps = (x_hat - fake) / (real - fake)  # (6, 3, 4, 4): one value per example
    per_example = eps.reshape(6, -1)
    assert torch.allclose(per_example, per_example[:, :1].expand_as(per_example), atol=1e-4)
    assert per_example[:, 0].std() > 0.01  # and different across examples
    assert ((per_example >= 0) & (per_example <= 1)).all()


def test_gradient_penalty_is_differentiable_in_the_critic_parameters():
    D = MLPDiscriminator((2,), 8, 2)
    loss, _ = WGANGP(10.0).discriminator_loss(D, torch.randn(8, 2), torch.randn(8, 2))
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in D.parameters())


def test_weight_clipping_keeps_every_weight_in_range_after_training_steps():
    torch.manual_seed(0)
    D, c = MLPDiscriminator((2,), 16, 2), 0.01
    obj = WGAN(clip=c)
    opt = torch.optim.RMSprop(D.parameters(), lr=0.05)  # large steps push weights far out of range
    for _ in range(10):
        loss, _ = obj.discriminator_loss(D, torch.randn(64, 2), torch.randn(64, 2) + 3)
        opt.zero_grad()
        loss.backward()
        opt.step()
        assert max(float(p.detach().abs().max()) for p in D.parameters()) > c  # the optimiser did leave the box
        obj.after_discriminator_step(D)
        bound = torch.tensor(c)  # c rounded to float32, the weights' dtype
        for p in D.parameters():
            assert bool((p.abs() <= bound).all())
    assert any(bool((p.abs() == bound).any()) for p in D.parameters())  # some weights sit on the boundary
    clip_weights_(D, 0.001)
    assert all(bool((p.abs() <= torch.tensor(0.001)).all()) for p in D.parameters())


def test_wgan_warmup_schedule_matches_the_original_code():
    plain, warm = WGAN(), WGAN(warmup=True)
    assert [plain.critic_steps(s, 5) for s in (0, 24, 500)] == [5, 5, 5]
    assert [warm.critic_steps(s, 5) for s in (0, 24, 25, 499, 500, 501, 1000)] == [100, 100, 5, 5, 100, 5, 100]


def test_spectral_norm_gives_unit_top_singular_value_per_layer():
    torch.manual_seed(0)
    D = apply_spectral_norm(nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                                          nn.Unflatten(1, (1, 64)), nn.Conv1d(1, 4, 3), nn.Flatten(),
                                          nn.Linear(248, 1)))
    x = torch.randn(32, 2)
    for _ in range(30):  # each training forward pass is one power iteration
        D(x)
    layers = [m for m in D.modules() if hasattr(m, "parametrizations")]
    assert len(layers) == 4
    for m in layers:
        w = m.weight.detach().reshape(m.weight.shape[0], -1)  # conv: (out, in·k), as torch normalises it
        sigma = float(torch.linalg.matrix_norm(w, ord=2))
        assert sigma == pytest.approx(1.0, abs=1e-3)
        raw = m.parametrizations.weight.original.detach().reshape(w.shape)
        assert float(torch.linalg.matrix_norm(raw, ord=2)) != pytest.approx(1.0, abs=0.05)  # it did something


def test_spectrally_normalised_mlp_is_1_lipschitz():
    torch.manual_seed(1)
    D = apply_spectral_norm(MLPDiscriminator((2,), 32, 3, "leaky_relu"))
    for _ in range(30):
        D(torch.randn(16, 2))
    D.eval()
    norms = critic_gradient_norms(D, torch.randn(2000, 2) * 3)
    assert float(norms.max()) <= 1.0 + 1e-3
    assert apply_spectral_norm(D) is D  # applying twice does not stack parametrisations
    assert len(D.net[0].parametrizations.weight) == 1


@pytest.mark.parametrize("key, value, match", [
    ("objective.clip", 0.0, "objective.clip"),
    ("objective.clip", float("nan"), "objective.clip"),
    ("objective.gp_weight", -1.0, "objective.gp_weight"),
    ("objective.gp_one_sided", 1, "true or false"),
    ("model.spectral_norm", "yes", "true or false"),
])
def test_new_config_fields_are_validated(key, value, match):
    with pytest.raises(GankitError, match=match):
        apply_overrides(RunConfig(), {key: value})


def test_docstring_examples_run():
    assert doctest.testmod(wganmod, raise_on_error=True).attempted > 0
