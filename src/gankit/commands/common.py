"""Helpers shared by subcommands: JSON output, writing arrays, warnings."""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GankitError
from ..io import atomic_write_bytes, json_safe

__all__ = ["print_json", "warn", "save_array", "format_table", "add_progress", "progress_arg"]


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(json_safe(obj), indent=None) + "\n")


def warn(msg: str) -> None:
    sys.stderr.write(f"gankit: {msg}\n")


def save_array(path: str | Path, arr: np.ndarray) -> None:
    """Atomically write ``arr`` as ``.npy`` (or ``.csv``)."""
    path = Path(path)
    if path.suffix not in (".npy", ".csv"):
        raise GankitError(f"output file {str(path)!r} must end in .npy or .csv")
    if not path.parent.exists():
        raise GankitError(f"folder {str(path.parent)!r} of the output file does not exist")
    if path.suffix == ".npy":
        buf = io.BytesIO()
        np.save(buf, arr)
        data = buf.getvalue()
    else:
        buf = io.StringIO()
        np.savetxt(buf, arr.reshape(arr.shape[0], -1), delimiter=",", fmt="%.9g")
        data = buf.getvalue().encode()
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise GankitError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None


def format_table(rows: list[dict[str, Any]], cols: list[str] | None = None) -> str:
    """Rows as aligned columns (floats to 4 significant digits); ``cols`` defaults to the first row's keys."""
    cols = cols or list(rows[0])
    cells = [[f"{v:.4g}" if isinstance(v := r.get(c, ""), float) else str(v) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in [cols, *cells])


def add_progress(p: argparse.ArgumentParser) -> None:
    """``--no-progress``: no progress bar (bars go to stderr and only where it is a terminal)."""
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def progress_arg(args: argparse.Namespace) -> bool | None:
    """False under ``--no-progress`` or ``--json``, else None (a bar where stderr is a terminal)."""
    return False if getattr(args, "no_progress", False) or getattr(args, "json", False) else None
