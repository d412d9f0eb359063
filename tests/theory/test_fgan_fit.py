"""f-GAN section 4: the learned Gaussian matches the exact minimiser of the same D_f(P‖Q)."""

from __future__ import annotations

import math

import pytest
import torch

from gankit.data.toy import parse_mixture
from gankit.divergences import divergence, get_divergence, kl_gaussians, tv_mixtures
from gankit.errors import GankitError
from gankit.theory._nets import ExpTailCritic, SineCritic, StandardisedMLP, make_critic
from gankit.theory.fgan_fit import (
    DEFAULT_TARGET,
    exact_fit,
    fgan_fit,
    fit_table,
    gaussian,
    quadrature_bound,
    starts,
    train_gaussian,
)

TOL = 0.05  # |μ̂ − μ*| and |σ̂ − σ*|


def test_exact_fit_of_kl_is_moment_matching():
    p = parse_mixture(DEFAULT_TARGET)
    mu, sigma, note = exact_fit("kl", p)
    var = float((p.weights * (p.stds**2 + p.means**2)).sum()) - p.mean() ** 2
    assert note == ""
    assert mu == pytest.approx(p.mean(), abs=1e-4)
    assert sigma == pytest.approx(math.sqrt(var), abs=1e-4)


def test_exact_fit_of_a_gaussian_target_is_the_target():
    p = parse_mixture("N(1.5,0.7)")
    for name in ("reverse_kl", "hellinger", "js"):
        mu, sigma, _ = exact_fit(name, p)
        assert (mu, sigma) == pytest.approx((1.5, 0.7), abs=1e-4)
    assert kl_gaussians(1.5, 0.7, 1.5, 0.7) == 0.0


def test_exact_fit_is_a_minimum_by_quadrature():
    p = parse_mixture(DEFAULT_TARGET)
    mu, sigma, _ = exact_fit("reverse_kl", p)
    best = divergence("reverse_kl", p, gaussian(mu, sigma)).value
    for dm, ds in ((0.05, 0), (-0.05, 0), (0, 0.05), (0, -0.05)):
        assert divergence("reverse_kl", p, gaussian(mu + dm, sigma + ds)).value > best


def test_exact_fit_near_the_edge_integrates_the_whole_tail():
    # Neyman: the optimum σ* ≈ 0.931 sits at 94 % of the edge √2·0.7 where ∫q²/p becomes infinite;
    # the integrand decays like exp(−0.1·x²), and a fixed ±9σ grid would put σ* at 0.939
    p = parse_mixture("0.2*N(-3,0.4) + 0.5*N(0,0.7) + 0.3*N(2.5,0.5)")
    mu, sigma, _ = exact_fit("neyman", p)
    best = divergence("neyman", p, gaussian(mu, sigma)).value  # QUADPACK on the whole line
    for dm, ds in ((0.004, 0), (-0.004, 0), (0, 0.004), (0, -0.004)):
        assert divergence("neyman", p, gaussian(mu + dm, sigma + ds)).value > best


@pytest.mark.parametrize(("name", "target", "steps"), [
    ("reverse_kl", DEFAULT_TARGET, 600),
    ("total_variation", DEFAULT_TARGET, 600),  # a plain MLP critic misses by 1.06 (tanh saturates)
    ("jeffrey", "0.5*N(-1.5,0.6) + 0.5*N(1.5,0.8)", 1500),  # a plain MLP critic misses by 0.082
])
def test_fgan_learns_the_exact_optimum_reduced(name, target, steps):
    (row,) = fit_table(target, name, steps=steps, explore=0)
    assert row.error <= TOL, row
    # the bound reached is a lower bound on the divergence at the learned Gaussian
    assert row.bound <= row.d_f_learned + 1e-4
    assert row.d_f_star <= row.d_f_learned + 1e-9


def test_exact_tv_optimum_is_a_minimum():
    p = parse_mixture(DEFAULT_TARGET)
    mu, sigma, _ = exact_fit("total_variation", p)
    best = tv_mixtures(p, gaussian(mu, sigma))
    assert best == pytest.approx(divergence("total_variation", p, gaussian(mu, sigma)).value, abs=1e-10)
    for dm, ds in ((0.01, 0), (-0.01, 0), (0, 0.01), (0, -0.01), (0.01, -0.01), (-0.01, 0.01)):
        assert tv_mixtures(p, gaussian(mu + dm, sigma + ds)) > best


def test_critic_heads():
    x = torch.linspace(-50, 50, 101)
    sine = make_critic("sine", 0.0, 1.0)
    assert isinstance(sine, SineCritic) and sine(x).abs().max() <= sine.c
    exp = make_critic("exp", 0.0, 1.0)
    assert isinstance(exp, ExpTailCritic) and exp(x).shape == (101,)
    quad = make_critic("quadratic", 0.0, 1.0)
    assert isinstance(quad, StandardisedMLP) and quad.skip is not None
    with torch.no_grad():  # the quadratic skip lets V grow like x² where tanh units are flat
        quad.skip.weight.copy_(torch.tensor([[0.0, -1.0]]))
        assert float(quad(torch.tensor([40.0]))) < -1000
    with pytest.raises(GankitError, match="unknown critic head 'relu'"):
        make_critic("relu", 0.0, 1.0)
    with pytest.raises(GankitError, match="head must be one of"):
        train_gaussian("kl", parse_mixture(DEFAULT_TARGET), head="relu", steps=1)


