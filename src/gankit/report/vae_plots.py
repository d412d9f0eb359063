"""Pictures of a VAE / auto-encoder run: prior samples, reconstructions and the ELBO curves.

``save_run_pictures(out, built, trainer)`` writes into the run directory:

- ``samples.png``: decoder means of :math:`z \\sim N(0, I)` — an image grid, or points over
  the real data for 2-D (a histogram for 1-D);
- ``reconstructions.png``: real images (odd rows) above their reconstructions
  :math:`E[x \\mid z = \\mu(x)]` (even rows), or arrows from real points to their
  reconstructions for vector data;
- ``losses.png``: loss, ``recon``, ``kl`` and ``elbo`` (training means) and ``eval_elbo``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from ..sampling import generate  # noqa: E402
from ..train.vae_trainer import reconstruct  # noqa: E402
from .plots import read_history  # noqa: E402

__all__ = ["image_grid", "save_run_pictures", "plot_vae_losses"]


def image_grid(images: torch.Tensor | np.ndarray, ncol: int = 8, pad: int = 1) -> np.ndarray:
    """Tile (N, C, H, W) images in [-1, 1] into one (rows·(H+pad), ncol·(W+pad), C) array in [0, 1]."""
    x = np.asarray(images.detach().cpu() if hasattr(images, "detach") else images, dtype=np.float32)
    n, c, h, w = x.shape
    rows = -(-n // ncol)
    grid = np.ones((rows * (h + pad) + pad, ncol * (w + pad) + pad, c), dtype=np.float32)
    x = ((x.clip(-1, 1) + 1) / 2).transpose(0, 2, 3, 1)  # (N, H, W, C) in [0, 1]
    for i in range(n):
        r, k = divmod(i, ncol)
        grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + k * (w + pad): pad + k * (w + pad) + w] = x[i]
    return grid


def _show(grid: np.ndarray, path: Path, title: str) -> None:
    fig, ax = plt.subplots(figsize=(6, 6 * grid.shape[0] / grid.shape[1] + 0.4))
    ax.imshow(grid[..., 0] if grid.shape[2] == 1 else grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_vae_losses(history: list[dict[str, Any]], path: str | Path, title: str = "") -> None:
    """Training ``loss``/``recon``/``kl``/``elbo`` and evaluation ``eval_elbo`` against steps."""
    steps = [r["step"] for r in history]
    groups = [("loss", "recon", "kl"), ("elbo", "eval_elbo")]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, keys in zip(axes, groups, strict=True):
        for k in keys:
            if any(r.get(k) is not None for r in history):
                ax.plot(steps, [r.get(k) if r.get(k) is not None else np.nan for r in history], marker=".", label=k)
        ax.set_xlabel("step")
        ax.set_ylabel("nats per sample")
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def save_run_pictures(out: Path, built: Any, trainer: Any) -> None:
    """``samples.png``, ``reconstructions.png`` and ``losses.png`` of a VAE run (see the module docstring)."""
    cfg, dec, enc, source = built.cfg, built.G, built.D, built.source
    title = f"{cfg.data.name} · {cfg.model.name} · step {trainer.step}"
    seed = cfg.eval.seed
    real = source.sample(64 if len(source.shape) == 3 else 1000, torch.Generator().manual_seed(seed + 1))
    rec = reconstruct(dec, enc, real.to(built.device)).cpu()
    if len(source.shape) == 3:
        _show(image_grid(generate(dec, 64, seed, built.device)), out / "samples.png", f"prior samples · {title}")
        both = torch.stack([real[:32].reshape(4, 8, *source.shape), rec[:32].reshape(4, 8, *source.shape)], 1)
        _show(image_grid(both.reshape(64, *source.shape)), out / "reconstructions.png",
              f"real (odd rows) / reconstructions (even rows) · {title}")
    elif source.shape in ((1,), (2,)):
        fake = generate(dec, len(real), seed, built.device).numpy()
        r, f, rc = real.numpy(), fake, rec.numpy()
        fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
        if source.shape == (2,):
            axes[0].scatter(r[:, 0], r[:, 1], s=3, c="k", alpha=0.4, label="real")
            axes[0].scatter(f[:, 0], f[:, 1], s=3, c="#e6a000", alpha=0.6, label="prior samples")
            axes[1].scatter(r[:, 0], r[:, 1], s=3, c="k", alpha=0.4, label="real")
            axes[1].scatter(rc[:, 0], rc[:, 1], s=3, c="C0", alpha=0.6, label="reconstructions")
            for ax in axes:
                ax.set_aspect("equal")
        else:
            bins = np.linspace(*np.percentile(np.concatenate([r, f, rc]), [0.1, 99.9]), 80)
            for ax, other, lab in ((axes[0], f, "prior samples"), (axes[1], rc, "reconstructions")):
                ax.hist(r[:, 0], bins=bins, density=True, alpha=0.4, color="k", label="real")
                ax.hist(other[:, 0], bins=bins, density=True, alpha=0.5, label=lab)
        for ax in axes:
            ax.legend(fontsize=8, markerscale=3)
        fig.suptitle(title)
        fig.tight_layout()
        fig.savefig(out / "samples.png", dpi=110)
        fig.savefig(out / "reconstructions.png", dpi=110)
        plt.close(fig)
    plot_vae_losses(read_history(out / "history.jsonl"), out / "losses.png", title=title)
