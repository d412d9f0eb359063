"""GAN-Lab-style pictures of one moment of training, and the callback that saves them.

A 2-D frame shows, on fixed axes, D's output ``objective.d_output(D(x))`` as a heatmap with
its undecided contour, real (black) and generated (orange) samples, arrows of ``-∇_x L_G``
on some fakes (where the generator's loss pushes them; lengths rescaled, directions
exact), and for 1-D or 2-D latents the image ``G(grid)`` of a regular latent grid. A 1-D
frame shows ``p_data``, a histogram of ``p_g``, ``D(x)`` and the same arrows along x.
Frames go to ``RUN_DIR/frames/step_XXXXXXX.png`` at step 0 and at each evaluation.
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
from torch import nn  # noqa: E402

from ..io import atomic_write_bytes  # noqa: E402
from ..train.trainer import Callback, Trainer  # noqa: E402

__all__ = ["FrameView", "Snapshots", "decision_level", "generator_push", "latent_mesh", "d_values"]


@torch.no_grad()
def d_values(D: nn.Module, objective: Any, pts: np.ndarray, device: Any = "cpu") -> np.ndarray:
    """``objective.d_output(D(x))`` at the points ``pts`` (n, d), shape (n,)."""
    t = torch.as_tensor(pts, dtype=torch.float32, device=device)
    logits = D.single(t) if hasattr(D, "single") else D(t)  # a packed D judges a pack of copies
    return objective.d_output(logits).float().cpu().numpy()


def decision_level(objective: Any) -> float:
    """The level of ``d_output`` where D cannot tell real from fake: ``d_output(0)`` (0.5 for a sigmoid)."""
    return float(objective.d_output(torch.zeros(1)).reshape(-1)[0])


def generator_push(G: nn.Module, D: nn.Module, objective: Any, z: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Fake samples ``G(z)`` and ``-∇_x L_G`` at each of them, shapes (n, d) and (n, d).

    The gradient is taken with respect to the samples only (no parameter gradients are
    accumulated), times ``n`` so that it does not depend on the mean reduction of the loss.
    """
    pack = int(getattr(D, "pack", 1))  # a packed D (PacGAN) judges consecutive groups of `pack` samples
    z = z[: z.shape[0] - z.shape[0] % pack]
    with torch.no_grad():
        x = G(z).reshape(z.shape[0], -1)  # (n, d)
    x = x.detach().requires_grad_(True)
    shape = getattr(G, "data_shape", (x.shape[1],))
    loss = objective.generator_loss(D, x.view(x.shape[0], *shape))
    (grad,) = torch.autograd.grad(loss, x)
    return x.detach().float().cpu().numpy(), (-grad * x.shape[0]).float().cpu().numpy()


@torch.no_grad()
def latent_mesh(G: nn.Module, lines: int = 13, points: int = 41, radius: float = 2.5,
                device: Any = "cpu") -> list[np.ndarray]:
    """Images under ``G`` of the lines of a regular latent grid on ``[-radius, radius]^k``.

    Returns a list of polylines, each (points, data_dim); empty when the latent has more
    than two dimensions (no faithful picture of its grid).
    """
    k = int(G.latent_dim)
    t = torch.linspace(-radius, radius, points)
    if k == 1:
        polys = [t.reshape(-1, 1)]
    elif k == 2:
        polys = []
        for c in torch.linspace(-radius, radius, lines):
            polys.append(torch.stack([t, torch.full_like(t, float(c))], 1))  # horizontal line
            polys.append(torch.stack([torch.full_like(t, float(c)), t], 1))  # vertical line
    else:
        return []
    z = torch.cat(polys).to(device)
    x = G(z).reshape(z.shape[0], -1).float().cpu().numpy()
    return list(x.reshape(len(polys), points, -1))


