r"""The VAE front door, shaped like scikit-learn (and like :class:`gankit.GAN`).

API
---
``VAE(latent_dim=8, likelihood="gaussian", beta=1.0, model="vae", preset="plain", config=None, **params)``
    ``params``: any ``train`` field (``steps``, ``batch_size``, ``lr_g``, ``lr_d``, ``seed``,
    ``eval_every``, ``progress``, ...), any ``model`` field (``g_width``, ``d_depth``, ...)
    or a dotted config key (``"eval.n_samples"``). ``model="vae-conv"`` is the convolutional
    VAE for images (H, W divisible by 4). ``model="autoencoder"`` gives the plain
    auto-encoder (then ``score`` is minus the reconstruction NLL, not an ELBO).
``fit(data="digits", out=None) -> self``; ``VAE.load(run_dir) -> VAE``
    ``data``: a registered source name (``"digits"`` = the digits **train** split,
    ``"ring8"``, ``"idx:PATH"``, ``"images:PATH"``), a mixture spec, a
    :class:`~gankit.data.toy.DataSource` (e.g. an ``ImageDataset``) or an array (n, *shape).
    ``out`` writes a run directory (as ``gankit train --model vae --out DIR``). A VAE starts
    from the ``plain`` preset (the library's defaults) with the keyword defaults above.
``sample(n, seed=0) -> Tensor (n, *shape)``
    Decoder means of :math:`z \sim N(0, I)`; the same seed gives the same samples. Image
    samples are in the data's [-1, 1] scale.
``score(x, seed=0) -> float``
    Mean one-draw ELBO per sample in nats (a lower bound on the mean :math:`\log p(x)`
    under the Gaussian decoder); ``x``: array/tensor (n, *shape) or an ``ImageDataset``.
``elbo(x, seed=0) -> dict``
    ``elbo``, ``recon`` (:math:`-\log p(x|z)`), ``kl``, ``recon_mse`` (means per sample).
``log_likelihood(x, k=100, seed=0) -> float``
    Mean importance-weighted bound on :math:`\log p(x)` with ``k`` draws (Burda et al.,
    2016): at least the ELBO, tending to :math:`\log p(x)` as ``k`` grows.
``reconstruct(x) -> Tensor``, ``encode(x) -> (mu, logvar)``
    Deterministic: decoder mean at :math:`z = \mu(x)`; the encoder's Gaussian.

``sample``, ``score``, ``elbo``, ``reconstruct`` and ``encode`` raise
:class:`~gankit.errors.GankitError` before ``fit``. Learned state: ``decoder_``,
``encoder_``, ``history_`` (records: the mean ``loss``, ``recon``, ``kl``, ``elbo`` every
``train.log_every`` steps; evaluations add ``eval_elbo``, ...), ``config_``, ``source_``,
``n_steps_``, ``device_``.

Example
-------
>>> from gankit import VAE
>>> from gankit.data.images import load_images
>>> vae = VAE(latent_dim=8, steps=2000, seed=0, progress=False).fit("digits")   # doctest: +SKIP
>>> x = vae.sample(64, seed=0)                      # (64, 1, 8, 8) in [-1, 1]     # doctest: +SKIP
>>> vae.score(load_images("digits", split="test"))  # held-out ELBO, nats/image   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .api import RunEstimator
from .config import RunConfig
from .data.toy import DataSource
from .errors import GankitError
from .models.vae import importance_log_likelihood
from .run import Run
from .sampling import generate
from .train.vae_trainer import reconstruct, vae_metrics

__all__ = ["VAE"]


class VAE(RunEstimator):
    """A variational auto-encoder with scikit-learn manners (see the module docstring)."""

    autoencoder = True

    def __init__(self, latent_dim: int = 8, likelihood: str = "gaussian", beta: float = 1.0, model: str = "vae",
                 preset: str = "plain", config: RunConfig | None = None, **params: Any) -> None:
        self.latent_dim, self.likelihood, self.beta, self.model = latent_dim, likelihood, beta, model
        self.preset, self.config, self.params = preset, config, params

    def _flags(self, data_name: str | None) -> dict[str, Any]:
        return {"model.name": self.model, "data.name": data_name, "model.latent_dim": self.latent_dim,
                "vae.likelihood": self.likelihood, "vae.beta": self.beta}

    def fit(self, data: str | DataSource | np.ndarray | Tensor = "digits", out: str | Path | None = None) -> VAE:
        """Train on a source name, a :class:`DataSource` or an array (n, *shape); returns self."""
        return self._fit(data, out)

    def _take(self, run: Run) -> None:
        super()._take(run)
        self.decoder_, self.encoder_ = run.parts.G, run.parts.D

    def _as_input(self, x: Any) -> Tensor:
        if hasattr(x, "images"):  # an ImageDataset
            x = x.images
        t = torch.as_tensor(np.asarray(x) if not isinstance(x, Tensor) else x).float()
        shape = self.decoder_.data_shape
        if t.ndim == 1 and shape == (1,):
            t = t.reshape(-1, 1)
        if t.ndim < 2 or tuple(t.shape[1:]) != shape:
            raise GankitError(f"x must have shape (n, {', '.join(map(str, shape))}) like the fitted data, "
                              f"got {tuple(t.shape)}")
        if not torch.isfinite(t).all():
            raise GankitError("x holds NaN or infinite values")
        return t.to(self.device_)

    def sample(self, n: int, seed: int = 0) -> Tensor:
        """``n`` decoder means of prior draws, (n, *shape); the same seed gives the same samples."""
        self._check_fitted()
        if not isinstance(n, int) or n < 1:
            raise GankitError(f"n must be a positive integer, got {n!r}")
        return generate(self.decoder_, n, seed, self.device_)

    def elbo(self, x: Any, seed: int = 0) -> dict[str, float]:
        """Mean ``elbo``, ``recon``, ``kl`` and ``recon_mse`` per sample of ``x`` (see :func:`vae_metrics`)."""
        self._check_fitted()
        return vae_metrics(self.decoder_, self.encoder_, self._as_input(x), seed, self.device_)

    def score(self, x: Any, seed: int = 0) -> float:
        """Mean one-draw ELBO per sample (nats): a lower bound on the mean log-likelihood of ``x``."""
        m = self.elbo(x, seed)
        return float(m["elbo"] if "elbo" in m else -m["recon"])

    def log_likelihood(self, x: Any, k: int = 100, seed: int = 0, batch: int = 256) -> float:
        r"""Mean importance-sampled bound on :math:`\log p(x)` per sample with ``k`` draws (IWAE; tighter than ``score``)."""
        self._check_fitted()
        if not isinstance(k, int) or k < 1:
            raise GankitError(f"k must be a positive integer, got {k!r}")
        if not self.encoder_.stochastic:
            raise GankitError("an autoencoder has no likelihood; use model='vae'")
        xs, gen = self._as_input(x), torch.Generator().manual_seed(seed)
        was = self.decoder_.training, self.encoder_.training
        self.decoder_.eval()
        self.encoder_.eval()
        total = sum(float(importance_log_likelihood(self.encoder_, self.decoder_, xs[i:i + batch], k, gen).sum())
                    for i in range(0, len(xs), batch))
        self.decoder_.train(was[0])
        self.encoder_.train(was[1])
        return total / len(xs)

    def reconstruct(self, x: Any) -> Tensor:
        """Decoder means at the encoder means, same shape as ``x`` (on the CPU)."""
        self._check_fitted()
        return reconstruct(self.decoder_, self.encoder_, self._as_input(x)).cpu()

    @torch.no_grad()
    def encode(self, x: Any) -> tuple[Tensor, Tensor]:
        """``(mu, logvar)`` of :math:`q(z \\mid x)`, each (n, latent_dim), on the CPU."""
        self._check_fitted()
        mu, logvar = self.encoder_(self._as_input(x))
        return mu.cpu(), logvar.cpu()
