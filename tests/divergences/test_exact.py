"""Exact divergences between 1-D mixtures: quadrature vs closed forms, Monte Carlo, the bound."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate

from gankit.data.toy import Mixture1D, parse_mixture
from gankit.divergences import (
    alpha_gaussians,
    divergence,
    divergence_names,
    divergence_table,
    get_divergence,
    hellinger_gaussians,
    is_finite,
    kl_gaussians,
    monte_carlo_divergence,
    neyman_gaussians,
    pearson_gaussians,
    perspective,
    tv_gaussians_equal_std,
)

ALL = divergence_names() + ["alpha:0.5", "alpha:3", "alpha:-1"]
# widest components of equal std, so every divergence (χ² and α ∉ [0, 1] included) is finite
P = parse_mixture("0.4*N(-1,0.8) + 0.6*N(1,1)")
Q = parse_mixture("0.5*N(-0.5,1) + 0.5*N(1.5,0.9)")


@pytest.mark.parametrize("name", ALL)
def test_nonnegative_and_zero_on_equal(name):
    floor = get_divergence(name).f_at_1  # D_f(P‖P) = f(1): 0, or −log 4 for gan
    same = divergence(name, P, P)
    assert abs(same.value - floor) < 1e-9 and same.abs_error < 1e-8
    d = divergence(name, P, Q)
    assert math.isfinite(d.value) and d.value > floor + 1e-3 and d.abs_error < 1e-7 * (1 + abs(d.value))


G = [(0.0, 1.0, 1.0, 1.5), (-1.0, 0.7, 2.0, 0.6), (0.5, 2.0, 0.0, 1.9)]  # (m1, s1, m2, s2)
CLOSED = {
    "kl": kl_gaussians,
    "reverse_kl": lambda m1, s1, m2, s2: kl_gaussians(m2, s2, m1, s1),
    "jeffrey": lambda m1, s1, m2, s2: kl_gaussians(m1, s1, m2, s2) + kl_gaussians(m2, s2, m1, s1),
    "hellinger": hellinger_gaussians,
    "pearson": pearson_gaussians,
    "neyman": neyman_gaussians,
    "alpha:0.5": lambda *a: alpha_gaussians(0.5, *a),
    "alpha:3": lambda *a: alpha_gaussians(3.0, *a),
    "alpha:-1": lambda *a: alpha_gaussians(-1.0, *a),
}


@pytest.mark.parametrize("name", sorted(CLOSED))
def test_quadrature_matches_closed_form(name):
    for m1, s1, m2, s2 in G:
        p, q = Mixture1D([1.0], [m1], [s1]), Mixture1D([1.0], [m2], [s2])
        exact, quad = CLOSED[name](m1, s1, m2, s2), divergence(name, p, q).value
        assert (exact == quad == math.inf) or abs(quad - exact) <= 1e-8 * (1 + abs(exact)), (name, exact, quad)


def test_total_variation_equal_std_closed_form():
    for dm, s in [(0.3, 1.0), (2.0, 0.5), (5.0, 2.0)]:
        d = divergence("total_variation", Mixture1D([1.0], [0.0], [s]), Mixture1D([1.0], [dm], [s]))
        assert abs(d.value - tv_gaussians_equal_std(0.0, dm, s)) < 1e-9


def test_infinite_divergences_reported_as_inf():
    p, q = parse_mixture("N(0,1)"), parse_mixture("N(0,0.6)")  # 2·0.36 < 1: ∫p²/q diverges
    assert pearson_gaussians(0, 1, 0, 0.6) == math.inf
    assert not is_finite("pearson", p, q) and divergence("pearson", p, q).value == math.inf
    assert divergence("neyman", q, p).value == math.inf
    assert divergence("pearson", p, parse_mixture(f"N(0,{math.sqrt(0.5)!r})")).value == math.inf  # the boundary
    assert math.isfinite(divergence("pearson", q, p).value)
    assert monte_carlo_divergence("pearson", p, q, 100).value == math.inf
    rows = divergence_table(p, q)
    assert [r["name"] for r in rows] == divergence_names()
    values = {r["name"]: r["value"] for r in rows}
    assert values["pearson"] == math.inf and math.isfinite(values["kl"]) and values["kl"] > 0


def test_gan_is_two_js_minus_log4_on_random_mixtures():
    rng = np.random.default_rng(0)
    for _ in range(3):
        mixes = []
        for _ in range(2):
            k = int(rng.integers(1, 4))
            mixes.append(Mixture1D(rng.dirichlet(np.ones(k)), rng.normal(0, 2, k), rng.uniform(0.3, 2.0, k)))
        js, gan = divergence("js", *mixes).value, divergence("gan", *mixes).value
        assert abs(gan - (2 * js - math.log(4))) < 1e-9
        assert 0 <= js <= math.log(2)


@pytest.mark.parametrize("name", ALL)
def test_monte_carlo_agrees_with_quadrature(name):
    mc = monte_carlo_divergence(name, P, Q, 20_000, torch.Generator().manual_seed(1))
    exact = divergence(name, P, Q).value
    assert mc.n == 20_000 and mc.stderr > 0
    assert abs(mc.value - exact) <= 4 * mc.stderr, (name, mc, exact)


@pytest.mark.parametrize("name", ALL)
def test_bound_at_optimal_critic_equals_divergence(name):
    div = get_divergence(name)

    def bound(x: float) -> float:  # p T* − q f*(T*), T* = f'(p/q)
        p, q = float(P.pdf(np.array(x))), float(Q.pdf(np.array(x)))
        t = div.f_prime(p / q)
        return p * t - q * div.conjugate(t)

    lo, hi = P.support(1 - 1e-13)
    lo, hi = min(lo, Q.support(1 - 1e-13)[0]), max(hi, Q.support(1 - 1e-13)[1])
    value, _ = integrate.quad(bound, lo, hi, epsabs=1e-12, epsrel=1e-10, limit=400,
                              points=[-1.0, 0.0, 1.0, 1.5])
    assert abs(value - divergence(name, P, Q).value) < 1e-7


@pytest.mark.parametrize("name", ALL)
def test_perspective_is_q_f_of_ratio(name):
    div = get_divergence(name)
    lp, lq = np.linspace(-6, 1, 15), np.linspace(1, -6, 15)
    naive = np.exp(lq) * div.f(np.exp(lp - lq))
    assert np.allclose(perspective(div, lp, lq), naive, rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("pq", [("0.3*N(-2,0.5) + 0.7*N(1,1)", "N(0.5,1.4)"),
                                ("0.2*N(-3,0.4) + 0.5*N(0,0.7) + 0.3*N(2.5,0.5)", "N(0.3,1.2)"),
                                ("N(0,1)", "N(0,3)")])
def test_tv_from_crossings_matches_quadrature(pq):
    from gankit.divergences import tv_mixtures

    p, q = parse_mixture(pq[0]), parse_mixture(pq[1])
    assert tv_mixtures(p, q) == pytest.approx(divergence("total_variation", p, q).value, abs=1e-10)
    assert tv_mixtures(q, p) == pytest.approx(tv_mixtures(p, q), abs=1e-12)


def test_tv_from_crossings_matches_closed_form():
    from gankit.divergences import tv_gaussians_equal_std, tv_mixtures

    for m, s in ((0.3, 1.0), (2.0, 0.5), (5.0, 2.0)):
        p, q = parse_mixture(f"N(0,{s})"), parse_mixture(f"N({m},{s})")
        assert tv_mixtures(p, q) == pytest.approx(tv_gaussians_equal_std(0.0, m, s), abs=1e-13)
    p = parse_mixture("N(0,1)")
    assert tv_mixtures(p, p) == 0.0


# growth of T* = f'(u) and f*(T*) = u f'(u) − f(u), derived by hand from each f:
# (k at u → ∞, k at u → 0); 0 = bounded or logarithmic
GROWTH = {
    "kl": {"T": (0, 0), "f*(T)": (1, 0)},  # log u + 1; u
    "reverse_kl": {"T": (0, -1), "f*(T)": (0, 0)},  # −1/u; log u − 1
    "pearson": {"T": (1, 0), "f*(T)": (2, 0)},  # 2(u − 1); u² − 1
    "neyman": {"T": (0, -2), "f*(T)": (0, -1)},  # 1 − 1/u²; 2 − 2/u
    "hellinger": {"T": (0, -0.5), "f*(T)": (0.5, 0)},  # 1 − u^{−½}; √u − 1
    "jeffrey": {"T": (0, -1), "f*(T)": (1, 0)},  # log u + 1 − 1/u; u − 1 + log u
    "js": {"T": (0, 0), "f*(T)": (0, 0)},  # ½ log(2u/(u + 1)); ½ log((u + 1)/2)
    "gan": {"T": (0, 0), "f*(T)": (0, 0)},  # log(u/(u + 1)); log(u + 1)
    "total_variation": {"T": (0, 0), "f*(T)": (0, 0)},  # ½ sign(u − 1); f*(t) = t on [−½, ½]
    "alpha:3": {"T": (2, 0), "f*(T)": (3, 0)},  # (u^{α−1} − 1)/(α − 1); (u^α − 1)/α
    "alpha:-1": {"T": (0, -2), "f*(T)": (0, -1)},
    "alpha:0.25": {"T": (0, -0.75), "f*(T)": (0.25, 0)},
}


@pytest.mark.parametrize("name", list(GROWTH))
def test_growth_exponents_match_the_hand_derivation(name):
    from gankit.divergences import growth_exponents

    assert growth_exponents(name) == {k: tuple(float(x) for x in v) for k, v in GROWTH[name].items()}
    assert set(divergence_names()) <= set(GROWTH)  # every registered row is covered


def _truncated_moments(name, p, q, L):
    """∫ p T*² and ∫ q f*(T*)² over [−L, L] by the trapezoid rule, where |log(p/q)| < 600 (no overflow)."""
    div = get_divergence(name)
    x = np.linspace(-L, L, 400_001)
    lp, lq = p.log_pdf(x), q.log_pdf(x)
    keep = np.abs(lp - lq) < 600
    x, lp, lq = x[keep], lp[keep], lq[keep]
    r = torch.tensor(np.exp(lp - lq))
    t = div.f_prime(r).numpy()
    g = (r * div.f_prime(r) - div.f(r)).numpy()
    with np.errstate(over="ignore", divide="ignore"):  # the products in log space: no 0·inf
        out = (np.trapezoid(np.exp(lp + 2 * np.log(np.abs(t))), x),
               np.trapezoid(np.exp(lq + 2 * np.log(np.abs(g))), x))
    return tuple(v if np.isfinite(v) else math.inf for v in out)


@pytest.mark.parametrize("name,p,q,L,expected", [
    ("pearson", "N(0,1)", "N(0,1.2)", 20, (True, True)),
    ("pearson", "N(0,1)", "N(0,0.84)", 20, (True, False)),  # ∫p³/q² < ∞ iff σ > 0.816, ∫p⁴/q³ iff σ > 0.866
    ("pearson", "N(0,1)", "N(0,0.7)", 10, (False, False)),
    ("pearson", "N(1,1)", "N(0,1)", 20, (True, True)),  # equal widths: r = e^{x − ½} on both tails
    ("pearson", "0.9*N(0,1) + 0.1*N(2,3)", "N(0.1,2.3227)", 20, (False, False)),  # fgan-fit target 7's optimum
    ("neyman", "N(0,0.7)", "N(0,0.83)", 20, (False, True)),  # ∫q⁴/p³ < ∞ iff σ < 0.808, ∫q³/p² iff σ < 0.857
    ("kl", "N(0,1.6)", "N(0,1)", 20, (True, False)),
    ("kl", "N(0,1.3)", "N(0,1)", 20, (True, True)),
    ("reverse_kl", "N(0,0.6)", "N(0,1)", 12, (False, True)),
    ("reverse_kl", "N(0,0.6)", "N(0,0.8)", 20, (True, True)),
    ("jeffrey", "0.9*N(0,1) + 0.1*N(2,3)", "N(0,1.3126)", 20, (True, False)),
    ("hellinger", "N(0,0.3)", "N(1,3)", 20, (True, True)),
    ("alpha:3", "N(0,1)", "N(0,0.85)", 20, (False, False)),  # ∫p⁵/q⁴ < ∞ iff σ > 0.894, ∫p⁶/q⁵ iff σ > 0.913
    ("alpha:3", "N(0,1)", "N(0,1.1)", 20, (True, True)),
])
def test_minibatch_variance_matches_truncated_quadrature(name, p, q, L, expected):
    """A finite second moment converges as the range doubles; an infinite one grows without bound."""
    from gankit.divergences import minibatch_variance_finite

    p, q = parse_mixture(p), parse_mixture(q)
    flags = minibatch_variance_finite(name, p, q)
    assert (flags["E_P[T*^2]"], flags["E_Q[f*(T*)^2]"]) == expected
    short, long = _truncated_moments(name, p, q, L), _truncated_moments(name, p, q, 2 * L)
    for finite, a, b in zip(expected, short, long, strict=True):
        assert math.isfinite(a)
        if finite:
            assert abs(b - a) <= 1e-6 * b
        else:
            assert b >= 100 * a
