"""User-facing errors.

Every problem caused by what the user passed (an unknown name, a malformed spec, a
wrong type, a missing file) is raised as :class:`GankitError`. The command line turns
it into one line on stderr and exit status 2; library users catch it like a
``ValueError``.
"""

from __future__ import annotations

__all__ = ["GankitError", "TrainingDiverged"]


class GankitError(ValueError):
    """Bad input: the message names the problem and what is accepted."""


class TrainingDiverged(GankitError):
    """A loss became NaN or infinite during training; ``step`` and ``loss`` say where.

    Raised by the :class:`~gankit.train.callbacks.History` callback when it records the
    losses (a minimal check; see ``History.record``).
    """

    def __init__(self, message: str, step: int = 0, loss: str = "") -> None:
        super().__init__(message)
        self.step, self.loss = step, loss
