"""One writer per run directory: an exclusive, non-blocking lock held while a run trains.

``fcntl.flock`` on ``RUN_DIR/.lock`` (POSIX): the kernel releases it when the process ends, even
on SIGKILL, so a killed run never leaves a stale lock. A second ``gankit train --out X`` (or
``--resume X``) started while the first trains is refused at once with one line.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from ..errors import GankitError

__all__ = ["RunLock", "LOCK_FILE"]

LOCK_FILE = ".lock"


class RunLock:
    """Exclusive lock of a run directory (created if needed); :meth:`release` unlocks and removes it."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / LOCK_FILE
        try:
            Path(run_dir).mkdir(parents=True, exist_ok=True)
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise GankitError(f"cannot write to run directory {str(run_dir)!r}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self.fd)
            raise GankitError(f"run directory {str(run_dir)!r} is in use by another gankit process; wait for it "
                              f"to finish or choose another --out") from None
        os.ftruncate(self.fd, 0)
        os.write(self.fd, f"{os.getpid()}\n".encode())

    def release(self) -> None:
        """Remove the lock file and unlock (idempotent)."""
        if self.fd < 0:
            return
        try:
            self.path.unlink(missing_ok=True)
        except OSError:
            pass  # the directory went away or turned read-only: closing still unlocks
        os.close(self.fd)
        self.fd = -1