class FrameView:
    """Draws frames of one run on fixed axes (fixed, so that an animation does not jump).

    Parameters
    ----------
    source : DataSource
        Vector data with 1 or 2 coordinates.
    objective : Objective
    n : int
        Real and generated samples per frame.
    arrows : int
        Generated samples that get a gradient arrow.
    grid : int
        Heatmap resolution (grid x grid discriminator evaluations).
    seed : int
        Seed of the frame's noise and real draws (the same points in every frame).
    """

    def __init__(self, source: Any, objective: Any, n: int = 600, arrows: int = 80, grid: int = 64,
                 seed: int = 2024, device: Any = "cpu") -> None:
        dim = int(np.prod(source.shape))
        if dim not in (1, 2):
            raise ValueError(f"frames need 1-D or 2-D data, got shape {source.shape}")
        self.source, self.objective, self.dim, self.device = source, objective, dim, device
        self.n, self.arrows, self.grid = n, min(arrows, n), grid
        self.level = decision_level(objective)
        self.real = source.sample(n, torch.Generator().manual_seed(seed + 1)).reshape(n, -1).numpy()
        self._z_gen_seed = seed
        lo, hi = np.percentile(self.real, [0.5, 99.5], axis=0)
        pad = 0.3 * (hi - lo) + 0.25
        self.lo, self.hi = lo - pad, hi + pad
        self._fig: Any = None
        self._ax: Any = None
        self._art: dict[str, Any] = {}

    def _noise(self, latent_dim: int) -> torch.Tensor:
        gen = torch.Generator().manual_seed(self._z_gen_seed)
        return torch.randn(self.n, latent_dim, generator=gen).to(self.device)

    def draw(self, G: nn.Module, D: nn.Module, path: str | Path, title: str = "", dpi: int = 72) -> Path:
        """Render one frame of the current ``G`` and ``D`` to ``path`` (PNG); returns the path.

        The figure is built on the first call and its artists are updated afterwards
        (building a matplotlib figure costs more than drawing it).
        """
        was_g, was_d = G.training, D.training
        G.eval()
        D.eval()
        try:
            fake, push = generator_push(G, D, self.objective, self._noise(G.latent_dim))
            if self.dim == 2:
                self._update_2d(D, fake, push, latent_mesh(G, device=self.device))
            else:
                self._update_1d(D, fake, push)
        finally:
            G.train(was_g)
            D.train(was_d)
        self._ax.set_title(title, fontsize=9)
        path = Path(path)
        buf = io.BytesIO()
        self._fig.savefig(buf, format="png", dpi=dpi)
        atomic_write_bytes(path, buf.getvalue())  # a report read mid-run never sees half a frame
        return path

    def close(self) -> None:
        """Free the figure."""
        if self._fig is not None:
            plt.close(self._fig)
            self._fig = None

    def _arrows(self, push: np.ndarray) -> np.ndarray:
        """Arrows rescaled so the longest is 8% of the view (directions and ratios exact)."""
        norm = np.linalg.norm(push, axis=1).max()
        span = float(np.max(self.hi - self.lo))
        return push * (0.08 * span / norm) if norm > 0 and np.isfinite(norm) else np.zeros_like(push)

    def _update_2d(self, D: nn.Module, fake: np.ndarray, push: np.ndarray, mesh: list[np.ndarray]) -> None:
        xs = np.linspace(self.lo[0], self.hi[0], self.grid)
        ys = np.linspace(self.lo[1], self.hi[1], self.grid)
        gx, gy = np.meshgrid(xs, ys)
        dv = d_values(D, self.objective, np.stack([gx.ravel(), gy.ravel()], 1), self.device).reshape(gx.shape)
        a, k, a_ = self._arrows(push[: self.arrows]), self.arrows, self._art
        if self._fig is None:
            fig, ax = plt.subplots(figsize=(5.2, 4.6))
            self._fig, self._ax = fig, ax
            a_["im"] = ax.imshow(dv, origin="lower", extent=(xs[0], xs[-1], ys[0], ys[-1]), cmap="RdBu_r",
                                 alpha=0.8, aspect="auto", interpolation="bilinear")
            fig.colorbar(a_["im"], ax=ax, fraction=0.046, pad=0.03).set_label(
                "discriminator output (dashed: undecided)", fontsize=8)
            a_["mesh"] = [ax.plot(line[:, 0], line[:, 1], color="#7a4f9a", lw=0.5, alpha=0.55)[0] for line in mesh]
            ax.scatter(self.real[:, 0], self.real[:, 1], s=3, c="k", alpha=0.6, label="real", linewidths=0)
            a_["fake"] = ax.scatter(fake[:, 0], fake[:, 1], s=4, c="#ff8c00", alpha=0.8, label="generated",
                                    linewidths=0)
            a_["quiver"] = ax.quiver(fake[:k, 0], fake[:k, 1], a[:, 0], a[:, 1], angles="xy", scale_units="xy",
                                     scale=1.0, color="#006400", width=0.004, label="-grad of G loss")
            ax.set_xlim(xs[0], xs[-1])
            ax.set_ylim(ys[0], ys[-1])
            ax.legend(loc="upper right", fontsize=7, markerscale=2.5, framealpha=0.7)
            ax.set_title("step", fontsize=9)  # reserves the title's room in the layout
            fig.tight_layout()
        else:
            a_["im"].set_data(dv)
            for artist, line in zip(a_["mesh"], mesh, strict=True):
                artist.set_data(line[:, 0], line[:, 1])
            a_["fake"].set_offsets(fake)
            a_["quiver"].set_offsets(fake[:k])
            a_["quiver"].set_UVC(a[:, 0], a[:, 1])
        lo, hi = float(np.nanmin(dv)), float(np.nanmax(dv))
        if self.level == 0.5 and 0.0 <= lo and hi <= 1.0:
            a_["im"].set_clim(0.0, 1.0)  # probabilities: one colour scale for the whole animation
        else:
            a_["im"].set_clim(lo, hi if hi > lo else lo + 1e-6)
        if a_.get("contour") is not None:
            a_["contour"].remove()
        a_["contour"] = (self._ax.contour(xs, ys, dv, levels=[self.level], colors="k", linewidths=1.0,
                                          linestyles="--") if lo < self.level < hi else None)

    def _update_1d(self, D: nn.Module, fake: np.ndarray, push: np.ndarray) -> None:
        grid = np.linspace(self.lo[0], self.hi[0], 300)
        edges = np.linspace(grid[0], grid[-1], 61)
        hist, _ = np.histogram(fake[:, 0], bins=edges, density=True)
        dvals = d_values(D, self.objective, grid.reshape(-1, 1), self.device)
        a, k, a_ = self._arrows(push[: self.arrows]), self.arrows, self._art
        if self._fig is None:
            fig, ax = plt.subplots(figsize=(5.2, 3.6))
            self._fig, self._ax = fig, ax
            a_["hist"] = ax.stairs(hist, edges, fill=True, alpha=0.5, color="#ff8c00", label="p_g (samples)")
            if hasattr(self.source, "pdf"):
                p = self.source.pdf(grid)
                ax.plot(grid, p, "k", lw=1.8, label="p_data")
            else:
                p, _ = np.histogram(self.real[:, 0], bins=edges, density=True)
                ax.stairs(p, edges, color="k", label="p_data (samples)")
            self._ytop = 1.6 * float(np.max(p))
            y0 = np.zeros(k)
            a_["quiver"] = ax.quiver(fake[:k, 0], y0, a[:, 0], y0, angles="xy", scale_units="xy", scale=1.0,
                                     color="#006400", width=0.004, label="-grad of G loss")
            ax.set_xlim(grid[0], grid[-1])
            ax.set_ylim(-0.03 * self._ytop, self._ytop)
            ax2 = ax.twinx()
            a_["d"] = ax2.plot(grid, dvals, color="C3", lw=1.4)[0]
            ax2.axhline(self.level, color="C3", lw=0.8, ls="--")
            ax2.set_ylabel("D(x) (red; dashed: undecided)", color="C3", fontsize=8)
            a_["ax2"] = ax2
            ax.legend(loc="upper left", fontsize=7, framealpha=0.7)
            ax.set_title("step", fontsize=9)  # reserves the title's room in the layout
            fig.tight_layout()
        else:
            a_["hist"].set_data(np.minimum(hist, self._ytop), edges)
            a_["quiver"].set_offsets(np.stack([fake[:k, 0], np.zeros(k)], 1))
            a_["quiver"].set_UVC(a[:, 0], np.zeros(k))
            a_["d"].set_ydata(dvals)
        lo, hi = float(np.min(dvals)), float(np.max(dvals))
        if self.level == 0.5 and 0.0 <= lo and hi <= 1.0:
            a_["ax2"].set_ylim(-0.02, 1.02)
        else:
            pad = 0.05 * (hi - lo) + 1e-6
            a_["ax2"].set_ylim(min(lo, self.level) - pad, max(hi, self.level) + pad)


