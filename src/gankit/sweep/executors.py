"""Where the runs of a sweep train: this process, a local process pool, or Ray tasks.

- ``local`` (the default): ``--jobs 1`` trains the runs one after another in this process;
  ``--jobs N`` in a pool of N processes (:class:`concurrent.futures.ProcessPoolExecutor`, started
  with ``spawn``), one run at a time each, on ``train.threads`` torch threads (default 1).
- ``ray``: one Ray task per run, declaring ``num_cpus`` = the run's thread count, on a local Ray
  (``ray.init(num_cpus=N)`` with ``--jobs N``) or a cluster (``--address``). The run directories
  must be on a file system that every node sees.

Each executor yields the records of :func:`~gankit.sweep.worker.run_job` as runs end.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from ..errors import GankitError
from .worker import run_job, watch_parent

__all__ = ["EXECUTORS", "execute", "require_ray"]

EXECUTORS = ("local", "ray")


def execute(jobs: list[dict[str, Any]], executor: str = "local", n_jobs: int = 1,
            address: str | None = None) -> Iterator[dict[str, Any]]:
    """The record of every job, in the order they end."""
    if executor == "ray":
        yield from _ray(jobs, n_jobs, address)
    elif n_jobs == 1:
        for job in jobs:
            yield run_job(job)
    else:
        yield from _pool(jobs, n_jobs)


def _pool(jobs: list[dict[str, Any]], n_jobs: int) -> Iterator[dict[str, Any]]:
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter per worker: no forked torch thread pools
    pool = ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx, initializer=watch_parent)
    try:
        pending = {pool.submit(run_job, j) for j in jobs}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def require_ray() -> Any:
    """The ``ray`` module, or one :class:`GankitError` line naming the extra to install."""
    try:
        import ray  # optional extra: gankit[ray]
    except ImportError:
        raise GankitError("--executor ray needs Ray: pip install 'gankit[ray]'") from None
    return ray


def _ray(jobs: list[dict[str, Any]], n_jobs: int, address: str | None) -> Iterator[dict[str, Any]]:
    ray = require_ray()
    started = not ray.is_initialized()
    if started:
        kw: dict[str, Any] = {"address": address} if address else {"num_cpus": n_jobs}
        ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False, **kw)
    try:
        remote = ray.remote(run_job)
        pending = [remote.options(num_cpus=j.get("threads", 1), max_retries=0).remote(j) for j in jobs]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                yield ray.get(ref)
    finally:
        if started:
            ray.shutdown()
