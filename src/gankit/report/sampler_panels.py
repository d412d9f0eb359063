"""``samples.png`` of a run with a sampler: the generator's own draws, and the sampler's beside them.

The headline numbers of a run are the generator's own; a sampler (``eval.polarity``, ``eval.hpd``,
``eval.drs``) only chooses among its samples. So the picture shows both: the left panel the
generator's plain draws (what the headline measured), the right panel the sampler's draws
(what ``samplers.<name>`` in ``metrics.json`` measured), same real data, same axes.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from ..io import atomic_write_bytes  # noqa: E402
from .frames import d_values  # noqa: E402
from .grids import image_grid  # noqa: E402

__all__ = ["plot_sampler_panels", "save_grid_panels"]


def _limits(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.percentile(points, [0.5, 99.5], axis=0)
    pad = 0.15 * (hi - lo) + 1e-3
    return lo - pad, hi + pad


def _panel_2d(ax: Any, real: np.ndarray, fake: np.ndarray, box: tuple[np.ndarray, np.ndarray],
              heat: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> None:
    if heat is not None:
        ax.pcolormesh(*heat, cmap="RdBu_r", shading="auto", alpha=0.75)
    ax.scatter(real[:, 0], real[:, 1], s=3, c="k", alpha=0.5, label="real")
    ax.scatter(fake[:, 0], fake[:, 1], s=3, c="#ffcc00", alpha=0.7, label="generated")
    ax.set_xlim(box[0][0], box[1][0])
    ax.set_ylim(box[0][1], box[1][1])
    ax.set_aspect("equal")


def _panel_1d(ax: Any, real: np.ndarray, fake: np.ndarray, grid: np.ndarray, source: Any) -> None:
    ax.hist(fake[:, 0], bins=80, range=(grid[0], grid[-1]), density=True, alpha=0.5, color="#e6a000",
            label="samples")
    if hasattr(source, "pdf"):
        ax.plot(grid, source.pdf(grid), "k", lw=2, label="p_data")
    else:
        ax.hist(real[:, 0], bins=80, range=(grid[0], grid[-1]), density=True, alpha=0.4, color="k",
                label="p_data (samples)")


def plot_sampler_panels(generator: np.ndarray, sampler: np.ndarray, sampler_label: str, D: torch.nn.Module,
                        source: Any, objective: Any, path: str | Path, seed: int = 12345, device: Any = "cpu",
                        title: str = "") -> None:
    """Two panels over the same real draws: ``generator`` samples (n, d) and ``sampler`` samples (m, d), d in (1, 2).

    In 2-D both panels show the discriminator's output as a heatmap; in 1-D the data density.
    """
    n = max(len(generator), len(sampler))
    real = source.sample(n, torch.Generator().manual_seed(seed + 1)).reshape(n, -1).numpy()
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.2), squeeze=False)
    if real.shape[1] == 2:
        lo, hi = _limits(np.concatenate([real, generator, sampler]))
        xs, ys = np.linspace(lo[0], hi[0], 160), np.linspace(lo[1], hi[1], 160)
        gx, gy = np.meshgrid(xs, ys)
        dv = d_values(D, objective, np.stack([gx.ravel(), gy.ravel()], 1), device).reshape(gx.shape)
        for ax, fake in zip(axes[0], (generator, sampler), strict=True):
            _panel_2d(ax, real, fake, (lo, hi), (xs, ys, dv))
    else:
        lo, hi = np.percentile(np.concatenate([real, generator, sampler]), [0.1, 99.9])
        grid = np.linspace(lo - 0.2 * (hi - lo), hi + 0.2 * (hi - lo), 400)
        for ax, fake in zip(axes[0], (generator, sampler), strict=True):
            _panel_1d(ax, real, fake, grid, source)
    axes[0, 0].set_title("the generator (the headline numbers)")
    axes[0, 1].set_title(f"with the sampler {sampler_label}")
    for ax in axes[0]:
        ax.legend(loc="upper right", fontsize=8, markerscale=3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def save_grid_panels(generator: torch.Tensor, sampler: torch.Tensor, path: str | Path, min_side: int = 400) -> None:
    """Two image grids side by side (the generator's images, then the sampler's), a white gap between them."""
    a, b = image_grid(generator), image_grid(sampler)
    h = max(a.shape[0], b.shape[0])

    def fit(g: np.ndarray) -> np.ndarray:
        pad = [(0, h - g.shape[0]), (0, 0)] + [(0, 0)] * (g.ndim - 2)
        return np.pad(g, pad, constant_values=255)

    gap = np.full((h, max(4, a.shape[1] // 20), *a.shape[2:]), 255, dtype=np.uint8)
    both = np.concatenate([fit(a), gap, fit(b)], axis=1)
    scale = max(1, -(-min_side // max(both.shape[:2])))
    img = Image.fromarray(both)
    if scale > 1:
        img = img.resize((both.shape[1] * scale, both.shape[0] * scale), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    atomic_write_bytes(Path(path), buf.getvalue())
