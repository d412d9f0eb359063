"""Crash-safe, safe-to-load checkpoints.

File format: one header line ``GANKIT-CKPT 1 <sha256 of payload>\\n`` followed by the
payload, a ``torch.save`` of plain data and tensors only. Writing goes to a temporary file
in the same folder, is flushed and fsynced, then renamed over the final name, so a crash
leaves either the old file or the new one. Loading checks the header and the hash, then
calls ``torch.load(weights_only=True)``, which refuses any pickle that would build
arbitrary objects (and so run code), and checks every entry against :data:`SCHEMA` (types,
tensor dtypes and shapes of the RNG states) before any of it is used.

A resuming run renames checkpoints that do not load to ``step_N.ckpt.corrupt`` (kept for
inspection, out of the way of new saves), and the writer removes temporary files
(``.step_N.ckpt.*.tmp``) that a killed save left behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ..errors import GankitError
from ..io import atomic_write_bytes

__all__ = ["save_checkpoint", "load_checkpoint", "list_checkpoints", "load_latest", "CheckpointError",
           "check_state", "nonfinite_tensors", "clean_temp_files", "SCHEMA"]

MAGIC = b"GANKIT-CKPT 1 "
_NAME = re.compile(r"^step_(\d{9})\.ckpt$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_TEMP = re.compile(r"^\.step_\d{9}\.ckpt\..*\.tmp$")  # io.atomic_write_bytes's temporary name
QUARANTINE_SUFFIX = ".corrupt"


def _count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _tensors(v: Any) -> bool:
    return isinstance(v, dict) and all(isinstance(k, str) and isinstance(t, torch.Tensor) for k, t in v.items())


def _byte_state(v: Any) -> bool:
    return isinstance(v, torch.Tensor) and v.dtype == torch.uint8 and v.dim() == 1


def _mt_keys(v: Any) -> bool:
    return isinstance(v, torch.Tensor) and v.dtype == torch.int64 and tuple(v.shape) == (624,)


def _python_rng(v: Any) -> bool:
    return (isinstance(v, (tuple, list)) and len(v) == 3 and _count(v[0]) and isinstance(v[1], (tuple, list))
            and len(v[1]) == 625 and all(_count(x) for x in v[1]) and (v[2] is None or isinstance(v[2], float)))


def _optimizer(v: Any) -> bool:
    return (isinstance(v, dict) and isinstance(v.get("state"), dict) and isinstance(v.get("param_groups"), list)
            and all(isinstance(g, dict) and isinstance(g.get("params"), list) for g in v["param_groups"]))


def _json_object(v: Any) -> bool:
    if not isinstance(v, str):
        return False
    try:
        return isinstance(json.loads(v or "{}"), dict)
    except (ValueError, RecursionError):
        return False


def _rank_states(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(r, dict) and _byte_state(r.get("data"))
                                       and _byte_state(r.get("noise")) for r in v)


def _world(v: Any) -> bool:
    return _count(v) and v >= 1


#: what a training checkpoint holds: a check per entry, or a nested schema; "?" marks an optional entry
SCHEMA: dict[str, Any] = {
    "step": _count, "G": _tensors, "D": _tensors, "opt_g": _optimizer, "opt_d": _optimizer,
    "rng": {"data": _byte_state, "noise": _byte_state, "torch": _byte_state, "python": _python_rng,
            "numpy": {"name": lambda v: isinstance(v, str) and v == "MT19937", "keys": _mt_keys, "pos": _count, "has_gauss": _count,
                      "cached": lambda v: isinstance(v, float)}},
    "pending?": _tensors, "scaler_d?": dict, "scaler_g?": dict, "config?": str, "history_last?": _json_object,
    "health?": {"rollbacks?": _count, "low_windows?": _count}, "world_size?": _world, "rng_ranks?": _rank_states,
    "G_ema?": {"model": _tensors, "updates": _count},
}


class CheckpointError(GankitError):
    """A checkpoint that is missing, truncated, corrupt or unsafe."""


def _first_bad(state: Any, schema: dict[str, Any], where: str = "") -> str | None:
    """The dotted name of the first entry of ``state`` that does not match ``schema``, or ``None``."""
    if not isinstance(state, dict):
        return where or "state"
    for spec_key, check in schema.items():
        key = spec_key.rstrip("?")
        name = f"{where}.{key}" if where else key
        if key not in state:
            if spec_key.endswith("?"):
                continue
            return name
        value = state[key]
        if isinstance(check, dict):
            bad = _first_bad(value, check, name)
            if bad is not None:
                return bad
        elif not (isinstance(value, check) if isinstance(check, type) else check(value)):
            return name
    return None


def check_state(state: Any, what: str) -> None:
    """Raise :class:`CheckpointError` unless ``state`` matches :data:`SCHEMA` (``what`` names it)."""
    if not isinstance(state, dict):
        raise CheckpointError(f"{what} has no training state (holds a {type(state).__name__})")
    bad = _first_bad(state, SCHEMA)
    if bad is not None:
        raise CheckpointError(f"{what} has no valid {bad!r} entry (wrong type or shape); "
                              f"it is not a gankit training state")


def nonfinite_tensors(tensors: dict[str, torch.Tensor]) -> list[str]:
    """Names of the floating-point tensors in ``tensors`` holding NaN or infinity."""
    return [k for k, t in tensors.items() if t.is_floating_point() and not bool(torch.isfinite(t).all())]


def clean_temp_files(folder: str | Path) -> list[Path]:
    """Remove the temporary files a killed save left in ``folder``; return them.

    Call it only from the run's one writer (the run directory is locked): another writer's
    save in progress uses such a file.
    """
    folder, removed = Path(folder), []
    if folder.is_dir():
        for p in folder.iterdir():
            if _TEMP.match(p.name) and p.is_file():
                with contextlib.suppress(OSError):
                    p.unlink()
                    removed.append(p)
    return removed


def list_checkpoints(folder: str | Path) -> list[tuple[int, Path]]:
    """``(step, path)`` of every checkpoint file in ``folder``, oldest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted((int(m.group(1)), p) for p in folder.iterdir() if (m := _NAME.match(p.name)))


