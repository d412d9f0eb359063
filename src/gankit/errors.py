"""User-facing errors.

Every problem caused by what the user passed (an unknown name, a malformed spec, a
wrong type, a missing file) is raised as :class:`GankitError`. The command line turns
it into one line on stderr and exit status 2; library users catch it like a
``ValueError``.
"""

from __future__ import annotations

__all__ = ["GankitError"]


class GankitError(ValueError):
    """Bad input: the message names the problem and what is accepted."""
