"""The penalty on interpolates for any objective, the f-GAN objective's logged terms, and the defaults that train."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gankit.cli import main
from gankit.config import ObjectiveConfig, loads_toml
from gankit.divergences import get_divergence
from gankit.objectives import FGAN, WGANGP, make_objective
from gankit.objectives.fgan import FGAN_COMMON, fgan_defaults
from gankit.objectives.penalty import Regularized, critic_gradient_norms, gradient_penalty, interpolates


def _critic() -> nn.Module:
    torch.manual_seed(3)
    return nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1), nn.Flatten(0))


@pytest.mark.parametrize("one_sided", [False, True])
def test_gp_on_any_objective_is_the_wgan_gp_penalty(one_sided):
    D, real, fake = _critic(), torch.randn(32, 2), torch.randn(32, 2) * 3
    obj = make_objective(ObjectiveConfig("fgan:kl", gp_weight=2.5, gp_one_sided=one_sided))
    assert isinstance(obj, Regularized) and isinstance(obj.base, FGAN)
    torch.manual_seed(11)
    loss, logs = obj.discriminator_loss(D, real, fake)
    torch.manual_seed(11)  # the same ε: the penalty by hand
    want_gp = gradient_penalty(critic_gradient_norms(D, interpolates(real, fake)), one_sided)
    base_loss = obj.base.discriminator_loss(D, real, fake)[0]
    assert float(logs["gp"]) == pytest.approx(float(want_gp), rel=1e-6)
    assert float(loss.detach()) == pytest.approx(float((base_loss + 2.5 * want_gp).detach()), rel=1e-6)
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in D.parameters())


def test_one_sided_penalty_is_zero_for_a_critic_flatter_than_one():
    D = nn.Sequential(nn.Linear(2, 1), nn.Flatten(0))
    with torch.no_grad():
        D[0].weight.copy_(torch.tensor([[0.3, 0.4]]))  # ‖∇D‖ = 0.5 everywhere
    obj = make_objective(ObjectiveConfig("fgan:pearson", gp_weight=1.0, gp_one_sided=True))
    assert float(obj.discriminator_loss(D, torch.randn(8, 2), torch.randn(8, 2))[1]["gp"]) == 0.0
    two_sided = make_objective(ObjectiveConfig("fgan:pearson", gp_weight=1.0))
    assert float(two_sided.discriminator_loss(D, torch.randn(8, 2), torch.randn(8, 2))[1]["gp"]) \
        == pytest.approx(0.25, rel=1e-6)


def test_wgan_gp_is_penalised_once():
    obj = make_objective(ObjectiveConfig("wgan-gp", gp_weight=3.0))
    assert isinstance(obj, WGANGP) and obj.weight == 3.0  # not wrapped: no second penalty
    assert isinstance(make_objective(ObjectiveConfig("wgan-gp", gp_weight=3.0, r1=0.1)), Regularized)
    assert make_objective(ObjectiveConfig("wgan-gp", gp_weight=3.0, r1=0.1)).gp == 0.0


@pytest.mark.parametrize("name", ["kl", "reverse_kl", "neyman", "total_variation"])
def test_fgan_logs_its_two_terms_and_the_bound(name):
    D, real, fake = _critic(), torch.randn(16, 2), torch.randn(16, 2)
    div = get_divergence(name)
    loss, logs = FGAN(name).discriminator_loss(D, real, fake)
    with torch.no_grad():
        t_real = div.activation(D(real)).mean()
        conj = div.conjugate_activation(D(fake)).mean()
    assert float(logs["t_real"]) == pytest.approx(float(t_real), rel=1e-6)
    assert float(logs["conj_fake"]) == pytest.approx(float(conj), rel=1e-6)
    assert float(logs["estimate"]) == pytest.approx(float(t_real - conj), rel=1e-6, abs=1e-7)
    assert float(loss) == pytest.approx(-float(logs["estimate"]), rel=1e-6, abs=1e-7)


def test_fgan_generator_losses():
    D = nn.Identity()
    v = torch.tensor([0.5, -1.0])
    assert float(FGAN("kl").generator_loss(D, v)) == pytest.approx(-float(v.mean()))  # −E_Q[g_f(v)]
    want = -float((v - 1).exp().mean())  # −E_Q[f*(g_f(v))], f*(t) = e^{t−1}
    assert float(FGAN("kl", saturating=True).generator_loss(D, v)) == pytest.approx(want)


def test_every_fgan_gets_the_lipschitz_critic_by_default(capsys):
    assert FGAN_COMMON["objective.gp_weight"] > 0 and FGAN_COMMON["objective.gp_one_sided"] is True
    for name in ("kl", "neyman", "alpha:0.5"):
        assert fgan_defaults(name)["objective.gp_weight"] == FGAN_COMMON["objective.gp_weight"]
        assert main(["train", "--objective", f"fgan:{name}", "--print-config"]) == 0
        o = loads_toml(capsys.readouterr().out).objective
        assert (o.gp_weight, o.gp_one_sided) == (FGAN_COMMON["objective.gp_weight"], True)
    # the user's setting wins, even when it equals the library default
    assert main(["train", "--objective", "fgan:kl", "--set", "objective.gp_weight=0", "--print-config"]) == 0
    assert loads_toml(capsys.readouterr().out).objective.gp_weight == 0.0
    # the divergences whose critic needs a flatter slope on grid25 carry their own row
    for name in ("neyman", "pearson", "total_variation", "kl", "jeffrey"):
        assert main(["train", "--objective", f"fgan:{name}", "--print-config"]) == 0
        assert loads_toml(capsys.readouterr().out).objective.gp_target == 0.25
    assert main(["train", "--objective", "fgan:reverse_kl", "--print-config"]) == 0
    assert loads_toml(capsys.readouterr().out).objective.gp_target == 1.0
    # ns keeps no penalty on interpolates
    assert main(["train", "--print-config"]) == 0
    assert loads_toml(capsys.readouterr().out).objective.gp_weight == 0.0


def test_penalised_fgan_bound_stays_finite_where_supports_are_disjoint():
    """Data at x = 5 and fakes at x = −5: an unpenalised KL critic's bound grows without limit (KL = ∞).

    With the one-sided penalty λ·E max(0, ‖∇T‖ − 1)² on the segment between them, a critic of slope s
    gains 10·s in E_P[T] − E_Q[e^{T−1}] (at its best, T = 1 on the fakes) and pays λ(s − 1)²: the optimum is
    s = 1 + 10/(2λ), a bound of 10·s = 15 for λ = 10 (a closed form of the (f, Γ)-divergence with a soft
    Lipschitz constraint)."""
    def fit(gp: float) -> float:
        torch.manual_seed(0)
        D = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1), nn.Flatten(0))
        obj = make_objective(ObjectiveConfig("fgan:kl", gp_weight=gp, gp_one_sided=True))
        opt = torch.optim.Adam(D.parameters(), lr=1e-2)
        real, fake = torch.full((64, 1), 5.0) + 0.01 * torch.randn(64, 1), torch.full((64, 1), -5.0)
        for _ in range(400):
            loss, logs = obj.discriminator_loss(D, real, fake)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return float(logs["estimate"])

    free, lipschitz = fit(0.0), fit(10.0)
    assert not math.isfinite(free) or free > 30  # the bound runs away
    assert lipschitz == pytest.approx(15.0, rel=0.1)


def test_gp_target_divides_the_norm_as_tf_gan_does():
    norms = torch.tensor([0.0, 3.0])
    # TF-GAN's wasserstein_gradient_penalty: (‖g‖/target − 1)²
    assert float(gradient_penalty(norms, target=2.0)) == pytest.approx(((0 - 1) ** 2 + (1.5 - 1) ** 2) / 2)
    assert float(gradient_penalty(norms, one_sided=True, target=2.0)) == pytest.approx(0.25 / 2)
    D = nn.Sequential(nn.Linear(2, 1), nn.Flatten(0))
    with torch.no_grad():
        D[0].weight.copy_(torch.tensor([[0.3, 0.4]]))  # slope 0.5
    for target, want in ((0.5, 0.0), (0.25, 1.0)):
        obj = make_objective(ObjectiveConfig("fgan:total_variation", gp_weight=1.0, gp_one_sided=True,
                                             gp_target=target))
        assert obj.gp_target == target
        gp = obj.discriminator_loss(D, torch.randn(8, 2), torch.randn(8, 2))[1]["gp"]
        assert float(gp) == pytest.approx(want, abs=1e-6)
    assert make_objective(ObjectiveConfig("wgan-gp", gp_weight=1.0, gp_target=0.5)).target == 0.5
