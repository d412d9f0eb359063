"""What a finished run leaves beside its metrics: pictures, animations, the report; and history repair on resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..io import REPORT_FILE, atomic_write_bytes
from ..report import plots, vae_plots
from ..report.animate import save_animations
from ..report.html import write_report

__all__ = ["draw_run", "truncate_history"]


def draw_run(out: Path, parts: Any, trainer: Any) -> None:
    """``samples.png``, ``losses.png`` (and a VAE's reconstructions), the animations and ``report.html``."""
    (vae_plots if parts.is_vae else plots).save_run_pictures(out, parts, trainer)
    save_animations(out)
    write_report([out], out / REPORT_FILE)


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
