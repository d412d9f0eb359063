r"""Matmul FLOPs of one step of Algorithm 1, counted by :class:`torch.utils.flop_counter.FlopCounterMode`.

:func:`mlp_step_flops` replays one step's matmuls on ``meta``-device copies of G and D
(shapes only; the models are not changed): k = ``d_steps`` D steps (G forward under
``no_grad``, D forward and backward on a real and a fake batch), then a G step through a
frozen D. For MLPs with ``P_G``, ``P_D`` linear weights, ``P_G1``, ``P_D1`` of them in the
first layers, and ``B`` = batch × pack, the count is

.. math::  B\,(2kP_G + 12kP_D - 4kP_{D1} + 6P_G - 2P_{G1} + 4P_D)

(a linear layer costs ``2BP`` forward, ``2BP`` for its weight gradient and ``2BP`` for its
input gradient, which autograd skips for a first layer).

Example
-------
>>> from gankit.models.mlp import MLPGenerator, MLPDiscriminator
>>> mlp_step_flops(MLPGenerator(2, (2,), 256, 3), MLPDiscriminator((2,), 256, 3), 256)
809762816
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

__all__ = ["mlp_step_flops"]


def mlp_step_flops(G: nn.Module, D: nn.Module, batch_size: int, d_steps: int = 1) -> int:
    """Matmul FLOPs of one training step (``d_steps`` D steps and one G step).

    Parameters
    ----------
    G : nn.Module
        Generator with a ``latent_dim`` attribute; any architecture (MLP, convolutional).
    D : nn.Module
        Discriminator; its ``pack`` attribute (PacGAN, default 1) multiplies the batch.
    batch_size : int
    d_steps : int, default 1

    Returns
    -------
    int
        Forward and backward matmul (and convolution) FLOPs, as FlopCounterMode counts them.
    """
    meta = torch.device("meta")
    G, D = copy.deepcopy(G).to(meta), copy.deepcopy(D).to(meta)
    n = batch_size * int(getattr(D, "pack", 1))

    def noise() -> torch.Tensor:
        return torch.empty(n, G.latent_dim, device=meta)

    with FlopCounterMode(display=False) as counter:
        for _ in range(d_steps):
            with torch.no_grad():
                fake = G(noise())
            real = torch.empty_like(fake)
            (D(real).sum() + D(fake).sum()).backward()
        D.requires_grad_(False)
        D(G(noise())).sum().backward()
    return int(counter.get_total_flops())
