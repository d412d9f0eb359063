"""ACGAN losses against a hand computation of the cross-entropy (TF-GAN's conventions), to 1e-5."""

import math

import pytest
import torch

from gankit.objectives.acgan import acgan_discriminator_loss, acgan_generator_loss

REAL = [[1.0, -0.5, 0.25], [0.0, 2.0, -1.0], [0.3, 0.3, 0.9], [-2.0, 1.0, 0.0]]
FAKE = [[-1.0, 0.5, 0.0], [1.5, -0.5, 0.5], [0.0, 0.0, 0.0], [0.2, -0.7, 1.1]]
LABELS = [0, 1, 2, 0]


def ce(row, k, ls=0.0):
    """-Σ_j t_j log softmax(row)_j with t = (1 - ls)·onehot(k) + ls/K, by hand."""
    lse = math.log(sum(math.exp(v) for v in row))
    K = len(row)
    return -sum(((1 - ls) * (j == k) + ls / K) * (row[j] - lse) for j in range(K))


def test_discriminator_loss_is_mean_ce_on_real_plus_fake():
    got = acgan_discriminator_loss(torch.tensor(REAL), torch.tensor(FAKE), torch.tensor(LABELS))
    want = sum(ce(r, k) for r, k in zip(REAL, LABELS)) / 4 + sum(ce(f, k) for f, k in zip(FAKE, LABELS)) / 4
    assert float(got) == pytest.approx(want, abs=1e-5)


def test_generator_loss_is_mean_ce_on_fake():
    got = acgan_generator_loss(torch.tensor(FAKE), torch.tensor(LABELS))
    assert float(got) == pytest.approx(sum(ce(f, k) for f, k in zip(FAKE, LABELS)) / 4, abs=1e-5)


def test_label_smoothing_smooths_the_real_term_only():
    ls = 0.2
    got = acgan_discriminator_loss(torch.tensor(REAL), torch.tensor(FAKE), torch.tensor(LABELS), label_smoothing=ls)
    want = sum(ce(r, k, ls) for r, k in zip(REAL, LABELS)) / 4 + sum(ce(f, k) for f, k in zip(FAKE, LABELS)) / 4
    assert float(got) == pytest.approx(want, abs=1e-5)
    plain = acgan_discriminator_loss(torch.tensor(REAL), torch.tensor(FAKE), torch.tensor(LABELS))
    assert abs(float(got) - float(plain)) > 1e-3


def test_weights_sum_by_nonzero_weights():
    w = [2.0, 0.0, 1.0, 0.5]  # three non-zero weights: sum(w·loss) / 3, as TF's SUM_BY_NONZERO_WEIGHTS
    got = acgan_generator_loss(torch.tensor(FAKE), torch.tensor(LABELS), weights=torch.tensor(w))
    assert float(got) == pytest.approx(sum(wi * ce(f, k) for wi, f, k in zip(w, FAKE, LABELS)) / 3, abs=1e-5)
    scalar = acgan_discriminator_loss(torch.tensor(REAL), torch.tensor(FAKE), torch.tensor(LABELS), weights=0.5)
    plain = acgan_discriminator_loss(torch.tensor(REAL), torch.tensor(FAKE), torch.tensor(LABELS))
    assert float(scalar) == pytest.approx(0.5 * float(plain), abs=1e-6)
    zero = acgan_generator_loss(torch.tensor(FAKE), torch.tensor(LABELS), weights=0.0)
    assert float(zero) == 0.0


def test_gradients_flow_to_both_logit_tensors():
    real = torch.tensor(REAL, requires_grad=True)
    fake = torch.tensor(FAKE, requires_grad=True)
    acgan_discriminator_loss(real, fake, torch.tensor(LABELS)).backward()
    assert real.grad.abs().sum() > 0 and fake.grad.abs().sum() > 0
