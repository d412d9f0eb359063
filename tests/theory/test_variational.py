"""Training only the critic on the Fenchel bound estimates D_f(P‖Q) from below."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gankit.data.toy import parse_mixture
from gankit.errors import GankitError
from gankit.theory.variational import variational_estimate

P = "0.5*N(-1.2,0.5) + 0.5*N(1.2,0.8)"
Q = "N(0.3,1.3)"


@pytest.mark.parametrize("name", ["kl", "reverse_kl", "js", "pearson"])
def test_bound_approaches_the_exact_value_from_below(name):
    r = variational_estimate(name, P, Q, steps=300, n_eval=50_000)
    assert r.expectation == "grid"
    assert r.exact is not None and r.exact > 0.04  # a pair far enough apart for a 10% test to mean something
    # a lower bound: by quadrature exactly, and on held-out samples up to Monte Carlo error
    assert r.bound_quadrature <= r.exact + 1e-6
    assert r.bound <= r.exact + 4 * r.stderr
    # and a tight one after training
    assert r.bound_quadrature >= 0.9 * r.exact, r
    assert abs(r.bound - r.bound_quadrature) <= 4 * r.stderr + 1e-3


def test_sample_sets_are_accepted_and_held_out():
    g = torch.Generator().manual_seed(3)
    x = parse_mixture(P).sample(4000, g).numpy()
    y = parse_mixture(Q).sample(4000, g).numpy()
    r = variational_estimate("js", x, y, steps=200)
    assert r.expectation == "samples" and r.exact is None and r.bound_quadrature is None
    assert r.n_eval == 800  # 20% held out
    exact = variational_estimate("js", P, Q, steps=1).exact
    assert r.bound <= exact + 4 * r.stderr
    assert r.bound > 0.5 * exact


def test_minibatch_training_on_specs_gives_a_lower_bound():
    r = variational_estimate("hellinger", P, Q, expectation="samples", steps=150, batch_size=256, n_eval=50_000)
    assert r.expectation == "samples"
    assert r.bound_quadrature <= r.exact + 1e-6
    assert r.bound <= r.exact + 4 * r.stderr
    assert r.bound_quadrature >= 0.5 * r.exact


def test_bad_input():
    with pytest.raises(GankitError, match="P: malformed mixture term"):
        variational_estimate("kl", "N(0,", Q)
    with pytest.raises(GankitError, match="different dimensions"):
        variational_estimate("kl", np.zeros((20, 2)), np.zeros((20, 1)))
    with pytest.raises(GankitError, match="NaN"):
        variational_estimate("kl", np.full((20, 1), np.nan), np.zeros((20, 1)))
    with pytest.raises(GankitError, match="unknown divergence"):
        variational_estimate("kll", P, Q)
