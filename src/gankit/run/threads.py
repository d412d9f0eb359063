"""Torch's CPU threads for a run or a command: one setting, applied at the start of the work.

``--threads N`` on every command that computes and ``train.threads`` in a run's config mean
the same: ``N`` threads for torch's CPU operations (:func:`torch.set_num_threads`); ``0`` or
nothing means :data:`~gankit.config.DEFAULT_THREADS` (one thread: it does not collapse when
the machine is busy, and a seed gives the same numbers on every machine; docs/speed.md).

>>> set_threads(None)          # what a command does first with its --threads value
1
>>> with threads(2):           # what a run does around its work (restoring the caller's count)  # doctest: +SKIP
...     ...
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from ..config import DEFAULT_THREADS, MAX_THREADS
from ..errors import GankitError

__all__ = ["resolve_threads", "set_threads", "threads", "THREADS_HELP"]

#: the ``--threads`` help text shared by every command
THREADS_HELP = (f"torch CPU threads (default {DEFAULT_THREADS}; 0 = the default): one thread does not slow "
                f"down on a busy machine and gives the same numbers everywhere; more can be faster on idle cores "
                f"(docs/speed.md)")


def resolve_threads(n: int | None, name: str = "--threads") -> int:
    """The thread count ``n`` stands for (``None`` or ``0``: the default); one :class:`GankitError` line if bad."""
    if n is None or n == 0:
        return DEFAULT_THREADS
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_THREADS:
        raise GankitError(f"{name} must be an integer in [0, {MAX_THREADS}] (0 = the default, {DEFAULT_THREADS}), "
                          f"got {n!r}")
    return n


def set_threads(n: int | None = None) -> int:
    """Apply ``n`` torch CPU threads (``None``/``0``: the default) for the rest of the process; the count applied.

    The helper every command calls first with its ``--threads`` value.
    """
    count = resolve_threads(n)
    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
    return count


@contextmanager
def threads(n: int | None = None) -> Iterator[int]:
    """``n`` torch CPU threads inside the block (see :func:`set_threads`), the caller's count restored after."""
    before = torch.get_num_threads()
    try:
        yield set_threads(n)
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
