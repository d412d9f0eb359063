"""Pictures of a VAE / auto-encoder run: prior samples, reconstructions and the ELBO curves.

``save_run_pictures(out, built, trainer)`` writes into the run directory:

- ``samples.png``: decoder means of :math:`z \\sim N(0, I)` — an image grid, or points over
  the real data for 2-D (a histogram for 1-D);
- ``reconstructions.png``: real images (odd rows) above their reconstructions
  :math:`E[x \\mid z = \\mu(x)]` (even rows); for vector data one figure with both panels;
- ``losses.png``: loss, ``recon``, ``kl`` and ``elbo`` (training means) and ``eval_elbo``.

:func:`plot_vae_losses` and :func:`show_grid` return their Figure and write it only where a path is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ..io import HISTORY_FILE, read_jsonl  # noqa: E402
from ..sampling import generate  # noqa: E402
from ..train.vae_trainer import reconstruct  # noqa: E402
from .grids import image_grid  # noqa: E402
from .plots import new_figure, save_figure  # noqa: E402

__all__ = ["save_run_pictures", "plot_vae_losses", "show_grid"]


def show_grid(grid: np.ndarray, path: str | Path | None = None, title: str = "") -> Figure:
    """An image grid (uint8, ``(H, W)`` or ``(H, W, 3)``, e.g. from ``report.grids.image_grid``) as a figure."""
    fig = new_figure((6, 6 * grid.shape[0] / grid.shape[1] + 0.4))
    ax = fig.subplots()
    ax.imshow(grid, cmap="gray", vmin=0, vmax=255, interpolation="nearest")  # uint8, (H, W) or (H, W, 3)
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)
    return save_figure(fig, path, dpi=110)


def plot_vae_losses(history: list[dict[str, Any]], path: str | Path | None = None, title: str = "") -> Figure:
    """Training ``loss``/``recon``/``kl``/``elbo`` and evaluation ``eval_elbo`` against steps."""
    steps = [r["step"] for r in history]
    groups = [("loss", "recon", "kl"), ("elbo", "eval_elbo")]
    fig = new_figure((9, 3.4))
    axes = fig.subplots(1, 2)
    for ax, keys in zip(axes, groups, strict=True):
        for k in keys:
            if any(r.get(k) is not None for r in history):
                ax.plot(steps, [r.get(k) if r.get(k) is not None else np.nan for r in history], marker=".", label=k)
        ax.set_xlabel("step")
        ax.set_ylabel("nats per sample")
        ax.legend()
    return save_figure(fig, path, title=title)


def save_run_pictures(out: Path, built: Any, trainer: Any) -> None:
    """``samples.png``, ``reconstructions.png`` and ``losses.png`` of a VAE run (see the module docstring)."""
    cfg, dec, enc, source = built.cfg, built.G, built.D, built.source
    title = f"{cfg.data.name} · {cfg.model.name} · step {trainer.step}"
    seed = cfg.eval.seed
    real = source.sample(64 if len(source.shape) == 3 else 1000, torch.Generator().manual_seed(seed + 1))
    rec = reconstruct(dec, enc, real.to(built.device)).cpu()
    if len(source.shape) == 3:
        show_grid(image_grid(generate(dec, 64, seed, built.device), nrow=8), out / "samples.png", f"prior samples · {title}")
        both = torch.stack([real[:32].reshape(4, 8, *source.shape), rec[:32].reshape(4, 8, *source.shape)], 1)
        show_grid(image_grid(both.reshape(64, *source.shape), nrow=8), out / "reconstructions.png",
              f"real (odd rows) / reconstructions (even rows) · {title}")
    elif source.shape in ((1,), (2,)):
        fake = generate(dec, len(real), seed, built.device).numpy()
        r, f, rc = real.numpy(), fake, rec.numpy()
        fig = new_figure((10, 4.6))
        axes = fig.subplots(1, 2)
        if source.shape == (2,):
            for ax, other, lab, color in ((axes[0], f, "prior samples", "#e6a000"), (axes[1], rc, "reconstructions", "C0")):
                ax.scatter(r[:, 0], r[:, 1], s=3, c="k", alpha=0.4, label="real")
                ax.scatter(other[:, 0], other[:, 1], s=3, c=color, alpha=0.6, label=lab)
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
        fig.savefig(out / "reconstructions.png", dpi=110)  # one figure shows both
        save_figure(fig, out / "samples.png", dpi=110)
    plot_vae_losses(read_jsonl(out / HISTORY_FILE), out / "losses.png", title=title)
