import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from gankit.data.toy import grid25, make_source, parse_mixture, ring8
from gankit.errors import GankitError
from gankit.registry import DATA


def test_ring8_centres_are_eight_distinct_points_on_the_unit_circle():
    src = ring8()
    c = src.centres.double()
    assert c.shape == (8, 2)
    assert torch.allclose(c.norm(dim=1), torch.ones(8, dtype=torch.float64), atol=1e-6)
    # consecutive centres 45 degrees apart (no linspace(0, 2pi, 8) duplicate)
    d = torch.cdist(c, c) + torch.eye(8, dtype=torch.float64) * 10
    assert float(d.min()) == pytest.approx(2 * math.sin(math.pi / 8), abs=1e-6)
    assert src.std == 0.01


def test_grid25_centres_and_std():
    src = grid25()
    assert src.centres.shape == (25, 2)
    assert sorted(set(src.centres[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert src.std == 0.05


@pytest.mark.parametrize("make", [ring8, grid25])
def test_mixture_samples_have_the_declared_std_and_uniform_modes(make):
    src = make()
    x = src.sample(20000, torch.Generator().manual_seed(0))
    idx = torch.cdist(x, src.centres).argmin(1)
    resid = x - src.centres[idx]
    assert float(resid.std()) == pytest.approx(src.std, rel=0.03)
    counts = torch.bincount(idx, minlength=len(src.centres)).double()
    expected = 20000 / len(src.centres)
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < stats.chi2.ppf(0.999, len(src.centres) - 1)


def test_same_generator_seed_same_samples_for_every_source():
    for name in ["ring8", "grid25", "spiral", "moons", "mixture1d"]:
        src = make_source(name)
        a = src.sample(50, torch.Generator().manual_seed(3))
        b = src.sample(50, torch.Generator().manual_seed(3))
        assert torch.equal(a, b)
        assert a.shape == (50, *src.shape)
        assert torch.isfinite(a).all()


def test_every_registered_data_source_builds_and_samples():
    for entry in DATA.entries():
        if entry.family:
            continue
        src = entry.obj()
        x = src.sample(8, torch.Generator().manual_seed(0))
        assert x.shape == (8, *src.shape), entry.name


def test_mixture_density_integrates_to_one_and_matches_scipy():
    p = parse_mixture("0.3*N(-2,0.5) + 0.7*N(1,1)")
    total, _ = integrate.quad(lambda x: float(p.pdf(np.array([x]))[0]), -np.inf, np.inf)
    assert total == pytest.approx(1.0, abs=1e-9)
    xs = np.linspace(-6, 6, 101)
    ref = 0.3 * stats.norm.pdf(xs, -2, 0.5) + 0.7 * stats.norm.pdf(xs, 1, 1)
    assert np.allclose(p.pdf(xs), ref, rtol=1e-12, atol=0)
    assert np.allclose(p.cdf(xs), 0.3 * stats.norm.cdf(xs, -2, 0.5) + 0.7 * stats.norm.cdf(xs, 1, 1), atol=1e-12)
    lp = p.log_prob(torch.tensor(xs, dtype=torch.float64))
    assert torch.allclose(lp, torch.tensor(np.log(ref)), atol=1e-10)
    # far tails stay finite in log space
    assert np.isfinite(p.log_pdf(np.array([-200.0, 300.0]))).all()


def test_mixture_samples_match_the_mixture():
    p = parse_mixture("0.25*N(-3,0.5) + 0.75*N(2,1.5)")
    x = p.sample(20000, torch.Generator().manual_seed(1)).numpy()[:, 0]
    res = stats.kstest(x, lambda t: p.cdf(t))
    assert res.pvalue > 1e-3


@pytest.mark.parametrize(
    "spec, match",
    [
        ("0.3*N(-2,0.5) + 0.6*N(1,1)", "sum to 1"),
        ("-0.5*N(0,1) + 1.5*N(1,1)", "positive"),
        ("N(0,0)", "stds must be positive"),
        ("N(0,-1)", "stds must be positive"),
        ("N(0,1", "malformed"),
        ("0.5*M(0,1) + 0.5*N(1,1)", "malformed"),
        ("", "empty"),
        ("N(nan,1)", "malformed"),
    ],
)
def test_bad_specs_are_rejected_with_the_accepted_form(spec, match):
    with pytest.raises(GankitError, match=match):
        parse_mixture(spec)


def test_unknown_source_lists_known_names():
    with pytest.raises(GankitError, match="known: .*ring8"):
        make_source("ring9")
