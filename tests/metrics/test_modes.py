import math

import pytest
import torch

from gankit.data.toy import grid25, ring8
from gankit.metrics.modes import ModeCoverage, mode_coverage


def test_hand_made_set_with_known_answer():
    src = ring8()
    c = src.centres
    # 3 samples on mode 0, 1 on mode 2, 1 just outside 3*std of mode 5, 1 far away
    samples = torch.stack([c[0], c[0] + torch.tensor([0.02, 0.0]), c[0] - torch.tensor([0.0, 0.029]),
                           c[2], c[5] + torch.tensor([0.031, 0.0]), torch.tensor([5.0, 5.0])])
    m = mode_coverage(samples, c, 0.01)
    assert m["modes"] == 2
    assert m["high_quality"] == pytest.approx(4 / 6)
    p = torch.tensor([3 / 4, 1 / 4], dtype=torch.float64)
    expected_kl = float((p * torch.log(p * 8)).sum())
    assert m["reverse_kl"] == pytest.approx(expected_kl, abs=1e-12)


def test_perfect_samples_score_all_modes_and_zero_kl():
    src = grid25()
    samples = src.centres.repeat(100, 1)  # every mode exactly 100 times
    m = mode_coverage(samples, src.centres, src.std)
    assert m == {"modes": 25.0, "high_quality": 1.0, "reverse_kl": 0.0}


def test_fresh_data_scores_near_perfect():
    src = ring8()
    x = src.sample(2500, torch.Generator().manual_seed(0))
    m = mode_coverage(x, src.centres, src.std)
    assert m["modes"] == 8
    # P(chi_2 distance < 3) = 1 - exp(-9/2) ~ 0.9889 for a 2-D isotropic Gaussian
    assert m["high_quality"] == pytest.approx(1 - math.exp(-4.5), abs=0.01)
    assert m["reverse_kl"] < 0.01


def test_collapsed_generator_has_kl_log_k():
    src = ring8()
    m = mode_coverage(src.centres[3].repeat(50, 1), src.centres, src.std)
    assert m["modes"] == 1
    assert m["reverse_kl"] == pytest.approx(math.log(8))


def test_no_high_quality_sample_gives_nan_kl():
    m = mode_coverage(torch.full((10, 2), 9.0), ring8().centres, 0.01)
    assert m["modes"] == 0 and m["high_quality"] == 0
    assert math.isnan(m["reverse_kl"])


def test_stateful_metric_equals_one_shot_and_sums():
    src = ring8()
    x = src.sample(1000, torch.Generator().manual_seed(1)) * 1.02
    metric = ModeCoverage(src.centres, src.std)
    for chunk in x.split(137):
        metric.update(chunk)
    assert metric.compute() == mode_coverage(x, src.centres, src.std)
    metric.reset()
    assert metric.n == 0
