"""Zero-centred gradient penalties R1 and R2 (Mescheder, Geiger, Nowozin 2018).

.. math::

    R_1(D) = \\frac{\\gamma}{2} E_{x \\sim p_{data}} \\|\\nabla_x l(x)\\|^2, \\qquad
    R_2(D) = \\frac{\\gamma}{2} E_{x \\sim p_g} \\|\\nabla_x l(x)\\|^2

with ``l`` the discriminator's logit. Added to D's loss they make the GAN game locally
convergent at the equilibrium (Mescheder et al. 2018, eq. 9 and 10).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from .base import Objective

__all__ = ["gradient_penalty_zero_centred", "Regularized"]


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


class Regularized(Objective):
    """``base`` with γ₁/2·R1 (real data) and γ₂/2·R2 (generated data) added to D's loss.

    The generator's loss is the base objective's. Logs ``r1`` / ``r2`` (the unscaled
    E‖∇l‖²) when they are active.
    """

    def __init__(self, base: Objective, r1: float = 0.0, r2: float = 0.0) -> None:
        self.base, self.r1, self.r2 = base, float(r1), float(r2)
        self.name = base.name
        self.estimate_label = base.estimate_label
        self.defaults = base.defaults

    def __repr__(self) -> str:
        return f"Regularized({self.base!r}, r1={self.r1}, r2={self.r2})"

    def discriminator_loss(self, D: nn.Module, real: Tensor, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        loss, logs = self.base.discriminator_loss(D, real, fake)
        logs = dict(logs)
        if self.r1 > 0:
            r1 = gradient_penalty_zero_centred(D, real)
            loss = loss + 0.5 * self.r1 * r1
            logs["r1"] = r1.detach()
        if self.r2 > 0:
            r2 = gradient_penalty_zero_centred(D, fake)
            loss = loss + 0.5 * self.r2 * r2
            logs["r2"] = r2.detach()
        return loss, logs

    def generator_loss(self, D: nn.Module, fake: Tensor) -> Tensor:
        return self.base.generator_loss(D, fake)

    def after_discriminator_step(self, D: nn.Module) -> None:
        self.base.after_discriminator_step(D)

    def d_output(self, logits: Tensor) -> Tensor:
        return self.base.d_output(logits)

    def critic_steps(self, step: int, default: int) -> int:
        return self.base.critic_steps(step, default)

    def evaluate(self, *args: Any, **kwargs: Any) -> dict[str, float]:
        return self.base.evaluate(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:  # anything else the base objective offers (e.g. WGAN's clip)
        if name == "base":
            raise AttributeError(name)
        return getattr(self.base, name)
