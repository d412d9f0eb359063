"""The ground floor of files: atomic writes, strict JSON, the history file, and a run directory's names.

Every file gankit writes goes through :func:`atomic_write_bytes` (a crash leaves the old
file or the new one, never a partial file under the final name), or is appended one whole
line at a time (:func:`append_jsonl`).

The names below are a run directory's files; it also holds pictures.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["atomic_write_bytes", "write_json", "json_safe", "append_jsonl", "read_jsonl",
           "CONFIG_FILE", "METRICS_FILE", "HISTORY_FILE", "CHECKPOINT_DIR", "RATIO_FILE", "REPORT_FILE",
           "SUMMARY_FILE"]

CONFIG_FILE = "config.toml"  # the resolved config
METRICS_FILE = "metrics.json"  # the final metrics
HISTORY_FILE = "history.jsonl"  # one JSON object per evaluation, and events (rollbacks, warnings)
CHECKPOINT_DIR = "checkpoints"  # crash-safe checkpoints
#: discriminator rejection sampling's fitted density-ratio classifier (gankit.sampling)
RATIO_FILE = "drs_ratio.pt"
REPORT_FILE = "report.html"
#: mean ± std over the seeds of a ``--seeds`` run
SUMMARY_FILE = "summary.json"


_UMASK = os.umask(0o022)
os.umask(_UMASK)  # (read once: os.umask can only be read by setting it)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # a file system that cannot sync folders still renamed atomically
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash never leaves a partial file under that name."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the mode a plain open() would
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def json_safe(obj: Any) -> Any:
    """Replace NaN/inf floats by None so the output is strict JSON."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def write_json(path: str | Path, obj: Any) -> None:
    """``obj`` as indented strict JSON (NaN/inf → null), written atomically."""
    atomic_write_bytes(path, (json.dumps(json_safe(obj), indent=2) + "\n").encode())


def append_jsonl(path: str | Path, record: dict[str, Any]) -> None:
    """Append ``record`` as one line of strict JSON."""
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(json_safe(record)) + "\n")
        fh.flush()


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """The JSON objects of a ``.jsonl`` file, one a line; a line cut by a crash (or not an object) is skipped."""
    out = []
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    for line in text.splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict):
            out.append(rec)
    return out
