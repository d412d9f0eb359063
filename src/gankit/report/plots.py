"""Pictures of a run: samples over the discriminator's view, and training curves.

Every plotting helper returns its matplotlib :class:`~matplotlib.figure.Figure` and writes it to
``path`` only when one is given, so it works in a notebook as well as in a run directory. The
figures are made with :func:`new_figure`, outside pyplot's registry: nothing needs closing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ..io import HISTORY_FILE, read_jsonl  # noqa: E402
from ..sampling import generate  # noqa: E402
from .frames import d_values  # noqa: E402
from .grids import save_generator_grid  # noqa: E402

__all__ = ["plot_samples", "plot_losses", "save_run_pictures", "save_figure", "new_figure"]


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A figure not registered with pyplot (garbage-collected like any object; shown by Jupyter)."""
    return Figure(figsize=figsize)


def save_figure(fig: Figure, path: str | Path | None = None, dpi: int = 100, title: str = "") -> Figure:
    """Lay out ``fig`` (with ``title`` as its suptitle, if any), write it to ``path`` if given; returns ``fig``.

    A pyplot-managed figure is closed in pyplot (it stays usable) so that pyplot's registry does not grow.
    """
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=dpi)
    if plt.fignum_exists(getattr(fig, "number", -1)):
        plt.close(fig)
    return fig


def plot_samples(G: torch.nn.Module, D: torch.nn.Module, source: Any, objective: Any, path: str | Path | None = None,
                 n: int = 2500, seed: int = 12345, device: Any = "cpu", title: str = "") -> Figure:
    """Generated points over real data, on the discriminator's output as a heatmap (2-D),
    or densities and D(x) on one axis (1-D); written to ``path`` if given."""
    fake = generate(G, n, seed, device).reshape(n, -1).numpy()
    real = source.sample(n, torch.Generator().manual_seed(seed + 1)).reshape(n, -1).numpy()
    fig = new_figure((6, 5.4))
    ax = fig.subplots()
    if real.shape[1] == 2:
        both = np.concatenate([real, fake])
        lo, hi = np.percentile(both, [0.5, 99.5], axis=0)
        pad = 0.15 * (hi - lo) + 1e-3
        xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], 160)
        ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], 160)
        gx, gy = np.meshgrid(xs, ys)
        dv = d_values(D, objective, np.stack([gx.ravel(), gy.ravel()], 1), device).reshape(gx.shape)
        im = ax.pcolormesh(xs, ys, dv, cmap="RdBu_r", shading="auto", alpha=0.75)
        fig.colorbar(im, ax=ax, label=f"discriminator output ({getattr(objective, 'name', '')})")
        ax.scatter(real[:, 0], real[:, 1], s=3, c="k", alpha=0.5, label="real")
        ax.scatter(fake[:, 0], fake[:, 1], s=3, c="#ffcc00", alpha=0.7, label="generated")
        ax.set_xlim(xs[0], xs[-1])
        ax.set_ylim(ys[0], ys[-1])
        ax.set_aspect("equal")
    elif real.shape[1] == 1:
        lo, hi = np.percentile(np.concatenate([real, fake]), [0.1, 99.9])
        pad = 0.2 * (hi - lo)
        grid = np.linspace(lo - pad, hi + pad, 400)
        ax.hist(fake[:, 0], bins=80, range=(grid[0], grid[-1]), density=True, alpha=0.5, color="#e6a000", label="p_g (samples)")
        if hasattr(source, "pdf"):
            ax.plot(grid, source.pdf(grid), "k", lw=2, label="p_data")
        else:
            ax.hist(real[:, 0], bins=80, range=(grid[0], grid[-1]), density=True, alpha=0.4, color="k", label="p_data (samples)")
        ax2 = ax.twinx()
        ax2.plot(grid, d_values(D, objective, grid.reshape(-1, 1), device), "C3", lw=1.5, label="D(x)")
        ax2.set_ylabel("discriminator output", color="C3")
    ax.legend(loc="upper right", fontsize=8, markerscale=3)
    ax.set_title(title or "samples")
    return save_figure(fig, path, dpi=110)


def plot_losses(history: list[dict[str, Any]], path: str | Path | None = None, title: str = "") -> Figure:
    """Discriminator / generator losses and the metrics over steps; written to ``path`` if given."""
    steps = [r["step"] for r in history]
    metric_keys = [k for k in ("modes", "high_quality", "w1", "frechet_distance", "classes_covered", "estimate")
                   if any(k in r for r in history)]
    fig = new_figure((4.2 * (1 + len(metric_keys)), 3.4))
    axes = fig.subplots(1, 1 + len(metric_keys), squeeze=False)
    ax = axes[0, 0]
    for k in ("d_loss", "g_loss"):
        ax.plot(steps, [r.get(k, np.nan) if r.get(k) is not None else np.nan for r in history], label=k, marker=".")
    ax.set_xlabel("generator step")
    ax.set_title("losses (mean since last record)")
    ax.legend()
    for a, k in zip(axes[0, 1:], metric_keys):
        have = [r for r in history if r.get(k) is not None]  # metrics come with evaluations only, not loss records
        a.plot([r["step"] for r in have], [r[k] for r in have], marker=".", color="C2")
        a.set_xlabel("generator step")
        a.set_title(k)
    return save_figure(fig, path, title=title)


def save_run_pictures(out: Path, built: Any, trainer: Any) -> None:
    """``samples.png`` and ``losses.png`` in the run directory."""
    cfg = built.cfg
    title = f"{cfg.data.name} · {cfg.objective.name} · step {trainer.step}"
    if len(built.source.shape) == 1 and built.source.shape[0] in (1, 2):
        plot_samples(built.G, built.D, built.source, built.objective, out / "samples.png", n=cfg.eval.n_samples,
                     seed=cfg.eval.seed, device=built.device, title=title)
    elif len(built.source.shape) == 3:  # images: a grid of the fixed evaluation noise
        save_generator_grid(built.G, out / "samples.png", cfg.eval.seed, built.device)
    plot_losses(read_jsonl(out / HISTORY_FILE), out / "losses.png", title=title)
