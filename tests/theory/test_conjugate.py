"""Fenchel–Moreau: the numeric biconjugate of every record's f* gives back f."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from gankit.divergences import divergence_names, get_divergence
from gankit.theory.conjugate import check_biconjugate, plot_conjugate

ALL = divergence_names() + ["alpha:0.5", "alpha:2", "alpha:3", "alpha:-1"]


@pytest.mark.parametrize("name", ALL)
def test_biconjugate_is_f(name):
    r = check_biconjugate(name)
    assert len(r.u) == 200
    assert r.max_abs_error < 1e-8, r


def test_a_wrong_conjugate_is_detected():
    kl = get_divergence("kl")
    wrong = dataclasses.replace(kl, name="kl-wrong", conjugate=lambda t: torch.exp(torch.as_tensor(t)).numpy())
    assert check_biconjugate(wrong).max_abs_error > 0.1  # exp(t) is the conjugate of u log u − u, not u log u


def test_plot_is_written(tmp_path):
    r = check_biconjugate("reverse_kl", n=50)
    plot_conjugate(r, str(tmp_path / "c.png"))
    assert (tmp_path / "c.png").stat().st_size > 1000