class Snapshots(Callback):
    """Saves a frame at step 0, at every evaluation step (``every``) and at the end.

    Parameters
    ----------
    folder : Path
        Where frames go (``RUN_DIR/frames``).
    view : FrameView
    every : int
        Generator steps between frames (the run's ``train.eval_every``; 0 = start and end only).
    title : str
        Prefix of each frame's title (data and objective).
    """

    def __init__(self, folder: Path, view: FrameView, every: int, title: str = "") -> None:
        self.folder, self.view, self.every, self.title = Path(folder), view, every, title
        self.saved: dict[int, Path] = {}

    def save(self, trainer: Trainer) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.view.draw(trainer.G, trainer.D, self.folder / f"step_{trainer.step:07d}.png",
                              title=f"{self.title} · step {trainer.step}")
        self.saved[trainer.step] = path
        return path

    def on_train_start(self, trainer: Trainer) -> None:
        if trainer.step == 0:
            self.save(trainer)

    def on_step_end(self, trainer: Trainer) -> None:
        if self.every and trainer.step % self.every == 0:
            self.save(trainer)

    def on_train_end(self, trainer: Trainer) -> None:
        if trainer.step not in self.saved:
            self.save(trainer)
        self.view.close()

    def on_interrupt(self, trainer: Trainer) -> None:
        self.view.close()
