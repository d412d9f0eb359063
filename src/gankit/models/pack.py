"""Packing (PacGAN, Lin, Khetan, Fanti & Oh, NeurIPS 2018): the discriminator judges ``m`` samples jointly.

``m`` samples from the same distribution (all real or all fake) are concatenated into one
input, features for vectors and channels for images, so the discriminator can notice a lack
of diversity; this penalises mode collapse. The trainer draws ``m × batch_size`` samples.
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
