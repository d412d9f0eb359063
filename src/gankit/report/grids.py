"""Grids of generated images: one PNG per evaluation (``samples/step_XXXXXXX.png``) and ``samples.png``.

Every grid of a run is drawn from the same fixed noise (seeded by ``eval.seed``), so the
files show one set of latent points moving through training.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor, nn

from ..io import atomic_write_bytes
from ..sampling import class_generator, generate, is_conditional
from ..train.trainer import Callback, Trainer

__all__ = ["image_grid", "save_image_grid", "save_generator_grid", "SampleGrids", "GRID_SAMPLES"]

#: images per grid (10 × 10)
GRID_SAMPLES = 100


def image_grid(images: Tensor, nrow: int | None = None, pad: int = 1) -> np.ndarray:
    """Tile images ``(n, C, H, W)`` in [-1, 1] into one uint8 array ``(rows, cols)`` or ``(rows, cols, C)``.

    Examples
    --------
    >>> import torch
    >>> image_grid(torch.zeros(6, 1, 8, 8), nrow=3).shape
    (19, 28)
    """
    x = images.detach().float().cpu().clamp(-1, 1)
    n, c, h, w = x.shape
    nrow = nrow or max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / nrow)
    grid = np.full((rows * (h + pad) + pad, nrow * (w + pad) + pad, c), 255, dtype=np.uint8)
    pix = ((x + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()  # (n, H, W, C)
    for i in range(n):
        r, col = divmod(i, nrow)
        grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + col * (w + pad): pad + col * (w + pad) + w] = pix[i]
    return grid[..., 0] if c == 1 else grid


def save_image_grid(images: Tensor, path: str | Path, nrow: int | None = None, min_side: int = 400) -> None:
    """Write a PNG grid of ``images``, enlarged by an integer factor (nearest neighbour) to at least ``min_side`` pixels."""
    grid = image_grid(images, nrow)
    scale = max(1, math.ceil(min_side / max(grid.shape[:2])))
    img = Image.fromarray(grid)
    if scale > 1:
        img = img.resize((grid.shape[1] * scale, grid.shape[0] * scale), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())


def save_generator_grid(G: nn.Module, path: str | Path, seed: int, device: torch.device | str = "cpu",
                        n: int = GRID_SAMPLES) -> None:
    """A grid of ``n`` images from ``G`` with the fixed noise of ``seed``.

    A conditional generator gets one row per class (row ``k``: class ``k``), ``n // K`` images
    a row (at least 1), each row from the same noise, so a column keeps its latent point.
    """
    if not is_conditional(G):
        save_image_grid(generate(G, n, seed, device), path)
        return
    cols = max(1, n // G.num_classes)
    rows = [generate(class_generator(G, k), cols, seed, device) for k in range(G.num_classes)]
    save_image_grid(torch.cat(rows), path, nrow=cols)


class SampleGrids(Callback):
    """Save ``folder/step_XXXXXXX.png`` every ``every`` steps and at the end (the History schedule)."""

    def __init__(self, folder: str | Path, every: int, seed: int, device: torch.device | str = "cpu") -> None:
        self.folder, self.every, self.seed, self.device = Path(folder), every, seed, device

    def save(self, trainer: Trainer) -> None:
        save_generator_grid(trainer.G, self.folder / f"step_{trainer.step:07d}.png", self.seed, self.device)

    def on_step_end(self, trainer: Trainer) -> None:
        if self.every and trainer.step % self.every == 0 and trainer.step < trainer.cfg.steps:
            self.save(trainer)

    def on_train_end(self, trainer: Trainer) -> None:
        self.save(trainer)
