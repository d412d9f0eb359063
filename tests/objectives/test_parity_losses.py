"""The TF-GAN-parity losses (issue 22, item 1): hand computations from each paper's formula, TF-GAN's
own test vectors, its label-smoothing and weighting conventions, and the two new objectives.

The references below are plain NumPy, written from the formulas (Mao et al. 2017, eq. 9 with TF-GAN's
labels and ½; Jolicoeur-Martineau 2018, RaSGAN; Goodfellow et al. 2014), not from gankit's code.
TF-GAN's numbers are the expectations of ``tensorflow_gan/python/losses/losses_impl_test.py``.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

from gankit.config import ObjectiveConfig
from gankit.objectives import (
    gradient_penalty,
    hinge_discriminator_loss,
    hinge_generator_loss,
    least_squares_discriminator_loss,
    least_squares_generator_loss,
    make_objective,
    minimax_discriminator_loss,
    minimax_generator_loss,
    modified_discriminator_loss,
    modified_generator_loss,
    nonsaturating_discriminator_loss,
    nonsaturating_generator_loss,
    relativistic_discriminator_loss,
    relativistic_generator_loss,
    wasserstein_discriminator_loss,
    wasserstein_generator_loss,
    wasserstein_hinge_discriminator_loss,
    wgan_critic_loss,
    wgan_generator_loss,
)

TOL = 1e-5


def np_log_sigmoid(x):
    return -np.log1p(np.exp(-x)) if np.all(x > -30) else np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


def np_bce(logits, y):
    """−[y log σ(l) + (1 − y) log(1 − σ(l))], with log(1 − σ(l)) = log σ(−l)."""
    return -(y * np_log_sigmoid(logits) + (1 - y) * np_log_sigmoid(-logits))


def tf_reduce(terms, w):
    """SUM_BY_NONZERO_WEIGHTS: Σ w·ℓ over the number of non-zero (broadcast) weights, 0 if none."""
    w = np.broadcast_to(np.asarray(w, dtype=np.float64), terms.shape)
    n = np.count_nonzero(w)
    return float((w * terms).sum() / n) if n else 0.0


def draws(seed, n=37, m=23, scale=3.0):
    rng = np.random.default_rng(seed)
    return rng.normal(0, scale, n), rng.normal(0.5, scale, m)


def t(x):
    return torch.as_tensor(x, dtype=torch.float64)


SEEDS = [0, 1, 2, 3, 4]


@pytest.mark.parametrize("seed", SEEDS)
def test_least_squares_losses_are_half_squared_errors_to_labels_one_and_zero(seed):
    r, f = draws(seed)
    d_ref = 0.5 * np.mean((r - 1) ** 2) + 0.5 * np.mean((f - 0) ** 2)
    g_ref = 0.5 * np.mean((f - 1) ** 2)
    assert float(least_squares_discriminator_loss(t(r), t(f))) == pytest.approx(d_ref, abs=TOL)
    assert float(least_squares_generator_loss(t(f))) == pytest.approx(g_ref, abs=TOL)
    # other labels, as TF-GAN's real_label / fake_label
    d_ab = 0.5 * np.mean((r - 0.9) ** 2) + 0.5 * np.mean((f + 1) ** 2)
    assert float(least_squares_discriminator_loss(t(r), t(f), 0.9, -1.0)) == pytest.approx(d_ab, abs=TOL)
    assert float(least_squares_generator_loss(t(f), 0.5)) == pytest.approx(0.5 * np.mean((f - 0.5) ** 2), abs=TOL)


@pytest.mark.parametrize("seed", SEEDS)
def test_relativistic_losses_follow_rasgan(seed):
    r, f = draws(seed)
    d_real = 1 / (1 + np.exp(-(r - f.mean())))  # D̃(x_r) = σ(C(x_r) − E C(x_f))
    d_fake = 1 / (1 + np.exp(-(f - r.mean())))  # D̃(x_f) = σ(C(x_f) − E C(x_r))
    d_ref = -np.mean(np.log(d_real)) - np.mean(np.log(1 - d_fake))
    g_ref = -np.mean(np.log(d_fake)) - np.mean(np.log(1 - d_real))
    assert float(relativistic_discriminator_loss(t(r), t(f))) == pytest.approx(d_ref, abs=TOL)
    assert float(relativistic_generator_loss(t(r), t(f))) == pytest.approx(g_ref, abs=TOL)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("ls", [0.0, 0.1, 0.25, 1.0])
def test_label_smoothing_moves_the_real_label_to_one_minus_half_ls(seed, ls):
    # TF: new_labels = labels·(1 − ls) + ½·ls, applied to the real side only; the fake label stays 0
    r, f = draws(seed)
    y = 1.0 * (1 - ls) + 0.5 * ls
    d_ref = np.mean(np_bce(r, y)) + np.mean(np_bce(f, 0.0))
    for loss in (minimax_discriminator_loss, nonsaturating_discriminator_loss, modified_discriminator_loss):
        assert float(loss(t(r), t(f), ls)) == pytest.approx(d_ref, abs=TOL)
        assert float(loss(t(r), t(f), label_smoothing=ls)) == pytest.approx(d_ref, abs=TOL)
    assert float(nonsaturating_generator_loss(t(f), ls)) == pytest.approx(np.mean(np_bce(f, y)), abs=TOL)


def test_label_smoothing_defaults_to_zero():
    for fn in (minimax_discriminator_loss, nonsaturating_discriminator_loss, nonsaturating_generator_loss):
        assert inspect.signature(fn).parameters["label_smoothing"].default == 0.0
    r, f = draws(9)
    plain = np.mean(np_bce(r, 1.0)) + np.mean(np_bce(f, 0.0))  # −V of Goodfellow's game
    assert float(minimax_discriminator_loss(t(r), t(f))) == pytest.approx(plain, abs=TOL)


REAL = [-5.0, 1.4, 12.5, 2.7]
GEN = [10.0, 4.4, -5.5, 3.6]
LOG_SIGMOID_1 = float(np_log_sigmoid(np.array(1.0)))


@pytest.mark.parametrize("g_fn, d_fn, d_kwargs, g_want, d_want", [
    (least_squares_generator_loss, least_squares_discriminator_loss, {}, 17.69625, 41.73375),
    (modified_generator_loss, modified_discriminator_loss, {"label_smoothing": 0.25}, 1.38582, 6.19637),
    # TF-GAN's minimax G loss adds log σ(1) (its real side on a constant logit 1): gankit drops that constant
    (minimax_generator_loss, minimax_discriminator_loss, {"label_smoothing": 0.25}, -4.82408 - LOG_SIGMOID_1, 6.19637),
    (wasserstein_generator_loss, wasserstein_discriminator_loss, {}, -3.125, 0.225),
    (hinge_generator_loss, wasserstein_hinge_discriminator_loss, {}, -3.125, 6.75),
])
def test_tf_gans_own_test_vectors(g_fn, d_fn, d_kwargs, g_want, d_want):
    real, gen = torch.tensor(REAL), torch.tensor(GEN)  # float32, as TF-GAN's test
    assert float(g_fn(gen)) == pytest.approx(g_want, abs=TOL)
    assert float(d_fn(real, gen, **d_kwargs)) == pytest.approx(d_want, abs=TOL)
    # TF-GAN's weights test: a scalar 2.3 scales the loss
    assert float(g_fn(gen, weights=2.3)) == pytest.approx(2.3 * g_want, abs=1e-4)
    assert float(d_fn(real, gen, real_weights=2.3, generated_weights=2.3, **d_kwargs)) == pytest.approx(2.3 * d_want,
                                                                                                         abs=1e-4)
    assert float(d_fn(real, gen, weights=2.3, **d_kwargs)) == pytest.approx(2.3 * d_want, abs=1e-4)


def test_tf_gans_relativistic_test_vector():
    real, gen = torch.tensor([-2.0, 0.4, 12.5, 2.7]), torch.tensor(GEN)
    assert float(relativistic_generator_loss(real, gen)) == pytest.approx(4.9401135, abs=TOL)
    assert float(relativistic_discriminator_loss(real, gen)) == pytest.approx(4.390114, abs=TOL)


def _per_example_cases(seed):
    """(gankit loss on (r, f, **kw), NumPy terms (real, fake), kind) for every loss with two sides."""
    r, f = draws(seed, 16, 16)
    rr, ff = r - f.mean(), f - r.mean()
    return r, f, [
        (minimax_discriminator_loss, np_bce(r, 1.0), np_bce(f, 0.0)),
        (least_squares_discriminator_loss, 0.5 * (r - 1) ** 2, 0.5 * f**2),
        (relativistic_discriminator_loss, np_bce(rr, 1.0), np_bce(ff, 0.0)),
        (relativistic_generator_loss, np_bce(rr, 0.0), np_bce(ff, 1.0)),
        (wgan_critic_loss, -r, f),
        (hinge_discriminator_loss, np.maximum(0, 1 - r), np.maximum(0, 1 + f)),
    ]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_per_example_weights_reduce_as_tf_gan(seed):
    rng = np.random.default_rng(100 + seed)
    r, f, cases = _per_example_cases(seed)
    wr, wf = rng.uniform(0, 3, 16), rng.uniform(0, 3, 16)
    wr[[1, 5]] = 0.0  # zero weights do not count in the denominator
    w_both = rng.uniform(0.5, 2, 16)
    for fn, real_terms, fake_terms in cases:
        want = tf_reduce(real_terms, wr) + tf_reduce(fake_terms, wf)
        assert float(fn(t(r), t(f), real_weights=t(wr), generated_weights=t(wf))) == pytest.approx(want, abs=TOL)
        both = tf_reduce(real_terms, wr * w_both) + tf_reduce(fake_terms, wf * w_both)
        got = fn(t(r), t(f), real_weights=t(wr), generated_weights=t(wf), weights=t(w_both))
        assert float(got) == pytest.approx(both, abs=TOL)
        # (n, 1) outputs with (n,) weights: one weight per example, not an (n, n) outer product
        got = fn(t(r)[:, None], t(f)[:, None], real_weights=t(wr), generated_weights=t(wf))
        assert float(got) == pytest.approx(want, abs=TOL)


@pytest.mark.parametrize("seed", [0, 1])
def test_generator_losses_take_weights(seed):
    rng = np.random.default_rng(seed)
    _, f = draws(seed, 16, 16)
    w = rng.uniform(0, 2, 16)
    w[3] = 0.0
    for fn, terms in ((nonsaturating_generator_loss, np_bce(f, 1.0)), (minimax_generator_loss, -np_bce(f, 0.0)),
                      (least_squares_generator_loss, 0.5 * (f - 1) ** 2), (wgan_generator_loss, -f),
                      (hinge_generator_loss, -f)):
        assert float(fn(t(f), weights=t(w))) == pytest.approx(tf_reduce(terms, w), abs=TOL)
        assert float(fn(t(f), weights=0.7)) == pytest.approx(0.7 * terms.mean(), abs=TOL)
        assert float(fn(t(f), weights=t(np.zeros(16)))) == 0.0  # no weight present: 0, as TF's safe division


def test_weights_of_the_wrong_shape_are_refused():
    with pytest.raises(ValueError, match="do not broadcast"):
        least_squares_generator_loss(torch.zeros(4), weights=torch.ones(3))


def test_gradient_penalty_is_tf_gans_with_target_and_weights():
    rng = np.random.default_rng(7)
    norms = rng.uniform(0, 3, 50)
    w = rng.uniform(0, 2, 50)
    for target in (1.0, 0.25, 2.0):
        two = (norms / target - 1) ** 2  # TF-GAN: penalties = slopes / target − 1, squared
        one = np.maximum(0, norms / target - 1) ** 2
        assert float(gradient_penalty(t(norms), target=target)) == pytest.approx(two.mean(), abs=1e-12)
        assert float(gradient_penalty(t(norms), True, target)) == pytest.approx(one.mean(), abs=1e-12)
        assert float(gradient_penalty(t(norms), target=target, weights=t(w))) == pytest.approx(tf_reduce(two, w),
                                                                                            abs=1e-12)


def test_argument_order_is_tf_gans():
    def names(fn):
        return [p for p in inspect.signature(fn).parameters if p != "weights"]

    assert names(least_squares_discriminator_loss)[2:] == ["real_label", "fake_label", "real_weights",
                                                           "generated_weights"]
    assert names(least_squares_generator_loss)[1:] == ["real_label"]
    assert names(minimax_discriminator_loss)[2:] == ["label_smoothing", "real_weights", "generated_weights"]
    assert list(inspect.signature(nonsaturating_generator_loss).parameters)[1:] == ["label_smoothing", "weights"]
    assert names(wasserstein_hinge_discriminator_loss)[2:] == ["real_weights", "generated_weights", "real_hinge",
                                                               "generated_hinge"]
    assert names(relativistic_generator_loss)[:2] == ["real_logits", "fake_logits"]


def _D():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1), torch.nn.Flatten(0))


def test_lsgan_objective_is_the_two_functions():
    D, real, fake = _D(), torch.randn(32, 2), torch.randn(32, 2)
    obj = make_objective(ObjectiveConfig("lsgan"))
    assert torch.equal(obj.discriminator_loss(D, real, fake)[0], least_squares_discriminator_loss(D(real), D(fake)))
    assert torch.equal(obj.generator_loss(D, fake), least_squares_generator_loss(D(fake)))
    assert float(obj.d_output(torch.tensor(0.5))) == 0.0  # D* = ½ is the undecided level


def test_relativistic_objective_uses_the_latest_real_batch():
    D, real, fake = _D(), torch.randn(32, 2), torch.randn(32, 2)
    obj = make_objective(ObjectiveConfig("relativistic"))
    before = obj.generator_loss(D, fake)  # no D step yet: the fakes stand in for the data
    assert torch.isfinite(before)
    loss, logs = obj.discriminator_loss(D, real, fake)
    assert torch.equal(loss, relativistic_discriminator_loss(D(real), D(fake)))
    assert float(logs["estimate"]) == pytest.approx(float((D(real).mean() - D(fake).mean()).detach()))
    assert torch.equal(obj.generator_loss(D, fake), relativistic_generator_loss(D(real), D(fake)))


@pytest.mark.parametrize("name", ["lsgan", "relativistic"])
def test_trains_from_the_command_line(name, tmp_path):
    from gankit.cli import main

    out = tmp_path / name
    tiny = ["train.steps=12", "train.eval_every=6", "train.checkpoint_every=6", "model.g_width=16",
            "model.d_width=16", "train.batch_size=16", "eval.n_samples=200", "eval.w1_samples=50",
            "train.progress=false", "train.snapshots=false"]
    assert main(["train", "--objective", name, "--out", str(out), *sum((["--set", s] for s in tiny), [])]) == 0
    assert (out / "metrics.json").is_file()


def test_objective_label_smoothing_reaches_the_ns_and_minimax_discriminators():
    from gankit.errors import GankitError

    D, real, fake = _D(), torch.randn(32, 2), torch.randn(32, 2)
    r, f = D(real).detach().double().numpy(), D(fake).detach().double().numpy()
    want = np.mean(np_bce(r, 1 - 0.3 / 2)) + np.mean(np_bce(f, 0.0))
    for name in ("ns", "minimax"):
        obj = make_objective(ObjectiveConfig(name, label_smoothing=0.3))
        assert float(obj.discriminator_loss(D, real, fake)[0]) == pytest.approx(want, abs=TOL)
    plain = make_objective(ObjectiveConfig("ns"))
    assert float(plain.discriminator_loss(D, real, fake)[0]) == pytest.approx(
        np.mean(np_bce(r, 1.0)) + np.mean(np_bce(f, 0.0)), abs=TOL)
    with pytest.raises(GankitError, match="label_smoothing applies to the objectives ns, minimax"):
        make_objective(ObjectiveConfig("lsgan", label_smoothing=0.1))


def test_fgan_losses_take_weights():
    from gankit.objectives import (
        fgan_discriminator_loss,
        fgan_generator_loss,
        fgan_nonsaturating_generator_loss,
    )

    rng = np.random.default_rng(12)
    r, f = draws(12, 16, 16, scale=1.0)
    wr, wf = rng.uniform(0, 2, 16), rng.uniform(0, 2, 16)
    wf[0] = 0.0
    # KL: g_f(v) = v, f*(g_f(v)) = exp(v − 1) (f-GAN Table 2)
    want = -(tf_reduce(r, wr) - tf_reduce(np.exp(f - 1), wf))
    assert float(fgan_discriminator_loss("kl", t(r), t(f), t(wr), t(wf))) == pytest.approx(want, abs=TOL)
    assert float(fgan_discriminator_loss("kl", t(r), t(f))) == pytest.approx(-(r.mean() - np.exp(f - 1).mean()),
                                                                             abs=TOL)
    assert float(fgan_generator_loss("kl", t(f), t(wf))) == pytest.approx(-tf_reduce(np.exp(f - 1), wf), abs=TOL)
    assert float(fgan_nonsaturating_generator_loss("kl", t(f), 2.0)) == pytest.approx(-2.0 * f.mean(), abs=TOL)


def test_lsgan_trains_with_its_own_r1_default():
    """`gankit train --objective lsgan` takes R1 γ = 0.1 (its default); a user's --set wins."""
    from gankit.run.presets import resolve

    assert resolve(flags={"objective.name": "lsgan"}).cfg.objective.r1 == 0.1
    assert resolve(flags={"objective.name": "lsgan"}, sets=["objective.r1=0.01"]).cfg.objective.r1 == 0.01
    assert resolve(flags={"objective.name": "relativistic"}).cfg.objective.r1 == resolve().cfg.objective.r1
