"""The VAE front door: fit / sample / score / reconstruct, refusal before fit, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gankit import VAE, GankitError
from gankit.data.images import load_images

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def fitted() -> VAE:
    return VAE(latent_dim=4, steps=60, eval_every=20, seed=0, progress=False, g_width=64, d_width=64,
               **{"eval.n_samples": 300}).fit("digits")


def test_refuses_before_fit() -> None:
    vae = VAE()
    for call in (lambda: vae.sample(3), lambda: vae.score(np.zeros((2, 1, 8, 8))),
                 lambda: vae.reconstruct(np.zeros((2, 1, 8, 8))), lambda: vae.encode(np.zeros((2, 1, 8, 8)))):
        with pytest.raises(GankitError, match="not fitted"):
            call()


def test_unknown_parameter_is_refused() -> None:
    with pytest.raises(GankitError, match="unknown parameter 'widht'"):
        VAE(widht=3).fit("ring8")


def test_fit_learns_and_exposes_learned_state(fitted: VAE) -> None:
    assert fitted.n_steps_ == 60 and fitted.decoder_.latent_dim == 4
    h = [r for r in fitted.history_ if "eval_elbo" in r]  # evaluations (loss records also come every log_every)
    assert [r["step"] for r in h] == [20, 40, 60]
    assert h[-1]["eval_elbo"] > h[0]["eval_elbo"]  # ELBO rises
    assert h[-1]["eval_recon_mse"] < h[0]["eval_recon_mse"]  # reconstructions improve


def test_sample_is_deterministic_and_shaped(fitted: VAE) -> None:
    a, b, c = fitted.sample(16, seed=1), fitted.sample(16, seed=1), fitted.sample(16, seed=2)
    assert a.shape == (16, 1, 8, 8)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_score_is_mean_elbo_on_held_out_data(fitted: VAE) -> None:
    test = load_images("digits", split="test")
    m = fitted.elbo(test, seed=0)
    assert fitted.score(test, seed=0) == m["elbo"]
    assert abs(m["elbo"] + m["recon"] + m["kl"]) < 1e-6 * abs(m["elbo"]) and m["kl"] > 0
    # same numbers from the tensor as from the data set; another noise seed changes them a little
    assert fitted.score(test.images, seed=0) == m["elbo"]
    assert fitted.score(test, seed=1) != m["elbo"]
    # the importance-weighted bound (K = 50) is tighter than the one-draw ELBO on average
    assert fitted.log_likelihood(test, k=50, seed=0) > m["elbo"]
    rec = fitted.reconstruct(test.images[:5])
    mu, logvar = fitted.encode(test.images[:5])
    assert rec.shape == (5, 1, 8, 8) and mu.shape == logvar.shape == (5, 4)
    with pytest.raises(GankitError, match=r"x must have shape \(n, 1, 8, 8\)"):
        fitted.score(np.zeros((3, 64)))


def test_autoencoder_and_bernoulli_variants_train_on_arrays() -> None:
    x = np.random.default_rng(0).normal(size=(200, 3)).astype(np.float32)
    ae = VAE(model="autoencoder", latent_dim=2, steps=5, progress=False, eval_every=0, g_width=16, d_width=16).fit(x)
    assert "eval_elbo" not in ae.history_[-1] and np.isfinite(ae.score(x))
    imgs = load_images("digits", split="test").images[:100]
    vb = VAE(likelihood="bernoulli", latent_dim=2, steps=5, progress=False, eval_every=0, g_width=16,
             d_width=16).fit(imgs)
    s = vb.sample(4, seed=0)
    assert s.shape == (4, 1, 8, 8) and float(s.min()) >= -1 and float(s.max()) <= 1


def test_conv_vae_trains_samples_and_refuses_vectors() -> None:
    vae = VAE(model="vae-conv", latent_dim=4, steps=20, eval_every=10, progress=False, g_width=32, d_width=32,
              **{"eval.n_samples": 200}).fit("digits")
    assert type(vae.decoder_).__name__ == "ConvVAEDecoder"
    assert vae.sample(6, seed=0).shape == (6, 1, 8, 8)
    assert torch.equal(vae.sample(6, seed=0), vae.sample(6, seed=0))
    h = vae.history_
    assert h[-1]["eval_elbo"] > h[0]["eval_elbo"]
    with pytest.raises(GankitError, match="vae-conv needs images"):
        VAE(model="vae-conv", steps=2, progress=False).fit("ring8")
