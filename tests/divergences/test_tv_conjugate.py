"""The total-variation conjugate against a numerical Legendre transform over u ≥ 0 (issue 22, item 4).

``f(u) = ½|u − 1|`` on ``u ≥ 0``: ``f*(t) = sup_{u ≥ 0} (t u − f(u))`` is ``max(t, −½)`` for ``t ≤ ½``
and ``+inf`` beyond. Two independent references: a dense grid of ``u`` and scipy's bounded
minimiser on ``[0, U]`` (``t u − f(u)`` is concave and piecewise linear, so both are exact up to
the grid/tolerance when the maximiser lies inside ``[0, U]``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.optimize import minimize_scalar

from gankit.divergences import get_divergence
from gankit.objectives import fgan_discriminator_loss, variational_bound

TV = get_divergence("total_variation")
U = np.concatenate([np.linspace(0.0, 3.0, 300_001), np.linspace(3.0, 1e4, 10_001)])  # u ≥ 0, 0 and 1 included


def f_tv(u):
    return 0.5 * np.abs(u - 1.0)


def grid_conjugate(t: float) -> float:
    return float(np.max(t * U - f_tv(U)))


def scipy_conjugate(t: float) -> float:
    res = minimize_scalar(lambda u: -(t * u - f_tv(u)), bounds=(0.0, 10.0), method="bounded",
                          options={"xatol": 1e-12})
    return max(-res.fun, -f_tv(0.0), t - f_tv(1.0))  # the kinks u = 0 and u = 1, where the maximiser sits


TS = [-50.0, -5.0, -1.0, -0.75, -0.5 - 1e-9, -0.5, -0.5 + 1e-9, -0.49, -0.3, 0.0, 0.2, 0.49, 0.5]


@pytest.mark.parametrize("t", TS)
def test_conjugate_is_the_legendre_transform_over_nonnegative_u(t):
    exact = TV.conjugate(t)
    assert abs(exact - grid_conjugate(t)) <= 1e-9
    assert abs(exact - scipy_conjugate(t)) <= 1e-9
    if t < -0.5:
        assert exact == -0.5  # the supremum sits at u = 0
    else:
        assert exact == pytest.approx(t, abs=1e-15)


def test_beyond_half_the_transform_is_infinite():
    for t in (0.5 + 1e-6, 0.6, 2.0):
        assert TV.conjugate(t) == math.inf
        assert grid_conjugate(t) > 1e4 * (t - 0.5) * 0.9  # grows without bound with the grid's reach
    assert TV.domain.contains(np.array([-1e6, -0.5, 0.5])).all() and not TV.domain.contains(0.5 + 1e-12)


def test_torch_conjugate_and_its_gradient_the_maximiser():
    t = torch.tensor([-3.0, -0.6, -0.4, 0.0, 0.5], dtype=torch.float64, requires_grad=True)
    out = TV.conjugate(t)
    assert torch.equal(out.detach(), torch.tensor([-0.5, -0.5, -0.4, 0.0, 0.5], dtype=torch.float64))
    out.sum().backward()
    assert torch.equal(t.grad, torch.tensor([0.0, 0.0, 1.0, 1.0, 1.0], dtype=torch.float64))  # u* = 0, then 1


def test_training_path_is_unchanged_the_activation_stays_inside():
    # g_f = ½ tanh maps into (−½, ½), where max(t, −½) = t: the f-GAN losses equal ½tanh(v) on both sides
    v = torch.linspace(-30, 30, 601, dtype=torch.float64)
    t = TV.activation(v)
    assert (t >= -0.5).all() and (t <= 0.5).all()
    assert torch.equal(TV.conjugate(t), t)
    assert torch.equal(TV.conjugate_activation(v), 0.5 * torch.tanh(v))
    real, fake = torch.randn(64, dtype=torch.float64), torch.randn(64, dtype=torch.float64)
    want = (0.5 * torch.tanh(real)).mean() - (0.5 * torch.tanh(fake)).mean()
    assert torch.allclose(variational_bound("total_variation", real, fake), want, atol=1e-15)
    assert torch.allclose(fgan_discriminator_loss("total_variation", real, fake), -want, atol=1e-15)


def test_theory_biconjugate_recovers_f():
    from gankit.theory.conjugate import check_biconjugate

    assert check_biconjugate("total_variation", 0.0, 5.0, 101).max_abs_error < 1e-12  # the kink −½ is a grid point
