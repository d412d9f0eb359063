r"""Variational auto-encoder (Kingma & Welling, 2014) and a plain auto-encoder, as MLPs.

Registered as ``vae`` and ``autoencoder`` in :data:`gankit.registry.MODELS`, the pair fills
the ``(G, D)`` slots of a run: ``G`` = :class:`VAEDecoder` (``z → x``; called like a
generator it returns the decoder mean :math:`E[x \mid z]`, so sampling and evaluation work
unchanged) and ``D`` = :class:`VAEEncoder` (``x → (mu, logvar)``, the Gaussian
:math:`q(z \mid x)`). Training is :class:`gankit.train.vae_trainer.VAETrainer`.

The loss is :math:`\frac1B \sum_b [-\log p(x_b \mid z_b) + \beta\,\mathrm{KL}_b]` with one
reparameterised draw of :math:`z` and the KL in closed form (``vae.beta``; 1 is the ELBO,
otherwise the β-VAE of Higgins et al., 2017); the reported ``elbo`` is always the β = 1 value.
KL warm-up (``vae.kl_warmup``) raises the KL weight linearly from 0 to β (Bowman et al., 2016).

Likelihoods (``vae.likelihood``): ``"gaussian"`` has one learned standard deviation per
feature, at least ``min_std`` (a "calibrated decoder", Rybkin et al., 2021), with
:math:`\log\sigma = 10\rho` so that Adam moves it as fast as the decoder mean; a proper
density on the data scale, so the ELBO bounds :math:`\log p(x)`. ``"bernoulli"`` scores
pixels mapped to [0, 1] with binary cross-entropy (not a density for grey levels). The
``autoencoder`` uses :math:`z = \mu`, no KL. Why each choice: ``docs/vae_classic.md``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ..config import VAEConfig
from ..errors import GankitError
from ..registry import MODELS
from .mlp import _mlp

__all__ = ["lecture_kl_term", "gaussian_kl", "reparameterise", "gaussian_nll", "bernoulli_nll", "vae_loss",
           "VAEEncoder", "VAEDecoder", "elbo_terms", "importance_log_likelihood", "is_vae", "LIKELIHOODS",
           "make_vae"]

LIKELIHOODS = ("gaussian", "bernoulli")
_LOG_2PI = math.log(2 * math.pi)


def lecture_kl_term(m: Tensor, sigma: Tensor) -> Tensor:
    r"""The lecture's KL term :math:`\sum_i \big(e^{\sigma_i} - (1 + \sigma_i) + m_i^2\big)`.

    Here :math:`\sigma` is the **log-variance** of the encoder's Gaussian, so the term
    equals :math:`2\,\mathrm{KL}(N(m, \operatorname{diag} e^{\sigma}) \,\|\, N(0, I))`:
    the lecture drops the factor 1/2 (it only rescales the loss).

    Parameters
    ----------
    m, sigma : Tensor, shape (..., latent_dim)
        Mean and log-variance.

    Returns
    -------
    Tensor, shape (...)
        Summed over the last dimension (one value per sample; no batch reduction).

    Examples
    --------
    >>> lecture_kl_term(torch.zeros(3, 2), torch.zeros(3, 2))
    tensor([0., 0., 0.])
    """
    return (sigma.exp() - (1 + sigma) + m.square()).sum(-1)


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    r""":math:`\mathrm{KL}(N(\mu, \operatorname{diag} e^{\mathrm{logvar}}) \| N(0, I))` in the usual code form.

    .. math::
        -\tfrac12 \sum_i \big(1 + \log\sigma_i^2 - \mu_i^2 - \sigma_i^2\big)
        = \tfrac12\,\text{lecture\_kl\_term}(\mu, \log\sigma^2)

    (Kingma & Welling, 2014, appendix B.) Shapes as :func:`lecture_kl_term`: (..., latent) → (...).
    """
    return -0.5 * (1 + logvar - mu.square() - logvar.exp()).sum(-1)


def reparameterise(mu: Tensor, logvar: Tensor, eps: Tensor) -> Tensor:
    r"""The reparameterisation trick: :math:`z = \mu + e^{\mathrm{logvar}/2} \odot \varepsilon`.

    ``eps`` is :math:`N(0, I)` noise of the same shape, drawn by the caller (from a seeded
    generator), so gradients flow to ``mu`` and ``logvar`` and runs are reproducible.
    """
    return mu + (0.5 * logvar).exp() * eps


def gaussian_nll(x: Tensor, mean: Tensor, log_std: Tensor) -> Tensor:
    r""":math:`-\log N(x; \text{mean}, \operatorname{diag}\sigma^2) = \sum_j \big[\tfrac12 ((x_j-m_j)/\sigma_j)^2 + \log\sigma_j + \tfrac12\log 2\pi\big]`.

    ``x``, ``mean``: (batch, d); ``log_std``: (d,) or (batch, d). Returns (batch,) in nats.
    """
    return (0.5 * ((x - mean) * (-log_std).exp()).square() + log_std + 0.5 * _LOG_2PI).sum(-1)


def bernoulli_nll(x01: Tensor, logits: Tensor) -> Tensor:
    r""":math:`-\sum_j \big[x_j \log \sigma(l_j) + (1 - x_j) \log(1 - \sigma(l_j))\big]` on logits; (batch, d) → (batch,)."""
    return F.binary_cross_entropy_with_logits(logits, x01, reduction="none").sum(-1)


def vae_loss(recon_nll: Tensor, kl: Tensor, beta: float = 1.0) -> Tensor:
    r"""Negative (β-)ELBO reduced by mean: :math:`\frac1B \sum_b (\text{recon\_nll}_b + \beta\,\text{kl}_b)`.

    Kingma & Welling (2014), eq. (10); β-VAE (Higgins et al., 2017) for ``beta != 1``.
    """
    return (recon_nll + beta * kl).mean()


class VAEEncoder(nn.Module):
    """q(z | x): sample (batch, *data_shape) → (mu, logvar), each (batch, latent_dim).

    ``depth`` hidden layers of ``width`` units; ``depth=0`` is a linear encoder.
    With ``stochastic=False`` (plain auto-encoder) ``logvar`` is still returned but unused.
    """

    def __init__(self, data_shape: tuple[int, ...], latent_dim: int, width: int = 256, depth: int = 3,
                 activation: str = "relu", stochastic: bool = True) -> None:
        super().__init__()
        self.data_shape, self.latent_dim, self.stochastic = tuple(data_shape), latent_dim, stochastic
        self.net = _mlp(math.prod(self.data_shape), width, depth, 2 * latent_dim, activation)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = self.net(x.reshape(x.shape[0], -1))  # (batch, 2 * latent)
        mu, logvar = h.chunk(2, dim=1)
        return mu, logvar.clamp(-30.0, 20.0)  # keeps exp(logvar) finite early in training


class VAEDecoder(nn.Module):
    """p(x | z): latent (batch, latent_dim) → decoder mean (batch, *data_shape), like a generator.

    Parameters
    ----------
    latent_dim : int
    data_shape : tuple of int
    width, depth, activation
        MLP body (``depth=0``: a linear decoder).
    likelihood : {"gaussian", "bernoulli"}
    beta, kl_warmup : float, int
        KL weight, raised by the trainer linearly from 0 over ``kl_warmup`` steps (0: at once).
    min_std : float
        Lower bound of the Gaussian decoder's per-feature standard deviation.

    Attributes
    ----------
    log_std : nn.Parameter (d,)
        ρ, with log σ = ``std_speed * log_std`` (Gaussian only); read σ with :meth:`decoder_log_std`.
    """

    def __init__(self, latent_dim: int, data_shape: tuple[int, ...], width: int = 256, depth: int = 3,
                 activation: str = "relu", likelihood: str = "gaussian", beta: float = 1.0,
                 min_std: float = 1e-3, kl_warmup: int = 0) -> None:
        super().__init__()
        if likelihood not in LIKELIHOODS:
            raise GankitError(f"unknown VAE likelihood {likelihood!r}; accepted: {', '.join(LIKELIHOODS)}")
        self.latent_dim, self.data_shape = latent_dim, tuple(data_shape)
        self.likelihood, self.beta, self.min_std, self.kl_warmup = likelihood, beta, min_std, kl_warmup
        d = math.prod(self.data_shape)
        self.net = _mlp(latent_dim, width, depth, d, activation)
        self.log_std = nn.Parameter(torch.zeros(d)) if likelihood == "gaussian" else None
        self.std_speed = 10.0  # log sigma = std_speed * log_std (see the module docstring)

    def raw(self, z: Tensor) -> Tensor:
        """Decoder output before the mean map: Gaussian mean or Bernoulli logits, (batch, d)."""
        return self.net(z)

    def forward(self, z: Tensor) -> Tensor:
        out = self.raw(z)
        if self.likelihood == "bernoulli":
            out = 2 * out.sigmoid() - 1  # probability of a white pixel, back on [-1, 1]
        return out.view(z.shape[0], *self.data_shape)

    def nll(self, x: Tensor, raw: Tensor) -> Tensor:
        r""":math:`-\log p(x \mid z)` per sample (batch,), from ``raw = self.raw(z)``; ``x`` (batch, *shape)."""
        x = x.reshape(x.shape[0], -1)
        if self.likelihood == "bernoulli":
            return bernoulli_nll((x + 1) / 2, raw)
        return gaussian_nll(x, raw, self.decoder_log_std())

    def decoder_log_std(self) -> Tensor:
        r""":math:`\log\sigma_j` of the Gaussian likelihood per feature, (d,), bounded below by ``log(min_std)``."""
        return (self.std_speed * self.log_std).clamp(min=math.log(self.min_std))


def elbo_terms(encoder: VAEEncoder, decoder: VAEDecoder, x: Tensor, eps: Tensor | None) -> dict[str, Tensor]:
    r"""One-draw ELBO terms per sample: ``recon`` :math:`= -\log p(x|z)`, ``kl``, ``elbo`` :math:`= -\text{recon} - \text{kl}`.

    ``x`` (batch, *shape); ``eps`` (batch, latent) standard normal noise, or ``None`` for
    the deterministic auto-encoder (:math:`z = \mu`, ``kl`` = 0). Every value is (batch,).
    """
    mu, logvar = encoder(x)
    if eps is None or not encoder.stochastic:
        z, kl = mu, torch.zeros_like(mu[:, 0])
    else:
        z, kl = reparameterise(mu, logvar, eps), gaussian_kl(mu, logvar)
    recon = decoder.nll(x, decoder.raw(z))
    return {"recon": recon, "kl": kl, "elbo": -(recon + kl)}


@torch.no_grad()
def importance_log_likelihood(encoder: VAEEncoder, decoder: VAEDecoder, x: Tensor, k: int = 100,
                              generator: torch.Generator | None = None) -> Tensor:
    r"""Importance-sampled bound on :math:`\log p(x)` per sample (Burda et al., 2016, IWAE).

    .. math::
        \log p(x) \ge E\Big[\log \frac1K \sum_{k=1}^K \frac{p(x \mid z_k)\,p(z_k)}{q(z_k \mid x)}\Big],
        \quad z_k \sim q(z \mid x),

    never looser than the ELBO (:math:`K = 1`), tight as :math:`K \to \infty` or when ``q`` is the
    true posterior. ``x`` (batch, *shape) → (batch,) in nats; noise from ``generator``.
    """
    mu, logvar = encoder(x)  # (batch, latent)
    eps = torch.randn(k, *mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)  # (k, batch, latent)
    z = reparameterise(mu, logvar, eps)
    log_q = -0.5 * (eps.square() + logvar + _LOG_2PI).sum(-1)  # (k, batch)
    log_prior = -0.5 * (z.square() + _LOG_2PI).sum(-1)  # (k, batch)
    xk = x.unsqueeze(0).expand(k, *x.shape).reshape(k * x.shape[0], *x.shape[1:])
    log_lik = -decoder.nll(xk, decoder.raw(z.reshape(-1, z.shape[-1]))).reshape(k, -1)  # (k, batch)
    return torch.logsumexp(log_lik + log_prior - log_q, dim=0) - math.log(k)


def is_vae(G: nn.Module, D: nn.Module) -> bool:
    """Whether the pair ``(G, D)`` is a (variational) auto-encoder rather than a GAN."""
    return isinstance(G, VAEDecoder) and isinstance(D, VAEEncoder)


@MODELS.register("vae", help="variational auto-encoder: MLP encoder/decoder (latent_dim, g_/d_width, vae.*)")
def make_vae(cfg, data_shape: tuple[int, ...], stochastic: bool = True,
             vae: VAEConfig | None = None) -> tuple[nn.Module, nn.Module]:
    """Build ``(decoder, encoder)`` for the ``(G, D)`` slots from a :class:`~gankit.config.ModelConfig` and ``vae``.

    Decoder sizes from ``g_width``/``g_depth``, encoder from ``d_*``; ``vae`` defaults to :class:`~gankit.config.VAEConfig`.
    """
    vae = vae or VAEConfig()
    dec = VAEDecoder(cfg.latent_dim, data_shape, cfg.g_width, cfg.g_depth, cfg.activation,
                     likelihood=vae.likelihood, beta=vae.beta, kl_warmup=vae.kl_warmup)
    enc = VAEEncoder(data_shape, cfg.latent_dim, cfg.d_width, cfg.d_depth, cfg.activation, stochastic=stochastic)
    return dec, enc


@MODELS.register("autoencoder", help="deterministic auto-encoder (same MLPs as vae, z = mu, no KL)")
def make_autoencoder(cfg, data_shape: tuple[int, ...], vae: VAEConfig | None = None) -> tuple[nn.Module, nn.Module]:
    """Build ``(decoder, encoder)`` of a plain auto-encoder (samples from N(0, I) are not meaningful)."""
    return make_vae(cfg, data_shape, stochastic=False, vae=vae)
