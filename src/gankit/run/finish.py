"""What a finished run leaves beside its metrics: pictures, animations, the report; and history repair on resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from torch import Tensor

from ..io import REPORT_FILE, atomic_write_bytes
from ..report import plots, vae_plots
from ..report.animate import save_animations
from ..report.grids import GRID_SAMPLES
from ..report.html import write_report
from ..report.sampler_panels import plot_sampler_panels, save_grid_panels
from ..sampling import generate

__all__ = ["draw_run", "truncate_history"]


def draw_run(out: Path, parts: Any, trainer: Any, sampler: tuple[str, Tensor] | None = None) -> None:
    """``samples.png``, ``losses.png`` (and a VAE's reconstructions), the animations and ``report.html``.

    ``samples.png`` shows the generator's own draws (what the headline metrics measured); with
    ``sampler = (name, draws)``, the sampler's draws stand beside them in a second panel.
    """
    (vae_plots if parts.is_vae else plots).save_run_pictures(out, parts, trainer)
    if sampler is not None:
        _draw_sampler_panel(out / "samples.png", parts, trainer, *sampler)
    save_animations(out)
    write_report([out], out / REPORT_FILE)


def _draw_sampler_panel(path: Path, parts: Any, trainer: Any, name: str, draws: Tensor) -> None:
    cfg, shape, ev = parts.cfg, tuple(parts.source.shape), parts.cfg.eval
    if len(shape) == 3:  # images: the fixed evaluation noise's grid, and as many of the sampler's draws
        save_grid_panels(generate(parts.G, GRID_SAMPLES, ev.seed, parts.device), draws[:GRID_SAMPLES], path)
    elif len(shape) == 1 and shape[0] in (1, 2) and not parts.is_vae:  # (a VAE's D is its encoder)
        own = generate(parts.G, ev.n_samples, ev.seed, parts.device).reshape(ev.n_samples, -1).numpy()
        title = f"{cfg.data.name} · {cfg.objective.name} · step {trainer.step}"
        plot_sampler_panels(own, draws.reshape(len(draws), -1).numpy(), name, parts.D, parts.source,
                            parts.objective, path, seed=ev.seed, device=parts.device, title=title)


def truncate_history(path: Path, step: int, last_record: int) -> None:
    """Drop what was written after the checkpoint being resumed (the resumed run writes it again).

    Records (one per evaluation) are kept up to ``last_record``, the step of the last record
    the checkpoint knew about; events (rollbacks, warnings) up to the checkpoint's ``step``;
    a line cut by a crash is dropped.
    """
    if not path.exists():
        return
    keep = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
            limit = step if "event" in rec else last_record
            if int(rec.get("step", 0)) <= limit:
                keep.append(line)
        except (json.JSONDecodeError, AttributeError, TypeError, ValueError):
            continue
    atomic_write_bytes(path, ("\n".join(keep) + ("\n" if keep else "")).encode())
