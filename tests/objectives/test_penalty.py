"""R1/R2 zero-centred gradient penalties against closed-form gradients."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gankit.config import ObjectiveConfig, RunConfig, apply_overrides
from gankit.errors import GankitError
from gankit.models.pack import Packed
from gankit.objectives import make_objective
from gankit.objectives.penalty import Regularized, gradient_penalty_zero_centred


def test_linear_discriminator_penalty_is_squared_weight_norm():
    lin = nn.Linear(3, 1)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, -2.0, 2.0]]))
    D = lambda x: lin(x).squeeze(1)  # noqa: E731
    assert float(gradient_penalty_zero_centred(D, torch.randn(7, 3)).detach()) == pytest.approx(9.0, rel=1e-6)


def test_quadratic_discriminator_penalty_matches_closed_form():
    # l(x) = ‖x‖² → ∇l = 2x → E‖∇l‖² = 4·mean ‖x‖²
    x = torch.randn(50, 2, dtype=torch.float64)
    got = gradient_penalty_zero_centred(lambda t: t.pow(2).sum(1), x)
    assert float(got.detach()) == pytest.approx(float(4 * x.pow(2).sum(1).mean()), rel=1e-12)


def test_packed_penalty_sums_within_a_pack():
    # packed l(x1, x2) = ‖x1‖² + ‖x2‖² → squared gradient norm per pack = 4(‖x1‖² + ‖x2‖²)
    D = Packed(lambda t: t.pow(2).sum(1), 2)
    x = torch.randn(6, 2, dtype=torch.float64)
    want = 4 * x.pow(2).sum(1).view(3, 2).sum(1).mean()
    assert float(gradient_penalty_zero_centred(D, x).detach()) == pytest.approx(float(want), rel=1e-12)


def test_regularized_adds_half_gamma_times_penalty_and_is_differentiable():
    torch.manual_seed(0)
    D = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Flatten(0))
    real, fake = torch.randn(16, 2), torch.randn(16, 2)
    base = make_objective(ObjectiveConfig("ns"))
    reg = Regularized(base, r1=2.0, r2=0.5)
    loss, logs = reg.discriminator_loss(D, real, fake)
    want = base.discriminator_loss(D, real, fake)[0] + 1.0 * gradient_penalty_zero_centred(D, real) \
        + 0.25 * gradient_penalty_zero_centred(D, fake)
    assert float(loss.detach()) == pytest.approx(float(want.detach()), rel=1e-6)
    assert set(logs) >= {"r1", "r2"}
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in D.parameters())
    assert float(reg.generator_loss(D, fake).detach()) == pytest.approx(float(base.generator_loss(D, fake).detach()))


def test_penalty_config_validation():
    assert apply_overrides(RunConfig(), ["objective.r1=10"]).objective.r1 == 10.0
    with pytest.raises(GankitError, match="objective.r1"):
        apply_overrides(RunConfig(), ["objective.r1=-1"])


@pytest.mark.parametrize("d_steps", [1, 3])
def test_lazy_r1_penalises_every_nth_d_step_weighted_n_times(d_steps):
    torch.manual_seed(1)
    D = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Flatten(0))
    real, fake = torch.randn(16, 2), torch.randn(16, 2)
    base = make_objective(ObjectiveConfig("ns"))
    lazy = Regularized(base, r1=2.0, r2=0.5, r1_every=4)
    plain = base.discriminator_loss(D, real, fake)[0]
    full = plain + 4 * (1.0 * gradient_penalty_zero_centred(D, real) + 0.25 * gradient_penalty_zero_centred(D, fake))
    penalised = []
    for step in range(6):
        for i in range(lazy.critic_steps(step, d_steps)):
            loss, logs = lazy.discriminator_loss(D, real, fake)
            want = full if "r1" in logs else plain
            assert float(loss.detach()) == pytest.approx(float(want.detach()), rel=1e-6)
            assert ("r1" in logs) == ("r2" in logs)
            if "r1" in logs:
                penalised.append(step * d_steps + i)
    assert penalised == [k for k in range(6 * d_steps) if k % 4 == 0]


def test_lazy_r1_counts_from_the_generator_step_as_a_resumed_run_does():
    D = nn.Sequential(nn.Linear(2, 1), nn.Flatten(0))
    x = torch.randn(8, 2)
    fresh = Regularized(make_objective(ObjectiveConfig("ns")), r1=1.0, r1_every=3)
    fresh.critic_steps(7, 1)  # a run resumed at generator step 7: D-step 7 is not a multiple of 3
    assert "r1" not in fresh.discriminator_loss(D, x, x)[1]
    fresh.critic_steps(9, 1)
    assert "r1" in fresh.discriminator_loss(D, x, x)[1]
    assert make_objective(apply_overrides(RunConfig(), ["objective.r1=0.1", "objective.r1_every=8"]).objective) \
        .r1_every == 8
    with pytest.raises(GankitError, match="objective.r1_every"):
        apply_overrides(RunConfig(), ["objective.r1_every=0"])
