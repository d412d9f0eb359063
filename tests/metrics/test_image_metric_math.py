"""The maths of the image metrics against independent computations: Fréchet distance, Parzen window,
precision/recall, class coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special
import scipy.stats
import torch

torch.set_num_threads(1)  # 2 shared cores: no thread oversubscription

from gankit.metrics.classes import ClassCoverage, class_coverage
from gankit.metrics.frechet import FrechetDistance, feature_stats, frechet_distance
from gankit.metrics.parzen import parzen_log_likelihood, parzen_score, select_bandwidth
from gankit.metrics.precision_recall import knn_radii, precision_recall


def _random_cov(rng: np.random.Generator, d: int) -> np.ndarray:
    a = rng.normal(size=(d, d))
    return a @ a.T + 0.1 * np.eye(d)


# --------------------------------------------------------------------------- Fréchet distance


def test_frechet_diagonal_closed_form():
    # For diagonal covariances: |mu1 - mu2|^2 + sum_i (s1_i - s2_i)^2 with s the standard deviations.
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    s1, s2 = rng.uniform(0.2, 2.0, 5), rng.uniform(0.2, 2.0, 5)
    expected = float(np.sum((mu1 - mu2) ** 2) + np.sum((s1 - s2) ** 2))
    got = frechet_distance(mu1, np.diag(s1**2), mu2, np.diag(s2**2))
    assert abs(got - expected) < 1e-9 * max(1.0, expected)


def test_frechet_full_covariance_against_eigendecomposition():
    # tr (C1 C2)^{1/2} = tr (C1^{1/2} C2 C1^{1/2})^{1/2}, a symmetric PSD root computed by eigh (no sqrtm).
    rng = np.random.default_rng(1)
    d = 6
    c1, c2 = _random_cov(rng, d), _random_cov(rng, d)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    w, v = np.linalg.eigh(c1)
    r1 = v @ np.diag(np.sqrt(w)) @ v.T
    inner = np.linalg.eigvalsh(r1 @ c2 @ r1)
    expected = float(np.sum((mu1 - mu2) ** 2) + np.trace(c1) + np.trace(c2) - 2 * np.sum(np.sqrt(inner)))
    got = frechet_distance(mu1, c1, mu2, c2)
    assert abs(got - expected) < 1e-8 * max(1.0, expected)


def test_frechet_identical_and_symmetric():
    rng = np.random.default_rng(2)
    c1, c2 = _random_cov(rng, 4), _random_cov(rng, 4)
    mu1, mu2 = rng.normal(size=4), rng.normal(size=4)
    assert frechet_distance(mu1, c1, mu1, c1) < 1e-9
    assert abs(frechet_distance(mu1, c1, mu2, c2) - frechet_distance(mu2, c2, mu1, c1)) < 1e-9


def test_frechet_singular_covariances_stay_finite():
    # Dead ReLU features give singular covariances; the result must stay finite and >= 0.
    c = np.diag([1.0, 0.0, 2.0])
    value = frechet_distance(np.zeros(3), c, np.ones(3), c)
    assert math.isfinite(value)
    assert abs(value - 3.0) < 1e-4


def test_frechet_metric_object_matches_pure_function():
    rng = np.random.default_rng(3)
    ref = rng.normal(size=(300, 4))
    fake = rng.normal(loc=0.5, size=(200, 4)) @ rng.normal(size=(4, 4))
    m = FrechetDistance(*feature_stats(ref))
    m.update(torch.from_numpy(fake[:77]))
    m.update(fake[77:])
    mu, cov = np.mean(fake, axis=0), np.cov(fake, rowvar=False)
    expected = frechet_distance(mu, cov, *feature_stats(ref))
    assert abs(m.compute() - expected) < 1e-8 * max(1.0, expected)
    m.reset()
    assert m.n == 0
    assert FrechetDistance.higher_is_better is False


# --------------------------------------------------------------------------- Parzen window


def _direct_parzen(x: np.ndarray, g: np.ndarray, sigma: float) -> np.ndarray:
    d = x.shape[1]
    cov = sigma**2 * np.eye(d)
    comps = np.stack([scipy.stats.multivariate_normal(mean=gi, cov=cov).logpdf(x) for gi in g], axis=1)  # (n, m)
    return scipy.special.logsumexp(comps, axis=1) - math.log(len(g))


def test_parzen_against_direct_computation():
    rng = np.random.default_rng(4)
    x, g = rng.normal(size=(7, 3)), rng.normal(size=(5, 3))
    for sigma in (0.1, 0.5, 2.0):
        got = parzen_log_likelihood(torch.from_numpy(x), torch.from_numpy(g), sigma, batch=3).numpy()
        np.testing.assert_allclose(got, _direct_parzen(x, g, sigma), rtol=1e-10, atol=1e-10)


def test_parzen_bandwidth_is_the_grid_argmax():
    rng = np.random.default_rng(5)
    g, valid, test = (torch.from_numpy(rng.normal(size=(n, 2))) for n in (40, 20, 15))
    grid = (0.05, 0.2, 0.5, 1.0, 3.0)
    lls = [float(np.mean(_direct_parzen(valid.numpy(), g.numpy(), s))) for s in grid]
    sigma, best = select_bandwidth(valid, g, grid)
    assert sigma == grid[int(np.argmax(lls))]
    assert abs(best - max(lls)) < 1e-9
    out = parzen_score(g, valid, test, grid)
    assert out["parzen_sigma"] == sigma
    assert abs(out["parzen_ll"] - float(np.mean(_direct_parzen(test.numpy(), g.numpy(), sigma)))) < 1e-9


# --------------------------------------------------------------------------- precision / recall


def test_knn_radii_against_sklearn():
    from sklearn.neighbors import NearestNeighbors

    x = np.random.default_rng(6).normal(size=(60, 3))
    dist, _ = NearestNeighbors(n_neighbors=4).fit(x).kneighbors(x)  # column 0 is the point itself
    np.testing.assert_allclose(knn_radii(torch.from_numpy(x), k=3).numpy(), dist[:, 3], rtol=1e-10)


def test_precision_recall_identical_and_disjoint():
    x = torch.randn(200, 5, generator=torch.Generator().manual_seed(0))
    assert precision_recall(x, x) == {"precision": 1.0, "recall": 1.0}
    far = x + 100.0
    assert precision_recall(x, far) == {"precision": 0.0, "recall": 0.0}


def test_precision_recall_mode_dropping():
    # Fake covers only one of two real clusters: precision stays high, recall halves.
    gen = torch.Generator().manual_seed(1)
    a = torch.randn(200, 2, generator=gen)
    b = torch.randn(200, 2, generator=gen) + 50.0
    real = torch.cat([a, b])
    fake = torch.randn(400, 2, generator=gen)
    pr = precision_recall(real, fake)
    assert pr["precision"] > 0.9
    assert 0.4 < pr["recall"] <= 0.5


# --------------------------------------------------------------------------- class coverage


def test_class_coverage_by_hand():
    probs = torch.tensor([
        [0.95, 0.05, 0.00, 0.00],  # confident 0
        [0.97, 0.03, 0.00, 0.00],  # confident 0
        [0.00, 0.00, 0.91, 0.09],  # confident 2
        [0.10, 0.80, 0.10, 0.00],  # not confident (argmax 1 but 0.8 < 0.9)
    ])
    m = class_coverage(probs)
    assert m["classes_covered"] == 2.0
    assert m["confident_fraction"] == 0.75
    # histogram (2/3, 0, 1/3, 0) against uniform over 4 classes
    expected = (2 / 3) * math.log((2 / 3) * 4) + (1 / 3) * math.log((1 / 3) * 4)
    assert abs(m["class_kl"] - expected) < 1e-12
    assert class_coverage(probs, threshold=0.5)["classes_covered"] == 3.0


def test_class_coverage_uniform_and_empty():
    eye = torch.eye(5)
    m = class_coverage(eye)
    assert m["classes_covered"] == 5.0 and abs(m["class_kl"]) < 1e-12
    none = class_coverage(torch.full((3, 5), 0.2))
    assert none["classes_covered"] == 0.0 and math.isnan(none["class_kl"])


def test_class_coverage_stateful_sums_batches():
    probs = torch.softmax(torch.randn(50, 4, generator=torch.Generator().manual_seed(2)) * 4, dim=1)
    m = ClassCoverage(4)
    m.update(probs[:20])
    m.update(probs[20:])
    assert m.compute() == pytest.approx(class_coverage(probs), nan_ok=True)