def test_starts_off_target_then_heaviest_components():
    p = parse_mixture("0.2*N(-3,0.4) + 0.5*N(0,0.7) + 0.3*N(2.5,0.5)")
    xs = starts(p)
    assert xs[1:] == [(0.0, 0.7), (2.5, 0.5), (-3.0, 0.4)]
    assert xs[0][0] < p.mean() and xs[0][1] > 0
    assert len(starts(parse_mixture("N(1,2)"))) == 1


def test_exploration_finds_the_heavier_mode():
    # well separated: from the off-target start alone js settled on a wide local optimum
    # (error 1.63); the short runs from each start pick the basin by their own bound
    p = parse_mixture("0.75*N(-3,1) + 0.25*N(3,1)")
    mu_s, sigma_s, _ = exact_fit("js", p)
    mu, sigma, bound = fgan_fit("js", p, steps=300, explore=150)
    assert max(abs(mu - mu_s), abs(sigma - sigma_s)) <= TOL
    assert bound <= divergence("js", p, gaussian(mu, sigma)).value + 1e-4


def test_unknown_divergence_fails_before_any_work():
    with pytest.raises(GankitError, match="unknown divergence 'nope'"):
        fit_table(DEFAULT_TARGET, ["kl", "nope"])


#: rows f-GAN does not bring within TOL (benchmarks/fgan_fit_targets.py, docs/theory.md): none
#: on these two targets. Rows that miss must be flagged, never reported as agreeing.
KNOWN_MISSES = {DEFAULT_TARGET: set(), "0.5*N(-1.5,0.6) + 0.5*N(1.5,0.8)": set()}


@pytest.mark.slow
@pytest.mark.parametrize("target", list(KNOWN_MISSES))
def test_fgan_fit_all_divergences(target):
    rows = fit_table(target, "all")
    for r in rows:
        assert ("NOT converged" in r.note) == (not r.error <= TOL), r
    assert {r.divergence for r in rows if not r.error <= TOL} == KNOWN_MISSES[target], rows


def test_heavy_tailed_target_stays_finite():
    # P's tails heavier than Q's: Jeffrey's critic reaches T ≈ log(p/q) ≈ 90 on the grid and
    # f*(T) ≈ e^T overflows float32 (NaN within 20 steps) unless the sums are in float64
    p = parse_mixture("0.9*N(0,1) + 0.1*N(2,3)")
    mu, sigma, bound = train_gaussian("jeffrey", p, init=(0.0, 1.0), steps=60)
    assert math.isfinite(mu) and math.isfinite(sigma) and math.isfinite(bound)


def test_minibatch_training_runs_and_moves_towards_the_optimum():
    p = parse_mixture(DEFAULT_TARGET)
    mu, sigma, bound = train_gaussian("kl", p, expectation="samples", steps=60, batch_size=256)
    start = (p.mean() - 0.5 * 1.6325, 0.5 * 1.6325)  # the deliberately-off start
    assert math.isfinite(bound)
    assert abs(sigma - 1.6325) < abs(start[1] - 1.6325)  # σ grows towards σ* = std(P)
    with pytest.raises(GankitError, match="expectation must be grid or samples"):
        train_gaussian("kl", p, expectation="mc")


def test_bound_of_a_steep_exp_critic_is_finite():
    # Jeffrey's critic a − exp(b) with b ≈ 5z² far out: exp(b) overflows float32 there, and
    # p·(−inf) − q·f*(−inf) would make the bound NaN (target 3 of benchmarks/fgan_fit_targets.py)
    V = make_critic("exp", 0.0, 1.0)
    with torch.no_grad():
        V.b.skip.weight.copy_(torch.tensor([[0.0, 5.0]]))
    p = parse_mixture("0.5*N(-1,1) + 0.5*N(1,1)")
    b = quadrature_bound(get_divergence("jeffrey"), p, V, 0.0, 1.0)
    assert math.isfinite(b) and b < 0


def test_rows_say_when_a_minibatch_cannot_estimate_the_game_at_the_optimum():
    # Pearson on 0.9*N(0,1) + 0.1*N(2,3): σ* = 2.32 < 2.45 (∫p³/q² = ∞) and < 2.60 (∫p⁴/q³ = ∞)
    (row,) = fit_table("0.9*N(0,1) + 0.1*N(2,3)", "pearson", steps=20, explore=0)
    assert "E_P[T*^2] and E_Q[f*(T*)^2] = inf" in row.note and row.sigma_star < 2.45
    (row,) = fit_table(DEFAULT_TARGET, "pearson", steps=20, explore=0)
    assert "= inf" not in row.note
