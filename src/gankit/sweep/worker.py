"""One run of a sweep, in whatever process the executor gives it: look at its folder, then train, resume or skip.

The state of a run is read from its run directory, so a second sweep (or the same one run
again) does the right thing:

- ``metrics.json`` present: finished, skipped;
- ``sweep-run.json`` says ``failed`` (an error other than divergence): skipped, unless
  ``--retry-failed``, which moves the folder aside to ``seed<s>.failed-<k>`` and trains again;
- ``sweep-run.json`` says ``diverged``: a result (counted in the leaderboard), skipped;
- anything else in the folder (a run that was stopped): resumed from its newest checkpoint;
- no folder: trained.

Every run is guarded by a lock of its own, ``OUT/.locks/<name>/.lock`` (the run-directory lock,
:class:`~gankit.run.lock.RunLock`), held from the look at the folder to the last write, so two
sweeps into one ``--out`` never work on the same run: the second one reports it ``busy``.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from ..config import RunConfig, from_dict
from ..errors import GankitError, TrainingDiverged
from ..io import METRICS_FILE, write_json
from ..run import Run
from ..run.lock import RunLock
from ..run.threads import resolve_threads
from ..train.trainer import TrainingInterrupted

__all__ = ["run_job", "run_state", "STATUS_FILE", "LOCKS_DIR", "watch_parent"]

#: what the sweep records in a run directory besides the run's own files
STATUS_FILE = "sweep-run.json"
LOCKS_DIR = ".locks"


def run_state(run_dir: Path) -> str:
    """``new``, ``finished``, ``failed``, ``diverged`` or ``stopped`` (see the module docstring)."""
    if (run_dir / METRICS_FILE).is_file():
        return "finished"
    status = read_status(run_dir)
    if status.get("status") in ("failed", "diverged"):
        return status["status"]
    if run_dir.is_dir() and any(p.name != ".lock" for p in run_dir.iterdir()):
        return "stopped"
    return "new"


def read_status(run_dir: Path) -> dict[str, Any]:
    """The sweep's record of a run (``sweep-run.json``), ``{}`` when there is none."""
    try:
        data = json.loads((run_dir / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _aside(run_dir: Path) -> Path:
    k = 1
    while (target := run_dir.with_name(f"{run_dir.name}.failed-{k}")).exists():
        k += 1
    run_dir.rename(target)
    return target


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Run one job (``config`` as a dict, ``out``, ``lock``, ``retry_failed``, ``pictures``); its record.

    The record: ``status`` (``trained``, ``resumed``, ``finished``: already done, ``failed``,
    ``diverged``, ``busy``: another process holds it, ``stopped``: interrupted), and for runs trained
    here ``cpu_time`` and ``wall_time`` (seconds of this process) and ``threads``.
    """
    out = Path(job["out"])
    base = {"run_dir": str(out), "name": job.get("name", out.name)}
    try:
        lock = RunLock(Path(job["lock"]))
    except GankitError:
        return {**base, "status": "busy"}
    try:
        return {**base, **_locked(job, out)}
    finally:
        lock.release()


def _locked(job: dict[str, Any], out: Path) -> dict[str, Any]:
    state = run_state(out)
    if state == "failed" and job.get("retry_failed"):
        _aside(out)
        state = "new"
    if state in ("finished", "failed", "diverged"):
        return {"status": state}
    cfg: RunConfig = from_dict(RunConfig, job["config"])
    resume = state == "stopped"
    t0, c0 = time.perf_counter(), time.process_time()
    status: dict[str, Any] = {"status": "resumed" if resume else "trained"}
    try:
        Run(cfg, out).fit(resume=resume, progress=False, pictures=job.get("pictures", True))
    except TrainingInterrupted:
        return {"status": "stopped"}
    except TrainingDiverged as exc:
        status = {"status": "diverged", "error": str(exc)}
    except GankitError as exc:
        if "in use by another gankit process" in str(exc):  # a `gankit train --resume` of this run
            return {"status": "busy"}
        status = {"status": "failed", "error": str(exc)}
    except Exception as exc:  # noqa: BLE001  (one broken run must not stop the others; its traceback is kept)
        status = {"status": "failed", "error": f"{type(exc).__name__}: {exc}",
                  "traceback": traceback.format_exc(limit=20)}
    status.update(cpu_time=round(time.process_time() - c0, 3), wall_time=round(time.perf_counter() - t0, 3),
                  threads=resolve_threads(cfg.train.threads),
                  host=socket.gethostname(), pid=os.getpid())
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / STATUS_FILE, status)
    return status


def watch_parent() -> None:
    """In a pool worker: exit when the sweep's process is gone (killed), so no run trains on unwatched.

    (A killed sweep must lose at most the unfinished steps of its runs in flight; a worker that went
    on training would hold those runs' locks against the next sweep.)
    """
    parent = os.getppid()

    def poll() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=poll, daemon=True, name="gankit-sweep-parent").start()
