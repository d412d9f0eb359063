"""Properties of every registered f-divergence record, each checked against an independent reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.optimize import minimize_scalar
from scipy.special import wrightomega

from gankit.divergences import divergence_names, get_divergence, wright_omega
from gankit.errors import GankitError

ALPHAS = ["alpha:0.5", "alpha:3", "alpha:-1"]  # one per regime: (0,1), >1, <0
ALL = divergence_names() + ALPHAS


def test_every_row_is_registered():
    assert set(divergence_names()) == {
        "kl", "reverse_kl", "pearson", "neyman", "hellinger", "jeffrey", "js", "gan", "total_variation"}


@pytest.mark.parametrize("name", ALL)
def test_f_at_one(name):
    div = get_divergence(name)
    expected = -math.log(4.0) if name == "gan" else 0.0
    assert div.f_at_1 == expected
    assert abs(div.f(1.0) - expected) < 1e-15
    assert float(div.f(torch.tensor(1.0, dtype=torch.float64))) == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize("name", ALL)
def test_f_is_convex(name):
    f = get_divergence(name).f
    u = np.logspace(-3, 3, 600)
    slopes = np.diff(f(u)) / np.diff(u)  # divided differences: nondecreasing iff convex
    assert np.all(np.isfinite(slopes))
    assert np.all(np.diff(slopes) >= -1e-9 * (1 + np.abs(slopes[1:])))
    assert np.all(np.isinf(f(np.array([-0.5, -1e-3]))))  # f = +inf off [0, ∞)


def _numeric_conjugate(f, t: float) -> float:
    # sup_u (u t − f(u)) over u = e^s; u t − f(u) is concave in u, hence unimodal in s
    res = minimize_scalar(lambda s: -(math.exp(s) * t - f(math.exp(s))), bounds=(-35.0, 35.0),
                          method="bounded", options={"xatol": 1e-12})
    return -res.fun


@pytest.mark.parametrize("name", ALL)
def test_conjugate_is_numeric_legendre_transform(name):
    div = get_divergence(name)
    ts = div.activation(np.linspace(-3.0, 3.0, 13))  # points inside dom f*
    for t in ts:
        exact = div.conjugate(float(t))
        numeric = _numeric_conjugate(div.f, float(t))
        assert abs(exact - numeric) <= 1e-7 * (1 + abs(exact)), (name, t, exact, numeric)
    if math.isfinite(div.domain.hi):
        assert div.conjugate(div.domain.hi + 0.1) == math.inf  # f* = +inf beyond dom f*


@pytest.mark.parametrize("name", ALL)
def test_biconjugate_is_f(name):
    div = get_divergence(name)
    for u in [0.1, 0.5, 1.0, 2.0, 5.0]:
        # f**(u) = sup_t (u t − f*(t)), with t = g_f(v) ranging over dom f*
        res = minimize_scalar(lambda v, u=u: -(u * div.activation(v) - div.conjugate_activation(v)),
                              bounds=(-60.0, 60.0), method="bounded", options={"xatol": 1e-12})
        assert abs(-res.fun - div.f(u)) <= 1e-7 * (1 + abs(div.f(u))), (name, u, -res.fun, div.f(u))


@pytest.mark.parametrize("name", ALL)
def test_activation_maps_into_domain(name):
    div = get_divergence(name)
    v = np.concatenate([np.linspace(-50.0, 50.0, 1001), [-50.0, 0.0, 50.0]])
    t = div.activation(v)
    assert np.all(div.domain.contains(t, closure=True))
    inner = np.abs(v) <= 30  # beyond this an open end is not representable in float64
    assert np.all(div.domain.contains(t[inner]))
    for dtype in (torch.float32, torch.float64):
        assert torch.isfinite(div.conjugate_activation(torch.as_tensor(v, dtype=dtype))).all()
    # the fused f*(g_f(v)) is the composition
    mid = np.linspace(-10.0, 10.0, 81)
    assert np.allclose(div.conjugate_activation(mid), div.conjugate(div.activation(mid)), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ALL)
def test_gradients_finite_at_extremes(name):
    div = get_divergence(name)
    for dtype in (torch.float32, torch.float64):
        v = torch.tensor([-50.0, -20.0, -1.0, 0.0, 1.0, 20.0, 50.0], dtype=dtype, requires_grad=True)
        (div.activation(v).sum() + div.conjugate_activation(v).sum()).backward()
        assert torch.isfinite(v.grad).all(), (name, dtype, v.grad)
    t = div.activation(torch.linspace(-10, 10, 21, dtype=torch.float64)).detach().requires_grad_()
    div.conjugate(t).sum().backward()
    # d f*/dt is the maximiser u* ≥ 0
    assert torch.isfinite(t.grad).all() and (t.grad >= 0).all()


@pytest.mark.parametrize("name", ALL)
def test_reverse_generator(name):
    div = get_divergence(name)
    rev = get_divergence(div.reverse)
    w = np.logspace(-3, 3, 50)
    assert np.allclose(rev.f(w), w * div.f(1.0 / w), rtol=1e-10, atol=1e-12)  # f̃(w) = w f(1/w)


@pytest.mark.parametrize("name", ALL)
def test_weighted_is_scaled_f(name):
    div = get_divergence(name)
    s = np.linspace(-20.0, 0.0, 41)
    assert np.allclose(div.weighted(np.full_like(s, -1.5), s), math.exp(-1.5) * div.f(np.exp(s)), rtol=1e-9, atol=1e-14)


def test_alpha_special_cases():
    u = np.logspace(-2, 2, 30)
    assert np.allclose(get_divergence("alpha:2").f(u), 0.5 * get_divergence("pearson").f(u))
    assert np.allclose(get_divergence("alpha:-1").f(u), 0.5 * get_divergence("neyman").f(u))
    assert np.allclose(get_divergence("alpha:0.5").f(u), 2 * get_divergence("hellinger").f(u))


def test_wright_omega_matches_scipy():
    x = torch.linspace(-700, 700, 2001, dtype=torch.float64)
    ref = torch.as_tensor(wrightomega(x.numpy()).real)
    assert torch.allclose(wright_omega(x), ref, rtol=1e-13, atol=0)


@pytest.mark.parametrize("bad", ["alpha:0", "alpha:1", "alpha:1.0", "alpha:nan", "alpha:inf", "alpha:abc", "alpha:"])
def test_bad_alpha_names_the_range(bad):
    with pytest.raises(GankitError, match="other than 0 and 1"):
        get_divergence(bad)


def test_unknown_name_lists_known():
    with pytest.raises(GankitError) as err:
        get_divergence("kullback")
    msg = str(err.value)
    assert "kullback" in msg and "reverse_kl" in msg and "alpha:<arg>" in msg


@pytest.mark.parametrize("t", [-1e3, -1e8, -1e16, -1e30])
def test_jeffrey_conjugate_far_left_is_accurate(t):
    # the critic reaches T ≈ −q/p ≈ −1e12 in a heavy Gaussian tail; W + t cancelled there
    jeffrey = get_divergence("jeffrey")
    s = minimize_scalar(lambda s: -(math.exp(s) * t - jeffrey.f(math.exp(s))),
                        bounds=(-80.0, 5.0), method="bounded", options={"xatol": 1e-13})
    numeric = -s.fun
    assert jeffrey.conjugate(t) == pytest.approx(numeric, rel=1e-8, abs=1e-8)
    assert float(jeffrey.conjugate(torch.tensor(t, dtype=torch.float32))) == pytest.approx(numeric, rel=1e-5)
