r"""Matmul FLOPs of one step of Algorithm 1 for MLP generators and discriminators.

A linear layer with ``P`` weights on a batch ``B`` costs ``2BP`` FLOPs forward, ``2BP`` for
its weight gradient and ``2BP`` for its input gradient; autograd skips the input gradient
of a first layer whose input needs no gradient (noise, real data, detached fakes). With
``P_G``, ``P_D`` the weights of G's and D's linear layers, ``P_G1``, ``P_D1`` those of their
first layers and ``k = d_steps``:

- D step (×k): G forward on noise ``2BP_G``; D forward and backward on real and on fake
  data, ``2·(6BP_D − 2BP_D1)``;
- G step: G forward and backward ``6BP_G − 2BP_G1``; D forward and input gradient (D's
  weights are frozen) ``4BP_D``.

.. math::  B\,(2kP_G + 12kP_D - 4kP_{D1} + 6P_G - 2P_{G1} + 4P_D)

Biases, activations, losses and the optimiser are not counted. The count equals
``torch.utils.flop_counter.FlopCounterMode`` on :meth:`Trainer.train_step`
(``tests/train/test_flops_count.py``).

Example
-------
>>> from gankit.models.mlp import MLPGenerator, MLPDiscriminator
>>> mlp_step_flops(MLPGenerator(2, (2,), 256, 3), MLPDiscriminator((2,), 256, 3), 256)
809762816
"""

from __future__ import annotations

from torch import nn

__all__ = ["linear_weights", "mlp_step_flops"]


def linear_weights(module: nn.Module) -> tuple[int, int]:
    """``(weights of all linear layers, weights of the first linear layer)`` of ``module``."""
    sizes = [m.weight.numel() for m in module.modules() if isinstance(m, nn.Linear)]
    return sum(sizes), sizes[0]


def mlp_step_flops(G: nn.Module, D: nn.Module, batch_size: int, d_steps: int = 1) -> int:
    """Matmul FLOPs of one training step (``d_steps`` D steps and one G step) of MLPs ``G``, ``D``."""
    pg, pg1 = linear_weights(G)
    pd, pd1 = linear_weights(D)
    k = d_steps
    return batch_size * (2 * k * pg + 12 * k * pd - 4 * k * pd1 + 6 * pg - 2 * pg1 + 4 * pd)
