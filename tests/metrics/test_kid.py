"""KID (issue 22, item 3): the unbiased polynomial-kernel MMD² against a direct O(n²) computation, its
subsets, unbiasedness, and the registered metric beside the Fréchet distance with its floor."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gankit.metrics.images import _subset, image_metrics
from gankit.metrics.kid import SUBSET_SIZE, kernel_distance, mmd2_unbiased


def direct_mmd2(x, y):
    """Pair by pair: k(a, b) = (a·b/d + 1)³; within-sample sums over i ≠ j, cross sum over all pairs."""
    d = len(x[0])

    def k(a, b):
        return (sum(ai * bi for ai, bi in zip(a, b)) / d + 1.0) ** 3

    m, n = len(x), len(y)
    kxx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    kyy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    kxy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return kxx + kyy - 2.0 * kxy


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mmd2_equals_the_direct_computation(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(23, 5))
    y = rng.normal(0.3, 1.2, size=(31, 5))
    assert mmd2_unbiased(x, y) == pytest.approx(direct_mmd2(x.tolist(), y.tolist()), rel=1e-10, abs=1e-12)
    assert mmd2_unbiased(torch.from_numpy(x).float(), y) == pytest.approx(direct_mmd2(x.tolist(), y.tolist()),
                                                                          rel=1e-5)


def test_kid_over_subsets_is_the_mean_of_the_subsets_mmd2():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(40, 3)), rng.normal(0.5, 1.0, size=(35, 3))
    mean, std = kernel_distance(x, y, subsets=7, subset_size=12, seed=11)
    draw = np.random.default_rng(11)  # subsets drawn without replacement, x's then y's, seeded
    values = []
    for _ in range(7):
        ix, iy = draw.choice(40, 12, replace=False), draw.choice(35, 12, replace=False)
        values.append(direct_mmd2(x[ix].tolist(), y[iy].tolist()))
    assert mean == pytest.approx(np.mean(values), rel=1e-10)
    assert std == pytest.approx(np.std(values), rel=1e-8)
    assert std > 0
    # a subset size beyond both samples: the whole samples, once
    assert kernel_distance(x[:20], y[:20], subsets=5, subset_size=1000) == (pytest.approx(
        direct_mmd2(x[:20].tolist(), y[:20].tolist()), rel=1e-10), 0.0)


def test_unbiased_near_zero_and_negative_on_one_distribution_positive_between_two():
    rng = np.random.default_rng(0)
    same = [mmd2_unbiased(rng.normal(size=(20, 4)), rng.normal(size=(20, 4))) for _ in range(400)]
    assert min(same) < 0  # an unbiased estimate of 0 takes both signs
    assert abs(np.mean(same)) < 3 * np.std(same) / math.sqrt(len(same))
    # the biased (V-statistic) estimate, diagonals included, is positive on average: the bias the paper removes
    x, y = rng.normal(size=(20, 4)), rng.normal(size=(20, 4))
    kxx, kyy, kxy = ((a @ b.T / 4 + 1) ** 3 for a, b in ((x, x), (y, y), (x, y)))
    assert kxx.mean() + kyy.mean() - 2 * kxy.mean() > mmd2_unbiased(x, y)
    different = [mmd2_unbiased(rng.normal(size=(20, 4)), rng.normal(0.7, 1.0, size=(20, 4))) for _ in range(50)]
    assert min(different) > 0


def test_kid_beside_the_frechet_distance_with_its_floor(digits):
    train, test = digits
    fake = train.images[_subset(len(train), len(train), 12345)]  # exactly the floor's training images
    out = image_metrics(fake, train, test, seed=12345)
    assert out["kid"] == pytest.approx(out["kid_floor"], abs=1e-12)
    assert out["kid_subset_size"] == min(SUBSET_SIZE, len(train), len(test))
    keys = list(out)
    assert keys.index("kid") == keys.index("classifier_accuracy") + 1  # right after the Fréchet block
    noise = torch.rand(300, *train.shape, generator=torch.Generator().manual_seed(0)) * 2 - 1
    bad = image_metrics(noise, train, test, seed=12345)
    assert bad["kid"] > 10 * max(out["kid_floor"], 1e-6) and bad["kid_std"] >= 0
    assert math.isnan(image_metrics(fake[:300], train, None)["kid_floor"])  # no test split: no floor


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="same d"):
        mmd2_unbiased(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match=">= 2"):
        mmd2_unbiased(np.zeros((1, 2)), np.zeros((5, 2)))


def test_the_all_subsets_path_equals_subset_by_subset(monkeypatch):
    import gankit.metrics.kid as kid

    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(60, 6)), rng.normal(0.2, 1.0, size=(45, 6))
    fast = kid.kernel_distance(x, y, subsets=9, subset_size=20, seed=3)
    monkeypatch.setattr(kid, "FULL_KERNELS", 0)  # too big for the full kernels: one subset at a time
    slow = kid.kernel_distance(x, y, subsets=9, subset_size=20, seed=3)
    assert fast == (pytest.approx(slow[0], rel=1e-10), pytest.approx(slow[1], rel=1e-8))
