"""TensorBoard logging (``train.tensorboard = true`` or ``gankit train --tensorboard``).

Scalars and the frames of :mod:`gankit.report.frames` go to ``RUN_DIR/tensorboard`` through
:class:`torch.utils.tensorboard.SummaryWriter` (optional extra: ``pip install gankit[tensorboard]``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..errors import GankitError
from ..train.trainer import Callback, Trainer

__all__ = ["require_summary_writer", "TensorBoardLogger"]


def require_summary_writer() -> type:
    """``torch.utils.tensorboard.SummaryWriter``, or a :class:`GankitError` telling how to install it."""
    try:
        from torch.utils.tensorboard import SummaryWriter  # lazy: tensorboard is an optional extra
    except ImportError:
        raise GankitError(
            "train.tensorboard=true needs the tensorboard package, which is not installed; "
            "install it with: pip install 'gankit[tensorboard]' (or set train.tensorboard=false)"
        ) from None
    return SummaryWriter


class TensorBoardLogger(Callback):
    """Writes each new history record as scalars, and each new frame as an image.

    Parameters
    ----------
    logdir : Path
        ``RUN_DIR/tensorboard``.
    history : History
        The run's history callback; its last record is logged once per step it covers.
    snapshots : Snapshots, optional
        The run's frame callback; frames it saved are logged as images under ``frames``.
    """

    def __init__(self, logdir: Path, history: Any, snapshots: Any = None) -> None:
        writer_cls = require_summary_writer()
        self.writer = writer_cls(log_dir=str(logdir))
        self.history, self.snapshots = history, snapshots
        self._logged_record = -1
        self._logged_frames: set[int] = set()

    def _flush_new(self) -> None:
        rec = self.history.last
        step = int(rec.get("step", -1))
        if rec and step != self._logged_record:
            for key, value in rec.items():
                if key != "step" and isinstance(value, (int, float)) and not isinstance(value, bool):
                    group = "loss" if key.endswith("_loss") else "metrics"
                    self.writer.add_scalar(f"{group}/{key}", float(value), step)
            self._logged_record = step
        if self.snapshots is not None:
            for fstep, path in sorted(self.snapshots.saved.items()):
                if fstep not in self._logged_frames:
                    img = np.asarray(Image.open(path).convert("RGB"))  # (H, W, 3) uint8
                    self.writer.add_image("frames", img, fstep, dataformats="HWC")
                    self._logged_frames.add(fstep)
        self.writer.flush()

    def on_train_start(self, trainer: Trainer) -> None:
        self._flush_new()

    def on_step_end(self, trainer: Trainer) -> None:
        if self.history.last.get("step") == trainer.step:
            self._flush_new()

    def on_train_end(self, trainer: Trainer) -> None:
        self._flush_new()
        self.writer.close()

    def on_interrupt(self, trainer: Trainer) -> None:
        self.writer.close()
