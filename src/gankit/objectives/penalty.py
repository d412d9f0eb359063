"""Gradient penalties on the discriminator's raw output ``l``, for any objective.

* R1 and R2, zero-centred (Mescheder, Geiger & Nowozin 2018, eq. 9 and 10):

  .. math::

      R_1(D) = \\frac{\\gamma}{2} E_{x \\sim p_{data}} \\|\\nabla_x l(x)\\|^2, \\qquad
      R_2(D) = \\frac{\\gamma}{2} E_{x \\sim p_g} \\|\\nabla_x l(x)\\|^2

  Added to D's loss they make the GAN game locally convergent at the equilibrium.
* The penalty on interpolates ``λ·E[(‖∇l(x̂)‖ − 1)²]`` (Gulrajani et al. 2017, WGAN-GP), or
  its one-sided form ``λ·E[max(0, ‖∇l(x̂)‖ − 1)²]``, which keeps ``l`` about 1-Lipschitz. On an
  f-GAN critic it turns ``D_f`` into the (f, Γ_L)-divergence of Birrell et al. (JMLR 2022):
  ``sup`` of the same bound over Lipschitz critics, finite even where P and Q have disjoint
  supports (there ``D_f`` is infinite and an unconstrained critic diverges).

:class:`Regularized` adds any of them to an objective's discriminator loss.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .base import Objective
from .reduce import Weights, weighted_mean

__all__ = ["gradient_penalty_zero_centred", "interpolates", "critic_gradient_norms", "gradient_penalty", "Regularized"]


def gradient_penalty_zero_centred(D: nn.Module, x: Tensor) -> Tensor:
    """E ‖∇ₓ D(x)‖² over the samples ``x`` (0-d tensor; differentiable in D's parameters).

    For a packed discriminator the gradient is taken per sample and summed within a pack,
    i.e. the squared norm of the gradient with respect to the whole packed input.

    Examples
    --------
    >>> D = nn.Linear(2, 1)
    >>> with torch.no_grad(): _ = D.weight.copy_(torch.tensor([[3.0, 4.0]]))
    >>> float(gradient_penalty_zero_centred(lambda x: D(x).squeeze(1), torch.randn(5, 2)))
    25.0
    """
    x = x.detach().requires_grad_(True)
    logits = D(x)  # (batch,)
    (grad,) = torch.autograd.grad(logits.sum(), x, create_graph=True)  # (n, *shape)
    per_input = grad.reshape(logits.shape[0], -1).pow(2).sum(1)  # one squared norm per D input
    return per_input.mean()


def interpolates(real: Tensor, fake: Tensor, generator: torch.Generator | None = None) -> Tensor:
    r"""``x̂ = εx + (1 − ε)x̃`` with one ``ε ∼ U[0, 1]`` per example (shape (batch, 1, ..., 1)).

    Gulrajani et al. 2017, Algorithm 1: ε is drawn per example, never per coordinate.

    Parameters
    ----------
    real, fake : Tensor, shape (batch, *shape)
    generator : torch.Generator, optional
        Source of ε (default: torch's global generator).

    Returns
    -------
    Tensor, shape (batch, *shape)
    """
    if real.shape != fake.shape:
        raise ValueError(f"real and fake batches differ in shape: {tuple(real.shape)} vs {tuple(fake.shape)}")
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)  # (batch, 1, ..., 1)
    eps = torch.rand(shape, generator=generator, device=real.device, dtype=real.dtype)
    return eps * real + (1.0 - eps) * fake


def critic_gradient_norms(D: nn.Module, x: Tensor, create_graph: bool = False) -> Tensor:
    r"""``‖∇_x D(x)‖₂`` for each example, shape (batch,).

    Uses ``∇_x Σ_i D(x_i)``, which is per-example exact when D treats examples
    independently (no batch norm in D). ``create_graph=True`` keeps the graph so the norms
    can be differentiated with respect to D's parameters (the gradient penalty).
    """
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        out = D(x)  # (batch,)
        (grad,) = torch.autograd.grad(out.sum(), x, create_graph=create_graph)  # (batch, *shape)
    return grad.reshape(grad.shape[0], -1).norm(dim=1)


def gradient_penalty(grad_norms: Tensor, one_sided: bool = False, target: float = 1.0,
                     weights: Weights = 1.0) -> Tensor:
    r"""``E[(‖∇D(x̂)‖/K − 1)²]`` (two-sided), or ``E[max(0, ‖∇D(x̂)‖/K − 1)²]`` (one-sided), ``K = target``.

    ``target`` is the Lipschitz constant aimed at, with TF-GAN's convention (``target`` of
    ``tfgan.losses.wasserstein_gradient_penalty``): the norm is divided by it. ``weights`` (scalar or
    per example) reduce as TF-GAN's (:func:`~gankit.objectives.reduce.weighted_mean`); TF-GAN also adds
    1e-10 under the square root of the norm.

    Gulrajani et al. 2017, eq. (3) and its one-sided variant (their appendix); the weight λ
    multiplies this value in the objective.

    Parameters
    ----------
    grad_norms : Tensor, shape (batch,)
        From :func:`critic_gradient_norms` on interpolates.
    one_sided : bool, default False

    Examples
    --------
    >>> import torch
    >>> float(gradient_penalty(torch.tensor([0.0, 3.0])))          # ((−1)² + 2²) / 2
    2.5
    >>> float(gradient_penalty(torch.tensor([0.0, 3.0]), True))    # (0 + 2²) / 2
    2.0
    """
    excess = grad_norms / target - 1.0
    if one_sided:
        excess = F.relu(excess)
    return weighted_mean(excess.pow(2), weights)


class Regularized(Objective):
    """``base`` with γ₁/2·R1 (real data), γ₂/2·R2 (generated data) and λ·GP (interpolates) added to D's loss.

    The generator's loss is the base objective's. Logs ``r1`` / ``r2`` (the unscaled
    E‖∇l‖²) and ``gp`` (the unweighted penalty) when they are active.

    ``r1_every = N`` > 1 is lazy regularisation (Karras et al. 2020, StyleGAN2): R1 and R2 are
    computed on every N-th discriminator step only, weighted N× so that their mean weight over
    training is unchanged, which saves the double backward pass on the other steps. The D-steps
    are counted from the generator step (``critic_steps``), so a resumed run penalises the same
    steps as an uninterrupted one.
    """

    def __init__(self, base: Objective, r1: float = 0.0, r2: float = 0.0, gp: float = 0.0,
                 gp_one_sided: bool = False, gp_target: float = 1.0, r1_every: int = 1) -> None:
        self.base, self.r1, self.r2, self.r1_every = base, float(r1), float(r2), int(r1_every)
        self.gp, self.gp_one_sided, self.gp_target = float(gp), bool(gp_one_sided), float(gp_target)
        self._d_step = 0  # index of the next discriminator step
        self.name = base.name
        self.estimate_label = base.estimate_label
        self.defaults = base.defaults

    def __repr__(self) -> str:
        return (f"Regularized({self.base!r}, r1={self.r1}, r2={self.r2}, gp={self.gp}, "
                f"gp_one_sided={self.gp_one_sided}, gp_target={self.gp_target}, r1_every={self.r1_every})")

    def discriminator_loss(self, D: nn.Module, real: Tensor, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        loss, logs = self.base.discriminator_loss(D, real, fake)
        logs = dict(logs)
        k = self.lazy_factor()
        if self.r1 > 0 and k:
            r1 = gradient_penalty_zero_centred(D, real)
            loss = loss + 0.5 * self.r1 * k * r1
            logs["r1"] = r1.detach()
        if self.r2 > 0 and k:
            r2 = gradient_penalty_zero_centred(D, fake)
            loss = loss + 0.5 * self.r2 * k * r2
            logs["r2"] = r2.detach()
        if self.gp > 0:
            gp = gradient_penalty(critic_gradient_norms(D, interpolates(real, fake), create_graph=True),
                                  self.gp_one_sided, self.gp_target)
            loss = loss + self.gp * gp
            logs["gp"] = gp.detach()
        return loss, logs

    def lazy_factor(self) -> int:
        """How many times R1/R2 count on the discriminator step being taken: ``r1_every`` on every
        ``r1_every``-th, else 0 (not computed). Counts the step."""
        k = self.r1_every if self._d_step % self.r1_every == 0 else 0
        self._d_step += 1
        return k

    def generator_loss(self, D: nn.Module, fake: Tensor) -> Tensor:
        return self.base.generator_loss(D, fake)

    def after_discriminator_step(self, D: nn.Module) -> None:
        self.base.after_discriminator_step(D)

    def d_output(self, logits: Tensor) -> Tensor:
        return self.base.d_output(logits)

    def critic_steps(self, step: int, default: int) -> int:
        n = self.base.critic_steps(step, default)
        self._d_step = step * n  # the D-steps of generator step `step` (a function of it: resume-exact)
        return n

    def evaluate(self, *args: Any, **kwargs: Any) -> dict[str, float]:
        return self.base.evaluate(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:  # anything else the base objective offers (e.g. WGAN's clip)
        if name == "base":
            raise AttributeError(name)
        return getattr(self.base, name)
