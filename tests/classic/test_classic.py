"""Classical baselines: moments of samples, likelihoods against scipy, digits accuracy, nb-text on a CSV."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from scipy.stats import multivariate_normal, norm
from sklearn.exceptions import NotFittedError as SkNotFittedError

from gankit.classic import (
    GaussianMixtureModel,
    GaussianNaiveBayesGenerator,
    MultinomialNBText,
    NotFittedError,
    nb_text,
)
from gankit.data.images import load_images
from gankit.errors import GankitError

Z = 5.0  # tolerances are Z standard errors of the estimate being checked


def two_blobs(n: int = 3000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.multivariate_normal([-2.0, 0.0], [[1.0, 0.6], [0.6, 0.8]], size=int(0.3 * n))
    b = rng.multivariate_normal([1.5, 1.0], [[0.3, 0.0], [0.0, 0.5]], size=n - len(a))
    return rng.permutation(np.vstack([a, b]))


# --------------------------------------------------------------------------- Gaussian mixture

def test_gmm_samples_match_data_moments() -> None:
    x = two_blobs()
    model = GaussianMixtureModel(n_components=2).fit(torch.from_numpy(x))
    assert model is not None and model.feature_shape_ == (2,)
    m = 40_000
    s = model.sample(m, seed=1)
    assert s.shape == (m, 2)
    mu, cov = x.mean(0), np.cov(x.T)
    # sample mean: standard error sqrt(var / m)
    assert np.all(np.abs(s.mean(0) - mu) < Z * np.sqrt(np.diag(cov) / m))
    # sample covariance entries: standard error from the data's 4th moments
    c = x - mu
    prods = c[:, :, None] * c[:, None, :]  # (n, 2, 2)
    se = prods.reshape(len(x), -1).std(0).reshape(2, 2) / np.sqrt(m)
    assert np.all(np.abs(np.cov(s.T) - cov) < Z * se + 1e-3)
    # the fitted mixture reproduces the first two moments of the data (an EM fixed point)
    w, means, covs = model.weights_, model.means_, model.covariances_
    model_mu = w @ means
    model_cov = sum(wk * (ck + np.outer(mk, mk)) for wk, mk, ck in zip(w, means, covs, strict=True)) - np.outer(model_mu, model_mu)
    assert np.allclose(model_mu, mu, atol=1e-3)
    assert np.allclose(model_cov, np.cov(x.T, bias=True), atol=1e-2)


def test_gmm_score_is_mean_log_density_checked_with_scipy() -> None:
    x = two_blobs(n=800)
    model = GaussianMixtureModel(n_components=2).fit(x)
    dens = np.stack([np.log(wk) + multivariate_normal(mk, ck).logpdf(x)
                     for wk, mk, ck in zip(model.weights_, model.means_, model.covariances_, strict=True)])
    assert abs(model.score(x) - logsumexp(dens, axis=0).mean()) < 1e-8


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 20 EM steps on purpose: fast
@pytest.mark.parametrize("cov_type", ["full", "tied", "diag", "spherical"])
def test_gmm_every_covariance_type_samples_and_images_keep_their_shape(cov_type: str) -> None:
    digits = load_images("digits", split="test")
    model = GaussianMixtureModel(n_components=3, covariance_type=cov_type, max_iter=20).fit(digits)
    s = model.sample(200, seed=0)
    assert s.shape == (200, 1, 8, 8) and np.all(np.isfinite(s))
    assert np.array_equal(s, model.sample(200, seed=0))
    assert np.isfinite(model.score(digits))


def test_gmm_bad_input() -> None:
    with pytest.raises(GankitError, match="accepted: full, tied, diag, spherical"):
        GaussianMixtureModel(covariance_type="round").fit(two_blobs(100))
    with pytest.raises(GankitError, match="NaN"):
        GaussianMixtureModel(2).fit(np.array([[0.0, np.nan], [1.0, 2.0], [3.0, 4.0]]))
    model = GaussianMixtureModel(2).fit(two_blobs(100))
    with pytest.raises(GankitError, match="3 features per sample"):
        model.score(np.zeros((4, 3)))


# --------------------------------------------------------------------------- Gaussian naive Bayes

def labelled_blobs(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    sizes, d = [1500, 900, 600], 4
    x = np.vstack([rng.normal(loc=3.0 * k - 3, scale=0.5 + 0.5 * k, size=(s, d)) for k, s in enumerate(sizes)])
    y = np.repeat([10, 20, 30], sizes)
    return x, y


def test_gnb_samples_match_fitted_parameters_and_priors() -> None:
    x, y = labelled_blobs()
    model = GaussianNaiveBayesGenerator().fit(x, y)
    m = 60_000
    xs, ys = model.sample(m, seed=2)
    assert xs.shape == (m, 4) and ys.shape == (m,)
    for k, c in enumerate(model.classes_):
        p = model.class_prior_[k]
        freq = np.mean(ys == c)
        assert abs(freq - p) < Z * np.sqrt(p * (1 - p) / m)
        rows = xs[ys == c]
        mk, var = len(rows), model.var_[k]
        assert np.all(np.abs(rows.mean(0) - model.theta_[k]) < Z * np.sqrt(var / mk))
        assert np.all(np.abs(rows.var(0, ddof=1) - var) < Z * var * np.sqrt(2 / (mk - 1)))
    assert np.allclose(model.class_prior_, [0.5, 0.3, 0.2])


def test_gnb_likelihood_against_scipy_and_sklearn() -> None:
    x, y = labelled_blobs()
    model = GaussianNaiveBayesGenerator().fit(x, y)
    ref = np.stack([np.log(model.class_prior_[k]) + norm(model.theta_[k], np.sqrt(model.var_[k])).logpdf(x).sum(1)
                    for k in range(3)], axis=1)  # (n, K)
    jll = model.joint_log_likelihood(x)
    assert np.allclose(jll, ref, rtol=1e-9, atol=1e-8)
    cols = np.searchsorted(model.classes_, y)
    assert abs(model.score(x, y) - ref[np.arange(len(y)), cols].mean()) < 1e-8
    assert abs(model.score(x) - logsumexp(ref, axis=1).mean()) < 1e-8
    assert model.score(x) >= model.score(x, y)  # log p(x) >= log p(x, y)
    assert np.allclose(model.predict_proba(x), model.nb_.predict_proba(x), atol=1e-9)


def test_gnb_classifies_digits_and_generates_conditioned_samples() -> None:
    train, test = load_images("digits", split="train"), load_images("digits", split="test")
    model = GaussianNaiveBayesGenerator().fit(train)  # labels come with the data set
    pred = model.predict(test)
    acc = float(np.mean(pred == test.labels.numpy()))
    assert acc > 0.75
    assert np.array_equal(pred, model.nb_.predict(test.images.reshape(len(test), -1).double().numpy()))
    xs, ys = model.sample(30, seed=0, y=7)
    assert xs.shape == (30, 1, 8, 8) and np.all(ys == 7)
    with pytest.raises(GankitError, match="unseen classes"):
        model.sample(3, y=11)
    with pytest.raises(GankitError, match="needs labels"):
        GaussianNaiveBayesGenerator().fit(np.zeros((5, 2)))


# --------------------------------------------------------------------------- text

SPAM = "win free prize cash offer click money urgent claim bonus".split()
HAM = "meeting lunch tomorrow project report family weekend call notes thanks".split()
SHARED = "the a you to and is".split()


def write_spam_csv(path: Path, n: int = 240, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "label", "text"])
        for i in range(n):
            label = "spam" if rng.random() < 0.4 else "ham"
            own, other = (SPAM, HAM) if label == "spam" else (HAM, SPAM)
            words = [rng.choice(own) if r < 0.6 else rng.choice(SHARED) if r < 0.9 else rng.choice(other)
                     for r in rng.random(10)]
            w.writerow([i, label, " ".join(words)])
    return path


def test_nb_text_on_spam_ham_csv(tmp_path: Path) -> None:
    res = nb_text(write_spam_csv(tmp_path / "sms.csv"), seed=0)
    json.dumps(res)  # the --json output must serialise
    assert res["n_rows"] == 240 and res["n_train"] + res["n_test"] == 240 and res["n_test"] == 60
    assert res["classes"] == ["ham", "spam"]
    assert sum(res["class_counts"].values()) == 240
    assert res["test_counts"]["spam"] + res["train_counts"]["spam"] == res["class_counts"]["spam"]
    assert res["accuracy"] > 0.95 and res["accuracy"] > res["majority_baseline"]
    assert set(res["top_words"]["spam"][:5]) <= set(SPAM)
    assert set(res["top_words"]["ham"][:5]) <= set(HAM)


def test_multinomial_nb_text_model(tmp_path: Path) -> None:
    texts = ["win cash now", "free prize win", "lunch meeting today", "project meeting notes"]
    labels = np.array(["spam", "spam", "ham", "ham"])
    model = MultinomialNBText().fit(texts, labels)
    assert model.predict(["free cash"]).tolist() == ["spam"]
    assert model.score(texts) >= model.score(texts, labels)
    gen, gl = model.sample(4, seed=0, length=5)
    assert len(gen) == 4 and all(len(t.split()) == 5 for t in gen) and set(gl) <= {"spam", "ham"}


def test_nb_text_errors_name_the_columns(tmp_path: Path) -> None:
    with pytest.raises(GankitError, match="does not exist"):
        nb_text(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(GankitError, match="is empty; required columns: label, text"):
        nb_text(tmp_path / "empty.csv")
    (tmp_path / "cols.csv").write_text("category,body\nspam,win\n")
    with pytest.raises(GankitError, match=r"has columns \['category', 'body'\]; required columns: label, text"):
        nb_text(tmp_path / "cols.csv")
    assert nb_text(write_spam_csv(tmp_path / "ok.csv", n=40), text_col="text", label_col="label")["n_rows"] == 40
    (tmp_path / "header.csv").write_text("label,text\n")
    with pytest.raises(GankitError, match="no rows"):
        nb_text(tmp_path / "header.csv")


# --------------------------------------------------------------------------- refuse before fit

@pytest.mark.parametrize("model, call", [
    (GaussianMixtureModel(), lambda m: m.sample(3, seed=0)),
    (GaussianMixtureModel(), lambda m: m.score(np.zeros((2, 2)))),
    (GaussianNaiveBayesGenerator(), lambda m: m.sample(3, seed=0)),
    (GaussianNaiveBayesGenerator(), lambda m: m.score(np.zeros((2, 2)))),
    (GaussianNaiveBayesGenerator(), lambda m: m.predict(np.zeros((2, 2)))),
    (MultinomialNBText(), lambda m: m.sample(3, seed=0)),
    (MultinomialNBText(), lambda m: m.score(["a b"])),
    (MultinomialNBText(), lambda m: m.predict(["a b"])),
])
def test_refuse_before_fit(model: object, call) -> None:
    with pytest.raises(NotFittedError, match=r"is not fitted yet: call \w+\(\.\.\.\)\.fit\(X\)") as err:
        call(model)
    assert isinstance(err.value, GankitError) and isinstance(err.value, SkNotFittedError)
