"""Proposition 1 and Theorem 1 of Goodfellow et al. 2014, by training D with G fixed."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gankit.data.toy import parse_mixture
from gankit.divergences import divergence
from gankit.errors import GankitError
from gankit.theory.optimal_d import DEFAULT_DATA, DEFAULT_GEN, mass_interval, optimal_discriminator


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_default_run_meets_the_tolerances():
    r = optimal_discriminator()  # the default run of `gankit theory optimal-d`
    assert r.data == parse_mixture(DEFAULT_DATA).spec() and r.method == "grid"
    assert r.max_abs_error <= 0.02
    assert r.mean_abs_error <= r.max_abs_error
    assert abs(r.value - (2 * r.jsd - math.log(4))) <= 0.01
    # the target value by an independent route: D_GAN = 2·JSD − log 4 is the 'gan' row
    p, q = parse_mixture(DEFAULT_DATA), parse_mixture(DEFAULT_GEN)
    assert r.value_star == pytest.approx(divergence("gan", p, q).value, abs=1e-9)
    # a trained D can only do worse than D*: V(G, D) <= V(G, D*) up to quadrature error
    assert r.value <= r.value_star + 1e-6


def test_mass_interval_holds_99_percent():
    p, q = parse_mixture("0.3*N(-2,0.5) + 0.7*N(1,1)"), parse_mixture("N(4,0.3)")
    lo, hi = mass_interval(p, q, 0.99)
    mass = 0.5 * (p.cdf(np.array([hi]))[0] - p.cdf(np.array([lo]))[0]
                  + q.cdf(np.array([hi]))[0] - q.cdf(np.array([lo]))[0])
    assert mass == pytest.approx(0.99, abs=1e-9)


def test_untrained_discriminator_is_far_from_optimal():
    # the check can fail: two steps of training leave D far from D*
    r = optimal_discriminator(steps=2)
    assert r.max_abs_error > 0.05


def test_bad_input_is_a_gankit_error():
    with pytest.raises(GankitError, match="--data: malformed mixture term"):
        optimal_discriminator("N(0,1", "N(0,1)")
    with pytest.raises(GankitError, match="method must be grid or samples"):
        optimal_discriminator(method="exact")
