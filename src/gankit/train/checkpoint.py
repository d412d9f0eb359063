"""Crash-safe, safe-to-load checkpoints.

File format: one header line ``GANKIT-CKPT 1 <sha256 of payload>\\n`` followed by the
payload, a ``torch.save`` of plain data and tensors only. Writing goes to a temporary file
in the same folder, is flushed and fsynced, then renamed over the final name, so a crash
leaves either the old file or the new one. Loading checks the header and the hash, then
calls ``torch.load(weights_only=True)``, which refuses any pickle that would build
arbitrary objects (and so run code).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
from pathlib import Path
from typing import Any

import torch

from ..errors import GankitError
from ..io import atomic_write_bytes

__all__ = ["save_checkpoint", "load_checkpoint", "list_checkpoints", "load_latest", "CheckpointError"]

MAGIC = b"GANKIT-CKPT 1 "
_NAME = re.compile(r"^step_(\d{9})\.ckpt$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
#: entries every training checkpoint has, with their types
_REQUIRED = {"step": int, "G": dict, "D": dict, "opt_g": dict, "opt_d": dict, "rng": dict}


class CheckpointError(GankitError):
    """A checkpoint that is missing, truncated, corrupt or unsafe."""


def list_checkpoints(folder: str | Path) -> list[tuple[int, Path]]:
    """``(step, path)`` of every checkpoint file in ``folder``, oldest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted((int(m.group(1)), p) for p in folder.iterdir() if (m := _NAME.match(p.name)))


def save_checkpoint(folder: str | Path, step: int, state: dict[str, Any], keep: int = 3) -> Path:
    """Atomically write ``state`` as the checkpoint of ``step``; keep the newest ``keep`` files.

    Refuses to write when a newer checkpoint already exists in ``folder`` (a resume never
    overwrites newer work with older).
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CheckpointError(f"cannot create checkpoint folder {str(folder)!r}: {exc.strerror or exc}") from None
    existing = list_checkpoints(folder)
    if existing and existing[-1][0] > step:
        raise CheckpointError(
            f"refusing to write checkpoint of step {step}: {existing[-1][1]} is newer (step {existing[-1][0]})"
        )
    buf = io.BytesIO()
    torch.save(state, buf)
    payload = buf.getvalue()
    digest = hashlib.sha256(payload).hexdigest().encode()
    path = folder / f"step_{step:09d}.ckpt"
    try:
        atomic_write_bytes(path, MAGIC + digest + b"\n" + payload)
    except OSError as exc:  # disk full, folder gone or read-only: the older checkpoints are intact
        raise CheckpointError(f"cannot write checkpoint {str(path)!r}: {exc.strerror or exc}; "
                              f"the previous checkpoints in {str(folder)!r} are intact") from None
    for _, old in list_checkpoints(folder)[:-keep]:
        with contextlib.suppress(OSError):
            old.unlink()
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load and verify one checkpoint file; raise :class:`CheckpointError` on any problem."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {str(path)!r} does not exist") from None
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint {str(path)!r}: {exc}") from None
    head, sep, payload = raw.partition(b"\n")
    if not head.startswith(MAGIC) or not sep:
        raise CheckpointError(f"{str(path)!r} is not a gankit checkpoint (missing 'GANKIT-CKPT' header); refused")
    digest = head[len(MAGIC):].decode(errors="replace")
    if not _HEX64.match(digest) or hashlib.sha256(payload).hexdigest() != digest:
        raise CheckpointError(f"checkpoint {str(path)!r} is truncated or corrupt (content hash mismatch)")
    try:
        state = torch.load(io.BytesIO(payload), map_location=map_location, weights_only=True)
    except Exception as exc:  # weights_only refuses arbitrary objects: report, never execute
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"checkpoint {str(path)!r} holds objects other than tensors and plain data; refused ({first})") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {str(path)!r} has no training state (holds a {type(state).__name__})")
    for key, tp in _REQUIRED.items():
        if not isinstance(state.get(key), tp) or isinstance(state.get(key), bool):
            raise CheckpointError(f"checkpoint {str(path)!r} has no valid {key!r} entry; it is not a gankit training state")
    if state["step"] < 0:
        raise CheckpointError(f"checkpoint {str(path)!r} has a negative step {state['step']}")
    return state


def load_latest(folder: str | Path, map_location: str | torch.device = "cpu",
                warn: Any = None) -> dict[str, Any]:
    """The newest checkpoint in ``folder`` that loads; a corrupt newer one is reported and skipped.

    ``warn(message)`` is called once per skipped file, and only when an older checkpoint
    does load (when none loads, the single :class:`CheckpointError` names every problem).
    """
    found = list_checkpoints(folder)
    if not found:
        raise CheckpointError(f"no checkpoint in {str(folder)!r}")
    problems = []
    for _, path in reversed(found):
        try:
            state = load_checkpoint(path, map_location)
        except CheckpointError as exc:
            problems.append(str(exc))
            continue
        if warn is not None:
            for p in problems:
                warn(f"warning: {p}; using the previous checkpoint {str(path)!r} (step {state['step']})")
        return state
    raise CheckpointError(f"no usable checkpoint in {str(folder)!r}: " + "; ".join(problems))
