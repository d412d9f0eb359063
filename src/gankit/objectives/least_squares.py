r"""Least-squares GAN (Mao et al. 2017) as pure functions on discriminator outputs, and its objective.

D regresses its raw output onto a label, ``b`` on data and ``a`` on fakes; G pushes its samples'
output towards ``c``:

.. math::

    L_D = \tfrac12 E_{data}[(D(x) − b)^2] + \tfrac12 E_z[(D(G(z)) − a)^2], \qquad
    L_G = \tfrac12 E_z[(D(G(z)) − c)^2].

TF-GAN's ``least_squares_discriminator_loss`` / ``least_squares_generator_loss``, with its labels
``b = c = 1`` (``real_label``), ``a = 0`` (``fake_label``), its factor ½ and its argument order
(Mao et al.'s eq. 9 uses ``a = 0, b = c = 1`` as well). For fixed G the optimal discriminator is
``D*(x) = (b·p_data + a·p_g)/(p_data + p_g)``, which is ``p_data/(p_data + p_g)`` with labels 1/0:
D's raw output is the probability that ``x`` is real, undecided at ½.

Example
-------
>>> import torch
>>> float(least_squares_discriminator_loss(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 2.0])))  # ½·½ + ½·2
1.25
>>> float(least_squares_generator_loss(torch.tensor([1.0, 3.0])))  # ½·(0 + 4)/2
1.0
"""

from __future__ import annotations

from torch import Tensor

from .base import LogitObjective
from .reduce import Weights, combine, weighted_mean

__all__ = ["least_squares_discriminator_loss", "least_squares_generator_loss", "LeastSquares"]


def least_squares_discriminator_loss(real_out: Tensor, fake_out: Tensor, real_label: float = 1.0,
                                     fake_label: float = 0.0, real_weights: Weights = 1.0,
                                     generated_weights: Weights = 1.0, *, weights: Weights = 1.0) -> Tensor:
    r"""``½ E[(D(x) − real_label)²] + ½ E[(D(G(z)) − fake_label)²]`` (Mao et al. 2017; TF-GAN).

    Parameters
    ----------
    real_out : Tensor, shape (n,) or (n, 1)
        D's raw outputs on data.
    fake_out : Tensor, shape (m,) or (m, 1)
        D's raw outputs on generated samples.
    real_label, fake_label : float, default 1 and 0
    real_weights, generated_weights : float or Tensor of shape (n,) / (m,)
        TF-GAN's per-side weights.
    weights : float or Tensor, keyword only
        Weights of both sides (multiplies the per-side ones); reduction of :mod:`.reduce`.

    Returns
    -------
    Tensor, shape ()
    """
    real = weighted_mean(0.5 * (real_out - real_label) ** 2, combine(real_weights, weights))
    return real + weighted_mean(0.5 * (fake_out - fake_label) ** 2, combine(generated_weights, weights))


def least_squares_generator_loss(fake_out: Tensor, real_label: float = 1.0, weights: Weights = 1.0) -> Tensor:
    r"""``½ E[(D(G(z)) − real_label)²]``: G makes D output the real label on its samples (Mao et al. 2017; TF-GAN).

    Shapes as in :func:`least_squares_discriminator_loss`; returns a scalar.
    """
    return weighted_mean(0.5 * (fake_out - real_label) ** 2, weights)


class LeastSquares(LogitObjective):
    """The least-squares game with TF-GAN's labels (real 1, fake 0, G's target 1).

    Logs no estimate (with these labels the game minimises no named divergence; Mao et al.'s
    Pearson χ² reading needs ``b − c = 1``, ``b − a = 2``). Pictures show D's raw output minus ½,
    so that the undecided level ``D* = ½`` is the zero contour.

    Training default (``defaults``): R1 γ = 0.1 instead of the default preset's 0.01. D's
    output is unbounded, and with γ = 0.01 ring8 ends at W1 0.181 and 0.218 on seeds 1 and 2
    (76 % and 73 % high quality); with γ = 0.1 at 0.043 and 0.056 (87 %, 80 %).
    """

    def __init__(self) -> None:
        super().__init__("lsgan", least_squares_discriminator_loss, least_squares_generator_loss,
                         defaults={"objective.r1": 0.1})

    def __repr__(self) -> str:
        return "LeastSquares()"

    def d_output(self, logits: Tensor) -> Tensor:
        return logits - 0.5  # D* = p_data/(p_data + p_g): undecided at ½
