r"""Training a (variational) auto-encoder with the GAN run machinery.

The ``vae`` model factory puts ``(decoder, encoder)`` in the ``(G, D)`` slots, and
:class:`VAETrainer` replaces only :meth:`~VAETrainer.train_step`: the loop, callbacks,
checkpoints and bit-exact resume are the GAN trainer's. One step descends
:math:`\frac1B\sum_b[-\log p(x_b|z_b) + \beta\,\mathrm{KL}(q(z|x_b)\|N(0,I))]` on encoder
(``opt_d``) and decoder (``opt_g``) together, and logs ``loss``, ``recon``, ``kl`` and
``elbo`` (β = 1; the last two not for the plain auto-encoder) in nats per sample.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from ..data.toy import DataSource
from ..models.vae import VAEDecoder, VAEEncoder, elbo_terms, vae_loss
from .trainer import Trainer

__all__ = ["VAETrainer", "vae_metrics", "vae_eval_fn", "reconstruct"]


class VAETrainer(Trainer):
    """The GAN trainer with a VAE step: ``G`` is the :class:`VAEDecoder`, ``D`` the :class:`VAEEncoder`.

    Same constructor as :class:`~gankit.train.trainer.Trainer` (``objective`` is unused
    and may be ``None``).
    """

    def train_step(self) -> None:
        dec, enc = self.G, self.D
        x = self.real_batch()  # (batch, *shape)
        eps = self.noise(x.shape[0]) if enc.stochastic else None  # (batch, latent)
        t = elbo_terms(enc, dec, x, eps)
        # Minimise -ELBO (beta-weighted KL); the auto-encoder has kl = 0.
        beta = dec.beta * min(1.0, (self.step + 1) / dec.kl_warmup) if dec.kl_warmup else dec.beta  # KL warm-up
        loss = vae_loss(t["recon"], t["kl"], beta)
        self.opt_g.zero_grad(set_to_none=True)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        self.opt_d.step()
        logs = {"loss": loss, "recon": t["recon"]} | ({"kl": t["kl"], "elbo": t["elbo"]} if enc.stochastic else {})
        for k, v in logs.items():
            self.pending.setdefault(k, []).append(v.detach().mean())  # (batch,) -> ()


@torch.no_grad()
def vae_metrics(dec: VAEDecoder, enc: VAEEncoder, x: Tensor, seed: int = 12345,
                device: torch.device | str = "cpu", batch: int = 1024) -> dict[str, float]:
    """Mean one-draw ELBO, reconstruction NLL and KL per sample of the rows of ``x`` (nats).

    The noise comes from a generator seeded ``seed`` (same seed, same numbers). Keys:
    ``elbo``, ``recon``, ``kl`` (``elbo`` and ``kl`` only for a VAE) and ``recon_mse``
    (mean squared error of the decoder mean at :math:`z = \\mu`, per pixel).
    """
    gen = torch.Generator().manual_seed(seed)
    was = dec.training, enc.training
    dec.eval()
    enc.eval()
    sums: dict[str, float] = {"elbo": 0.0, "recon": 0.0, "kl": 0.0, "recon_mse": 0.0}
    for start in range(0, len(x), batch):
        xb = x[start:start + batch].to(device)
        eps = torch.randn(len(xb), dec.latent_dim, generator=gen).to(device) if enc.stochastic else None
        t = elbo_terms(enc, dec, xb, eps)
        for k in ("elbo", "recon", "kl"):
            sums[k] += float(t[k].sum())
        sums["recon_mse"] += float((reconstruct(dec, enc, xb) - xb).square().mean(dim=tuple(range(1, xb.ndim))).sum())
    dec.train(was[0])
    enc.train(was[1])
    out = {k: v / len(x) for k, v in sums.items()}
    if not enc.stochastic:
        del out["elbo"], out["kl"]
    return out


@torch.no_grad()
def reconstruct(dec: VAEDecoder, enc: VAEEncoder, x: Tensor) -> Tensor:
    """Decoder mean at the encoder mean, :math:`E[x \\mid z = \\mu(x)]`, same shape as ``x``."""
    mu, _ = enc(x)
    return dec(mu).reshape(x.shape)


def vae_eval_fn(source: DataSource, n: int, seed: int, device: torch.device | str
                ) -> Callable[[Any], dict[str, float]]:
    """History evaluator: :func:`vae_metrics` on ``n`` fixed data draws, keys prefixed ``eval_``."""
    x = source.sample(n, torch.Generator().manual_seed(seed + 2))

    def run(trainer: Trainer) -> dict[str, float]:
        m = vae_metrics(trainer.G, trainer.D, x, seed + 3, device)
        return {f"eval_{k}": v for k, v in m.items()}

    return run

