"""Animations of training from the frames in ``RUN_DIR/frames``: a GIF (Pillow), and an MP4
where ``ffmpeg`` is on PATH (matplotlib's ffmpeg writer)."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.animation import FFMpegWriter  # noqa: E402
from PIL import Image  # noqa: E402

from ..io import atomic_write_bytes  # noqa: E402

__all__ = ["list_frames", "gif_bytes", "make_gif", "make_mp4", "save_animations", "make_readable"]


def make_readable(path: Path) -> None:
    """Give a file written through a private temp file the usual permissions (0666 minus the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def list_frames(folder: str | Path) -> list[Path]:
    """The frames ``step_XXXXXXX.png`` of ``folder``, in step order (empty if none)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(folder.glob("step_*.png"))


def _pick(frames: list[Path], max_frames: int) -> list[Path]:
    """At most ``max_frames`` frames, evenly spaced, always keeping the first and the last."""
    if len(frames) <= max_frames:
        return frames
    idx = np.unique(np.linspace(0, len(frames) - 1, max_frames).round().astype(int))
    return [frames[i] for i in idx]


def gif_bytes(frames: list[Path], ms_per_frame: int = 400, hold_last_ms: int = 1500, max_frames: int = 80) -> bytes:
    """An animated GIF of ``frames`` (at most ``max_frames``, first and last kept), as bytes.

    Frames are quantised to one shared adaptive palette, so colours do not flicker.
    """
    frames = _pick(list(frames), max_frames)
    if not frames:
        raise ValueError("no frames to animate")
    images = []
    for p in frames:
        try:
            images.append(Image.open(p).convert("RGB"))
        except OSError:  # a frame being written by a running training: leave it out
            continue
    if not images:
        raise ValueError("no readable frames to animate")
    size = images[0].size
    images = [im if im.size == size else im.resize(size) for im in images]
    palette = images[-1].quantize(colors=255, method=Image.Quantize.MEDIANCUT)
    quantised = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
    durations = [ms_per_frame] * len(quantised)
    durations[-1] = hold_last_ms
    buf = io.BytesIO()
    quantised[0].save(buf, format="GIF", save_all=True, append_images=quantised[1:], duration=durations, loop=0,
                      optimize=False)
    return buf.getvalue()


def make_gif(frames: list[Path], out: str | Path, ms_per_frame: int = 400, hold_last_ms: int = 1500,
             max_frames: int = 80) -> Path:
    """Write the GIF of :func:`gif_bytes` to ``out`` (atomically); returns ``out``."""
    out = Path(out)
    atomic_write_bytes(out, gif_bytes(frames, ms_per_frame, hold_last_ms, max_frames))
    make_readable(out)
    return out


def make_mp4(frames: list[Path], out: str | Path, fps: float = 2.5) -> Path | None:
    """Write an MP4 of ``frames`` with matplotlib's ffmpeg writer; ``None`` if ``ffmpeg`` is not on PATH."""
    if not frames or shutil.which("ffmpeg") is None:
        return None
    first = np.asarray(Image.open(frames[0]).convert("RGB"))
    h, w = first.shape[:2]
    dpi = 100
    fig = plt.figure(figsize=(w / dpi, h / dpi), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.axis("off")
    im = ax.imshow(first)
    out = Path(out)
    tmp = out.with_name(f".{out.stem}.tmp{out.suffix}")
    writer = FFMpegWriter(fps=fps, codec="libx264", extra_args=["-pix_fmt", "yuv420p"])
    try:
        with writer.saving(fig, str(tmp), dpi):
            for p in frames:
                im.set_data(np.asarray(Image.open(p).convert("RGB").resize((w, h))))
                writer.grab_frame()
        tmp.replace(out)
    finally:
        plt.close(fig)
        tmp.unlink(missing_ok=True)
    return out


def save_animations(run_dir: str | Path) -> dict[str, str]:
    """``training.gif`` (and ``training.mp4`` where ffmpeg exists) from ``run_dir/frames``.

    Returns what was written or skipped, e.g. ``{"gif": ".../training.gif", "mp4": "skipped: ..."}``;
    an empty dict when the run has no frames (image data, or ``train.snapshots = false``).
    """
    run_dir = Path(run_dir)
    frames = list_frames(run_dir / "frames")
    if not frames:
        return {}
    out = {"gif": str(make_gif(frames, run_dir / "training.gif"))}
    mp4 = make_mp4(frames, run_dir / "training.mp4")
    out["mp4"] = str(mp4) if mp4 is not None else "skipped: ffmpeg is not on PATH"
    return out
