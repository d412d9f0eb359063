"""Packing (PacGAN, Lin et al. 2018): the discriminator judges ``m`` samples jointly.

A packed discriminator sees ``m`` samples from the same distribution (all real or all
fake) concatenated into one input, so it can notice a lack of diversity that a
one-sample discriminator cannot; the paper shows this penalises mode collapse. The
wrapper is model-agnostic: it reshapes a batch of ``batch·m`` samples of shape
``(C, *rest)`` into ``batch`` inputs of shape ``(m·C, *rest)`` — features concatenated for
vectors, channels concatenated for images — and hands them to an ordinary discriminator
built for that packed shape. The trainer draws ``m × batch_size`` real and fake samples.

Lin, Khetan, Fanti, Oh, "PacGAN: The power of two samples in generative adversarial
networks", NeurIPS 2018.
"""

from __future__ import annotations

from torch import Tensor, nn

from ..errors import GankitError

__all__ = ["Packed", "packed_shape"]


def packed_shape(shape: tuple[int, ...], m: int) -> tuple[int, ...]:
    """Input shape of a discriminator that judges ``m`` samples of ``shape`` jointly.

    >>> packed_shape((2,), 4), packed_shape((3, 32, 32), 2)
    ((8,), (6, 32, 32))
    """
    if m < 1:
        raise GankitError(f"model.pack must be >= 1, got {m}")
    return (m * shape[0], *shape[1:])


class Packed(nn.Module):
    """D_pack(x_1, ..., x_m) = D(concat(x_1, ..., x_m)): one logit per pack of ``m`` samples.

    Parameters
    ----------
    inner : nn.Module
        A discriminator taking ``(batch, m·C, *rest)`` and returning ``(batch,)`` logits.
    m : int
        Pack size (PacGAN's ``m``; 1 means the plain discriminator).

    Examples
    --------
    >>> import torch
    >>> from gankit.models.mlp import MLPDiscriminator
    >>> D = Packed(MLPDiscriminator(packed_shape((2,), 4)), 4)
    >>> D(torch.randn(12, 2)).shape    # 12 samples → 3 packs → 3 logits
    torch.Size([3])
    """

    def __init__(self, inner: nn.Module, m: int) -> None:
        super().__init__()
        if m < 1:
            raise GankitError(f"model.pack must be >= 1, got {m}")
        self.inner, self.pack = inner, int(m)

    def forward(self, x: Tensor) -> Tensor:
        n = x.shape[0]
        if n % self.pack:
            raise ValueError(f"a packed discriminator needs a multiple of {self.pack} samples, got {n}")
        # (batch·m, C, *rest) → (batch, m·C, *rest): consecutive samples form one pack
        return self.inner(x.reshape(n // self.pack, self.pack * x.shape[1], *x.shape[2:]))

    def single(self, x: Tensor) -> Tensor:
        """Logit of each sample judged as a pack of ``m`` copies of itself (for pictures)."""
        return self(x.repeat_interleave(self.pack, dim=0))