def save_checkpoint(folder: str | Path, step: int, state: dict[str, Any], keep: int = 3) -> Path:
    """Atomically write ``state`` as the checkpoint of ``step``; keep the newest ``keep`` files.

    Refuses to write when a newer checkpoint already exists in ``folder`` (a resume never
    overwrites newer work with older). Removes the temporary files of killed saves first.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CheckpointError(f"cannot create checkpoint folder {str(folder)!r}: {exc.strerror or exc}") from None
    clean_temp_files(folder)
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
    check_state(state, f"checkpoint {str(path)!r}")
    return state


def load_latest(folder: str | Path, map_location: str | torch.device = "cpu",
                warn: Callable[[str], None] | None = None, quarantine: bool = False) -> dict[str, Any]:
    """The newest checkpoint in ``folder`` that loads; a corrupt newer one is reported and skipped.

    ``warn(message)`` is called once per skipped file, and only when an older checkpoint
    does load (when none loads, the single :class:`CheckpointError` names every problem and
    nothing is renamed). With ``quarantine`` (a resuming run, the folder's one writer), each
    skipped file is renamed to ``<name>.corrupt``, so that the run can save its next steps,
    and temporary files of killed saves are removed.
    """
    found = list_checkpoints(folder)
    if not found:
        raise CheckpointError(f"no checkpoint in {str(folder)!r}")
    problems: list[tuple[Path, str]] = []
    for _, path in reversed(found):
        try:
            state = load_checkpoint(path, map_location)
        except CheckpointError as exc:
            problems.append((path, str(exc)))
            continue
        for bad, problem in problems:
            note = _quarantine(bad) if quarantine else ""
            if warn is not None:
                warn(f"warning: {problem}; using the previous checkpoint {str(path)!r} (step {state['step']}){note}")
        if quarantine:
            clean_temp_files(folder)
        return state
    raise CheckpointError(f"no usable checkpoint in {str(folder)!r}: " + "; ".join(p for _, p in problems))


def _quarantine(path: Path) -> str:
    """Rename an unreadable checkpoint out of the way; the note for the warning line."""
    target = path.with_name(path.name + QUARANTINE_SUFFIX)
    try:
        path.replace(target)
    except OSError as exc:
        return f"; could not rename it ({exc.strerror or exc})"
    return f"; renamed it to {target.name!r}"
