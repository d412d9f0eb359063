"""Run a planned sweep: check it, then train every run that is not done yet, then write the summary.

>>> jobs = plan([], parse_grid(["objective.name=ns,hinge"]), [0, 1], "sweeps/demo",
...             flags={"train.steps": 20})                                         # doctest: +SKIP
>>> summary = run_sweep(jobs, "sweeps/demo", n_jobs=2)                            # doctest: +SKIP
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from ..config import load_toml, to_dict
from ..errors import GankitError
from ..io import CONFIG_FILE, SUMMARY_FILE
from ..report.runs import IGNORED_KEYS
from ..run.threads import resolve_threads
from .executors import EXECUTORS, execute, require_ray
from .grid import Job
from .summary import write_summary
from .worker import LOCKS_DIR, run_state

__all__ = ["run_sweep", "train_jobs", "check_out", "check_train_args", "job_dicts"]


def _flat(cfg: Any) -> dict[str, Any]:
    return {f"{s}.{k}": v for s, sec in to_dict(cfg).items() for k, v in sec.items()}


def check_out(out: Path, jobs: list[Job]) -> None:
    """Refuse an ``--out`` that is not a sweep folder, or holds runs made with another config than planned."""
    if out.exists() and not out.is_dir():
        raise GankitError(f"--out {str(out)!r} is a file; give a folder for the sweep")
    if (out / CONFIG_FILE).is_file():
        raise GankitError(f"--out {str(out)!r} is a run directory of 'gankit train'; give a folder for the sweep")
    for job in jobs:
        if not (job.out / CONFIG_FILE).is_file():
            continue
        old, new = _flat(load_toml(job.out / CONFIG_FILE)), _flat(job.cfg)
        diff = [k for k in new if k not in IGNORED_KEYS and old.get(k) != new[k]]
        if diff:
            k = diff[0]
            raise GankitError(f"run {str(job.out)!r} was made with {k}={old.get(k)!r}, this sweep plans "
                              f"{k}={new[k]!r}; give the sweep another --out (or the same settings)")


def job_dicts(jobs: list[Job], out: Path, retry_failed: bool = False, pictures: bool = True) -> list[dict[str, Any]]:
    """What each worker gets: plain data (a config dict and paths), picklable for processes and Ray."""
    return [{"name": j.name, "config": to_dict(j.cfg), "out": str(j.out), "lock": str(out / LOCKS_DIR / j.name),
             "retry_failed": retry_failed, "pictures": pictures, "threads": resolve_threads(j.cfg.train.threads)}
            for j in jobs]


def run_sweep(jobs: list[Job], out: str | Path, *, meta: dict[str, Any] | None = None, **train: Any) -> dict[str, Any]:
    """Train what is not done (:func:`train_jobs`), then write ``summary.json`` and ``leaderboard.md``; the summary.

    Raises :class:`GankitError` before writing anything for bad input (see :func:`check_out`).
    """
    out = Path(out)
    check_train_args(**{k: v for k, v in train.items() if k in ("executor", "n_jobs")})
    check_out(out, jobs)
    meta = {"executor": train.get("executor", "local"), "jobs": train.get("n_jobs", 1), **(meta or {})}
    out.mkdir(parents=True, exist_ok=True)
    if not (out / SUMMARY_FILE).exists():
        write_summary(out, jobs, meta)  # marks the folder as a sweep's (gankit report reads it) from the start
    try:
        train_jobs(jobs, out, **train)
    finally:
        summary = write_summary(out, jobs, meta)
    return summary


def check_train_args(executor: str = "local", n_jobs: int = 1) -> None:
    """One :class:`GankitError` line for an unknown executor, a bad ``--jobs`` or a missing extra."""
    if executor not in EXECUTORS:
        raise GankitError(f"unknown executor {executor!r}; known executors: {', '.join(EXECUTORS)}")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or not 1 <= n_jobs <= 1024:
        raise GankitError(f"--jobs must be an integer in [1, 1024], got {n_jobs!r}")
    if executor == "ray":
        require_ray()


def train_jobs(jobs: list[Job], out: Path, *, executor: str = "local", n_jobs: int = 1, address: str | None = None,
               retry_failed: bool = False, pictures: bool = True, progress: bool | None = None,
               log: Callable[[str], None] | None = None,
               on_record: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Run every job with the executor; the records (see :func:`~gankit.sweep.worker.run_job`).

    ``log`` gets one line per run as it ends, ``on_record`` its record (runs already done included).
    A run stopped by Ctrl-C stops the sweep (KeyboardInterrupt).
    """
    done = {"finished", "diverged"} | (set() if retry_failed else {"failed"})
    states = {j.name: run_state(j.out) for j in jobs}  # what is done stays done: no process is started for it
    todo = [j for j in jobs if states[j.name] not in done]
    records = [{"name": j.name, "run_dir": str(j.out), "status": states[j.name]} for j in jobs if states[j.name] in done]
    for rec in records:
        if log is not None:
            log(f"{rec['name']}: {rec['status']}")
        if on_record is not None:
            on_record(rec)
    bar = tqdm(total=len(todo), unit="run", desc="sweep", file=sys.stderr, disable=True if progress is False else None)
    try:
        for rec in execute(job_dicts(todo, out, retry_failed, pictures), executor, n_jobs, address) if todo else ():
            bar.update()
            records.append(rec)
            if log is not None:
                tail = f": {rec['error']}" if rec.get("error") and rec["status"] != "diverged" else ""
                log(f"{rec['name']}: {rec['status']}{tail}")
            if on_record is not None:
                on_record(rec)
            if rec["status"] == "stopped":
                raise KeyboardInterrupt
    finally:
        bar.close()
    return records
