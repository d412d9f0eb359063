r"""Wasserstein GANs and the hinge game: pure functions on critic outputs, and their objectives.

By Kantorovich–Rubinstein duality ``W_1(P, Q) = sup_{‖f‖_L ≤ 1} E_P[f] − E_Q[f]``: the critic
``D`` (raw output) maximises ``E_P[D] − E_Q[D]`` over Lipschitz functions, kept so by weight
clipping (WGAN, Arjovsky et al. 2017), a gradient penalty on interpolates (WGAN-GP,
Gulrajani et al. 2017) or spectral normalisation (``model.spectral_norm``, Miyato et al.
2018). Every loss reduces by mean (weighted as TF-GAN's, :mod:`.reduce`); functions of outputs accept
shape (n,) or (n, 1).

Example
-------
>>> import torch
>>> float(wgan_critic_loss(torch.tensor([1.0, 3.0]), torch.tensor([0.0, 0.0])))
-2.0
>>> float(hinge_discriminator_loss(torch.tensor([2.0, 0.0]), torch.tensor([-2.0, 0.0])))
1.0
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .base import Objective
from .penalty import critic_gradient_norms, gradient_penalty, interpolates
from .reduce import Weights, combine, weighted_mean

__all__ = ["wasserstein_estimate", "wgan_critic_loss", "wgan_generator_loss", "hinge_discriminator_loss",
           "hinge_generator_loss", "clip_weights_", "wasserstein_discriminator_loss", "wasserstein_generator_loss",
           "wasserstein_hinge_discriminator_loss", "wasserstein_hinge_generator_loss",
           "lipschitz_estimate", "critic_report", "WGAN", "WGANGP", "WARMUP_STEPS"]

#: The original WGAN code: 100 critic steps for the first 25 generator steps and every 500th.
WARMUP_STEPS = (100, 25, 500)


def wasserstein_estimate(real_out: Tensor, fake_out: Tensor) -> Tensor:
    r"""The critic's estimate ``E_P[D(x)] − E_Q[D(x̃)]`` of ``K·W_1(P, Q)``.

    Parameters
    ----------
    real_out : Tensor, shape (n,) or (n, 1)
        Critic outputs on data samples.
    fake_out : Tensor, shape (m,) or (m, 1)
        Critic outputs on generated samples.

    Returns
    -------
    Tensor, shape ()
    """
    return real_out.mean() - fake_out.mean()


def wgan_critic_loss(real_out: Tensor, fake_out: Tensor, real_weights: Weights = 1.0,
                     generated_weights: Weights = 1.0, *, weights: Weights = 1.0) -> Tensor:
    r"""Critic loss ``E_Q[D(x̃)] − E_P[D(x)]``: minimising it maximises the W1 estimate.

    Arjovsky, Chintala & Bottou 2017, Algorithm 1; TF-GAN's ``wasserstein_discriminator_loss``
    (its argument order). Shapes as in :func:`wasserstein_estimate`; ``weights`` weights both
    terms (times ``real_weights`` / ``generated_weights``), reduced by
    :func:`~gankit.objectives.reduce.weighted_mean`.
    """
    return (weighted_mean(fake_out, combine(generated_weights, weights))
            - weighted_mean(real_out, combine(real_weights, weights)))


def wgan_generator_loss(fake_out: Tensor, weights: Weights = 1.0) -> Tensor:
    r"""Generator loss ``−E_z[D(G(z))]`` (WGAN, Algorithm 1; also the hinge game's G loss; TF-GAN's
    ``wasserstein_generator_loss``)."""
    return -weighted_mean(fake_out, weights)


def hinge_discriminator_loss(real_out: Tensor, fake_out: Tensor, real_weights: Weights = 1.0,
                             generated_weights: Weights = 1.0, real_hinge: float = 1.0, generated_hinge: float = 1.0,
                             *, weights: Weights = 1.0) -> Tensor:
    r"""Hinge loss ``E_P[relu(1 − D(x))] + E_Q[relu(1 + D(x̃))]``.

    Lim & Ye 2017 (Geometric GAN); Miyato et al. 2018 (SN-GAN), eq. (17). TF-GAN's
    ``wasserstein_hinge_discriminator_loss`` (its argument order; the margins ``real_hinge``,
    ``generated_hinge``); weights as in :func:`wgan_critic_loss`.
    """
    return (weighted_mean(F.relu(real_hinge - real_out), combine(real_weights, weights))
            + weighted_mean(F.relu(generated_hinge + fake_out), combine(generated_weights, weights)))


def hinge_generator_loss(fake_out: Tensor, weights: Weights = 1.0) -> Tensor:
    r"""Hinge-game generator loss ``−E_z[D(G(z))]`` (Miyato et al. 2018, eq. 17)."""
    return -weighted_mean(fake_out, weights)


#: TF-GAN's names
wasserstein_discriminator_loss = wgan_critic_loss
wasserstein_generator_loss = wgan_generator_loss
wasserstein_hinge_discriminator_loss = hinge_discriminator_loss
wasserstein_hinge_generator_loss = hinge_generator_loss


@torch.no_grad()
def clip_weights_(module: nn.Module, c: float) -> None:
    """Clamp every parameter of ``module`` to ``[−c, c]`` in place (WGAN's weight clipping)."""
    for p in module.parameters():
        p.clamp_(-c, c)


def lipschitz_estimate(D: nn.Module, real: Tensor, fake: Tensor, generator: torch.Generator | None = None) -> float:
    r"""``max_i ‖∇D(x̂_i)‖`` over interpolates of ``real`` and ``fake``: a lower bound on D's Lipschitz constant."""
    return float(critic_gradient_norms(D, interpolates(real, fake, generator)).max())


def critic_report(D: nn.Module, real: Tensor, fake: Tensor, seed: int = 0) -> dict[str, float]:
    r"""The critic as an estimator of ``W_1``, for evaluation (not per step).

    Returns ``critic_estimate`` (``E_P[D] − E_Q[D]``), ``critic_lipschitz`` (max gradient
    norm on interpolates, a lower bound on D's Lipschitz constant ``K``) and their ratio
    ``critic_estimate_normalized``. D runs in eval mode (spectral-norm power iterations do
    not advance) and ε comes from a generator seeded ``seed``, so training is unchanged.
    """
    was_training = D.training
    D.eval()
    try:
        with torch.no_grad():
            est = float(wasserstein_estimate(D(real), D(fake)))
        gen = torch.Generator(device=real.device).manual_seed(seed)
        k = lipschitz_estimate(D, real, fake, gen)
    finally:
        D.train(was_training)
    return {"critic_estimate": est, "critic_lipschitz": k,
            "critic_estimate_normalized": est / k if k > 0 else float("nan")}


class _Critic(Objective):
    """Shared parts of the Wasserstein objectives: G loss, raw outputs, evaluation report."""

    estimate_label = "critic estimate E_P[D] − E_Q[D]"

    def generator_loss(self, D: nn.Module, fake: Tensor) -> Tensor:
        return wgan_generator_loss(D(fake))  # G: descend −E D(G(z)), D fixed

    def d_output(self, logits: Tensor) -> Tensor:
        return logits  # a critic's raw output is the quantity of interest

    def evaluate(self, D: nn.Module, real: Tensor, fake: Tensor, seed: int = 0) -> dict[str, float]:
        return critic_report(D, real, fake, seed)


class WGAN(_Critic):
    """WGAN with weight clipping (Arjovsky, Chintala & Bottou 2017).

    Training defaults (``defaults``): RMSProp and 5 critic steps from the official code, with
    lr 5e-4 and clip 0.05 (the code's 5e-5 and 0.01 need far more than 3,000 steps: ring8 seed 0
    ends at W1 0.215; lr 5e-4 with clip 0.01 at 0.139, with clip 0.05 at 0.063, with clip 0.1 at
    0.138). ``warmup=True`` adds the code's schedule (:data:`WARMUP_STEPS`). Weights are clipped
    after every critic step (the code clamps before each; they differ only on the first step).
    """

    name = "wgan"
    # (objective.r1: the default run's R1 penalty is off for the critic objectives, which constrain D their own way)
    defaults: dict[str, Any] = {"optimizer": "rmsprop", "lr_g": 5e-4, "lr_d": 5e-4, "d_steps": 5,
                                "objective.clip": 0.05, "objective.r1": 0.0}

    def __init__(self, clip: float = 0.01, warmup: bool = False) -> None:
        self.clip, self.warmup = float(clip), bool(warmup)

    def __repr__(self) -> str:
        return f"WGAN(clip={self.clip}, warmup={self.warmup})"

    def discriminator_loss(self, D: nn.Module, real: Tensor, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        real_out, fake_out = D(real), D(fake)  # (batch,), (batch,)
        loss = wgan_critic_loss(real_out, fake_out)
        return loss, {"estimate": (-loss).detach()}

    def after_discriminator_step(self, D: nn.Module) -> None:
        clip_weights_(D, self.clip)

    def critic_steps(self, step: int, default: int) -> int:
        many, first, every = WARMUP_STEPS
        if self.warmup and (step < first or step % every == 0):
            return many
        return default


class WGANGP(_Critic):
    """WGAN-GP (Gulrajani et al. 2017): critic loss ``E_Q[D] − E_P[D] + λ·GP``.

    Training defaults (``defaults``): 5 critic steps and Adam β = (0.5, 0.9) from the authors' code, λ = 1 and
    lr 1e-3 measured on ring8 (the paper's λ = 10, lr 1e-4: ``--set objective.gp_weight=10 --set train.lr_g=1e-4
    --set train.lr_d=1e-4``).
    Logs ``gp`` (the unweighted penalty) besides ``estimate``.
    """

    name = "wgan-gp"
    penalises_interpolates = True
    # Adam β (0.5, 0.9) and 5 critic steps as in the authors' code; their λ = 10 and lr 1e-4 leave ring8 at
    # 13.6 % high quality, W1 0.157 after 3,000 steps of the default preset; λ = 1 and lr 1e-3: 93.9 %, W1 0.035
    defaults: dict[str, Any] = {"optimizer": "adam", "lr_g": 1e-3, "lr_d": 1e-3, "beta1": 0.5, "beta2": 0.9,
                                "d_steps": 5, "objective.r1": 0.0, "objective.gp_weight": 1.0}

    def __init__(self, weight: float = 10.0, one_sided: bool = False, target: float = 1.0) -> None:
        self.weight, self.one_sided, self.target = float(weight), bool(one_sided), float(target)

    def __repr__(self) -> str:
        return f"WGANGP(weight={self.weight}, one_sided={self.one_sided}, target={self.target})"

    def discriminator_loss(self, D: nn.Module, real: Tensor, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        real_out, fake_out = D(real), D(fake)  # (batch,), (batch,)
        norms = critic_gradient_norms(D, interpolates(real, fake), create_graph=True)  # (batch,)
        gp = gradient_penalty(norms, self.one_sided, self.target)
        loss = wgan_critic_loss(real_out, fake_out) + self.weight * gp
        return loss, {"estimate": wasserstein_estimate(real_out, fake_out).detach(), "gp": gp.detach()}
