"""Exact EMD checked against an independent LP (scipy HiGHS), closed forms and metric axioms."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
import scipy.sparse
import scipy.stats
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

import gankit.divergences.wasserstein as wmod
from gankit.divergences.wasserstein import (
    EMDResult,
    SlicedResult,
    emd,
    sliced_wasserstein,
    w1,
    wasserstein_tensor,
)
from gankit.errors import GankitError


def lp_reference(x, y, a, b, p):
    """Solve the transport LP with HiGHS on an independently built cost matrix."""
    x = np.asarray(x, float).reshape(len(x), -1)
    y = np.asarray(y, float).reshape(len(y), -1)
    n, m = len(x), len(y)
    cost = np.sqrt(((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)) ** p  # (n, m)
    rows = np.kron(np.eye(n), np.ones((1, m)))  # sum_j gamma_ij = a_i
    cols = np.kron(np.ones((1, n)), np.eye(m))  # sum_i gamma_ij = b_j
    res = linprog(
        cost.ravel(),
        A_eq=np.vstack([rows, cols]),
        b_eq=np.concatenate([a, b]),
        bounds=(0, None),
        method="highs",
    )
    assert res.status == 0, res.message
    return res.fun


def random_problem(rng, n, m, d, weighted):
    x, y = rng.normal(size=(n, d)), rng.normal(size=(m, d)) + 0.5
    if weighted:
        a, b = rng.random(n) + 0.05, rng.random(m) + 0.05
        return x, y, a / a.sum(), b / b.sum()
    return x, y, np.full(n, 1 / n), np.full(m, 1 / m)


def check_plan(r: EMDResult, x, y, a, b, p):
    plan = r.plan.toarray() if scipy.sparse.issparse(r.plan) else r.plan
    assert plan.shape == (len(a), len(b))
    assert np.all(plan >= 0)
    assert np.allclose(plan.sum(axis=1), a, atol=1e-12)
    assert np.allclose(plan.sum(axis=0), b, atol=1e-12)
    xs, ys = np.asarray(x, float).reshape(len(a), -1), np.asarray(y, float).reshape(len(b), -1)
    ground = np.linalg.norm(xs[:, None] - ys[None], axis=-1) ** p
    assert np.isclose((plan * ground).sum(), r.cost, rtol=1e-10, atol=1e-12)
    assert r.n_nonzero == np.count_nonzero(plan)
    assert r.n_nonzero <= len(a) + len(b) - 1


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize(
    "n, m, d, weighted",
    [
        (1, 1, 2, False),
        (1, 4, 3, True),
        (5, 3, 1, True),
        (6, 6, 2, False),
        (7, 9, 3, True),
        (12, 10, 5, True),
    ],
)
def test_emd_matches_independent_lp(n, m, d, weighted, p):
    rng = np.random.default_rng(100 * n + 10 * m + d + p)
    x, y, a, b = random_problem(rng, n, m, d, weighted)
    r = emd(x, y, a, b, p=p, return_plan=True)
    assert isinstance(r, EMDResult)
    assert r.method == ("exact-1d" if d == 1 else "lp")
    assert np.isclose(r.cost, lp_reference(x, y, a, b, p), rtol=1e-7, atol=1e-10)
    assert np.isclose(r.distance, r.cost ** (1 / p), rtol=1e-12)
    check_plan(r, x, y, a, b, p)


def test_non_integer_p_matches_lp():
    rng = np.random.default_rng(7)
    x, y, a, b = random_problem(rng, 6, 5, 2, True)
    assert np.isclose(emd(x, y, a, b, p=1.5).cost, lp_reference(x, y, a, b, 1.5), rtol=1e-7)


@pytest.mark.parametrize("p", [1, 2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_1d_fast_path_equals_lp_path(p, weighted):
    rng = np.random.default_rng(p + 10 * weighted)
    x, y, a, b = random_problem(rng, 15, 11, 1, weighted)
    fast = emd(x, y, a, b, p=p, return_plan=True, sparse=True)
    lp = emd(x, y, a, b, p=p, method="lp")
    assert fast.method == "exact-1d" and lp.method == "lp"
    assert np.isclose(fast.cost, lp.cost, rtol=1e-10, atol=1e-12)
    check_plan(fast, x, y, a, b, p)


def test_1d_agrees_with_scipy_and_pot_on_large_weighted_sets():
    import ot

    rng = np.random.default_rng(3)
    x, y = rng.normal(size=50_000), rng.standard_t(3, size=40_000)
    a, b = rng.random(50_000), rng.random(40_000)
    r = emd(x, y, a, b, normalize=True)
    assert np.isclose(r.cost, scipy.stats.wasserstein_distance(x, y, a, b), rtol=1e-9)
    r2 = emd(x, y, a, b, p=2, normalize=True)
    assert np.isclose(r2.cost, ot.wasserstein_1d(x, y, a / a.sum(), b / b.sum(), p=2), rtol=1e-9)
    assert r.n_nonzero <= 90_000 - 1


@pytest.mark.parametrize("shift", [-2.5, 0.0, 0.3, 7.0])
@pytest.mark.parametrize("p", [1, 2])
def test_shifted_1d_samples_distance_is_mean_difference(shift, p):
    x = np.random.default_rng(0).normal(size=200)
    r = emd(x, x + shift, p=p)
    assert np.isclose(r.distance, abs(shift), atol=1e-12)
    assert np.isclose(r.distance, abs(np.mean(x + shift) - np.mean(x)), atol=1e-12)


def test_rounding_ties_in_cumulative_weights_give_the_nw_plan():
    # 0.1 * 10 and 0.2 * 5 have cumulative sums that agree only up to rounding.
    x, y = np.arange(10.0), np.arange(5.0) * 2
    r = emd(x, y, np.full(10, 0.1), np.full(5, 0.2), return_plan=True)
    assert r.n_nonzero == 10
    check_plan(r, x, y, np.full(10, 0.1), np.full(5, 0.2), 1)
    assert np.isclose(r.cost, 0.5, atol=1e-12)  # every other point moves by 1, mass 0.1 each


def test_zero_weight_points_are_ignored():
    x, y = np.array([0.0, 100.0, 1.0]), np.array([2.0, -50.0])
    r = emd(x, y, [0.5, 0.0, 0.5], [1.0, 0.0], return_plan=True)
    assert np.isclose(r.cost, 1.5)
    assert r.plan[1].sum() == 0 and r.plan[:, 1].sum() == 0
    rl = emd(np.c_[x, 0 * x], np.c_[y, 0 * y], [0.5, 0.0, 0.5], [1.0, 0.0])
    assert np.isclose(rl.cost, 1.5)


def test_invariances_and_symmetry():
    rng = np.random.default_rng(11)
    x, y, a, b = random_problem(rng, 9, 7, 3, True)
    base = emd(x, y, a, b, p=2).cost
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))  # orthogonal
    shift = rng.normal(size=3)
    assert np.isclose(emd(x @ q + shift, y @ q + shift, a, b, p=2).cost, base, rtol=1e-9)
    assert np.isclose(emd(y, x, b, a, p=2).cost, base, rtol=1e-9)
    perm = rng.permutation(9)
    assert np.isclose(emd(x[perm], y, a[perm], b, p=2).cost, base, rtol=1e-9)
    assert np.isclose(emd(3 * x, 3 * y, a, b, p=2).distance, 3 * np.sqrt(base), rtol=1e-9)
    assert np.isclose(emd(x, y, 5 * a, 2 * b, p=2, normalize=True).cost, base, rtol=1e-9)
    assert emd(x, x, a, a, p=2).cost == 0.0


def test_triangle_inequality_on_random_triples():
    rng = np.random.default_rng(5)
    for trial in range(6):
        d = 1 + trial % 3
        x, y, z = (rng.normal(size=(int(rng.integers(2, 9)), d)) * (k + 1) for k in range(3))
        for p in (1, 2):
            dxy, dyz, dxz = emd(x, y, p=p).distance, emd(y, z, p=p).distance, emd(x, z, p=p).distance
            assert dxz <= dxy + dyz + 1e-12


def test_sliced_equals_exact_in_1d_and_is_a_lower_bound_above():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=40), rng.normal(size=30) + 1
    a, b = rng.random(40), rng.random(30)
    for p in (1, 2):
        s = sliced_wasserstein(x, y, a, b, p=p, n_projections=5, normalize=True)
        assert isinstance(s, SlicedResult)
        assert np.isclose(s.distance, emd(x, y, a, b, p=p, normalize=True).distance, rtol=1e-12)
        assert s.std_error < 1e-12 and s.spread < 1e-12  # every direction is +-1
    x2, y2 = rng.normal(size=(60, 3)), rng.normal(size=(50, 3)) + [1, 0, 0]
    s2 = sliced_wasserstein(x2, y2, p=2, n_projections=300, seed=1)
    assert 0 < s2.distance <= emd(x2, y2, p=2).distance
    assert 0 < s2.std_error < 0.2 * s2.distance and s2.spread > 0
    assert np.isclose(s2.distance, s2.cost**0.5)
    assert s2 == sliced_wasserstein(x2, y2, p=2, n_projections=300, seed=1)


def test_too_large_problem_suggests_sliced_and_1d_is_not_limited():
    x = np.zeros((30, 2))
    with pytest.raises(GankitError, match="sliced_wasserstein"):
        emd(x, x, max_size=899)
    assert emd(np.arange(30.0), np.arange(30.0), max_size=10).cost == 0.0
    with pytest.raises(GankitError, match="sparse plan"):
        emd(np.arange(30.0), np.arange(30.0), max_size=10, return_plan=True)
    r = emd(np.arange(30.0), np.arange(30.0), max_size=10, return_plan=True, sparse=True)
    assert r.plan.shape == (30, 30) and r.n_nonzero == 30


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(x=[[0.0, np.nan]], y=[[0.0, 0.0]]), "x has a NaN or infinite coordinate"),
        (dict(x=[0.0], y=[np.inf]), "y has a NaN or infinite coordinate"),
        (dict(x=np.zeros((2, 2)), y=np.zeros((2, 3))), "same dimension"),
        (dict(x=np.zeros((0, 2)), y=np.zeros((2, 2))), "x is empty"),
        (dict(x=[], y=[1.0]), "x is empty"),
        (dict(x=np.zeros((2, 2, 2)), y=np.zeros((2, 2))), r"shape \(n, d\)"),
        (dict(x=["a", "b"], y=[1.0]), "real numbers"),
        (dict(x=[0.0, 1.0], y=[1.0], a=[1.0]), r"a must have shape \(2,\)"),
        (dict(x=[0.0, 1.0], y=[1.0], a=[2.0, -1.0]), "negative weight"),
        (dict(x=[0.0, 1.0], y=[1.0], a=[np.nan, 1.0]), "NaN or infinite weight"),
        (dict(x=[0.0, 1.0], y=[1.0], a=[0.0, 0.0]), "sum to 0"),
        (dict(x=[0.0, 1.0], y=[1.0], a=[1.0, 1.0]), "normalize=True"),
        (dict(x=[0.0], y=[1.0], p=0.5), "p must be"),
        (dict(x=[0.0], y=[1.0], p="two"), "p must be"),
        (dict(x=[0.0], y=[1.0], method="simplex"), "known: auto, exact-1d, lp"),
        (dict(x=[[0.0, 0.0]], y=[[1.0, 1.0]], method="exact-1d"), "needs 1-D points"),
    ],
)
def test_bad_input_raises_gankit_error(kwargs, match):
    with pytest.raises(GankitError, match=match):
        emd(**kwargs)


def test_sliced_bad_input():
    with pytest.raises(GankitError, match="n_projections"):
        sliced_wasserstein([0.0], [1.0], n_projections=0)
    with pytest.raises(GankitError, match="same dimension"):
        sliced_wasserstein(np.zeros((2, 2)), np.zeros((2, 3)))


def test_torch_inputs():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(20, 2, generator=g), torch.randn(25, 2, generator=g)
    assert emd(x, y).cost == emd(x.numpy(), y.numpy()).cost
    assert np.isclose(w1(x, y), emd(x.double(), y.double()).distance)
    t = wasserstein_tensor(x.double(), y.double(), p=2)
    assert t.dtype == torch.float64 and t.shape == () and np.isclose(float(t), emd(x, y, p=2).distance)
    imgs_a, imgs_b = torch.zeros(4, 1, 2, 2), torch.ones(3, 1, 2, 2)
    assert np.isclose(float(wasserstein_tensor(imgs_a, imgs_b)), 2.0)  # flattened: sqrt(4 pixels * 1^2)
    with pytest.raises(GankitError, match="torch tensors"):
        wasserstein_tensor(np.zeros(2), torch.zeros(2))


def test_docstring_examples_run():
    assert doctest.testmod(wmod).failed == 0


points_1d = st.lists(st.floats(-10, 10, allow_nan=False), min_size=1, max_size=8)
weights = st.floats(0.01, 1.0)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), p=st.sampled_from([1.0, 2.0]))
def test_property_1d_fast_path_equals_lp_and_plan_is_feasible(data, p):
    x, y = np.array(data.draw(points_1d)), np.array(data.draw(points_1d))
    a = np.array(data.draw(st.lists(weights, min_size=len(x), max_size=len(x))))
    b = np.array(data.draw(st.lists(weights, min_size=len(y), max_size=len(y))))
    fast = emd(x, y, a, b, p=p, normalize=True, return_plan=True)
    lp = emd(x, y, a, b, p=p, normalize=True, method="lp")
    assert np.isclose(fast.cost, lp.cost, rtol=1e-9, atol=1e-9)
    check_plan(fast, x, y, a / a.sum(), b / b.sum(), p)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 6),
    m=st.integers(1, 6),
    d=st.integers(2, 3),
    seed=st.integers(0, 2**31 - 1),
)
def test_property_symmetric_and_matches_lp(n, m, d, seed):
    rng = np.random.default_rng(seed)
    x, y, a, b = random_problem(rng, n, m, d, True)
    r = emd(x, y, a, b, p=1, return_plan=True)
    assert np.isclose(r.cost, emd(y, x, b, a, p=1).cost, rtol=1e-10, atol=1e-12)
    assert np.isclose(r.cost, lp_reference(x, y, a, b, 1), rtol=1e-7, atol=1e-10)
    check_plan(r, x, y, a, b, 1)


def test_sliced_w1_of_a_shift_matches_closed_form_within_its_standard_error():
    # Each projection of a shifted set is a shifted 1-D set: W1 = |theta . s|, and for
    # theta uniform on the sphere in 3-D, E|theta_1| = 1/2, so SW_1 = |s| / 2.
    x = np.random.default_rng(4).normal(size=(200, 3))
    s = np.array([1.0, -2.0, 2.0])  # |s| = 3
    r = sliced_wasserstein(x, x + s, n_projections=400, seed=3)
    assert abs(r.distance - 1.5) < 4 * r.std_error
    assert 0.01 < r.std_error < 0.1


def test_rounding_residue_of_the_1d_walk_is_not_a_transport():
    # 0.3 - 0.1 - 0.1 is 0.09999999999999998: the walk leaves slivers of 1e-17 that are not moves
    x, y, a, b = np.arange(10.0), np.array([1.0, 4.0, 8.0]), np.full(10, 0.1), np.array([0.3, 0.3, 0.4])
    r = emd(x, y, a, b, return_plan=True, sparse=True)
    assert r.n_nonzero == 10  # one move per level interval of the merged quantiles
    check_plan(r, x, y, a, b, 1)
    assert np.isclose(r.cost, scipy.stats.wasserstein_distance(x, y, a, b), rtol=1e-12)


def test_sliced_cost_is_the_mean_of_scipy_1d_distances_along_its_directions():
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(70, 3)), rng.normal(size=(40, 3)) * 2
    a, b = rng.random(70), rng.random(40)
    r = sliced_wasserstein(x, y, a, b, n_projections=25, seed=5, normalize=True)
    theta = np.random.default_rng(5).standard_normal((3, 25))  # the documented directions
    theta /= np.linalg.norm(theta, axis=0)
    per = np.array([scipy.stats.wasserstein_distance(x @ t, y @ t, a, b) for t in theta.T])
    assert np.isclose(r.cost, per.mean(), rtol=1e-12) and np.isclose(r.distance, per.mean(), rtol=1e-12)
    assert np.isclose(r.spread, per.std(ddof=1), rtol=1e-9)
    assert np.isclose(r.cost_std_error, per.std(ddof=1) / 5, rtol=1e-9)
