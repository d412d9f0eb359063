"""User-facing errors: :class:`GankitError` for anything wrong with what the user passed.

The command line turns it into one line on stderr and exit status 2; library users catch
it like a ``ValueError``.
"""

from __future__ import annotations

__all__ = ["GankitError", "TrainingDiverged"]


class GankitError(ValueError):
    """Bad input: the message names the problem and what is accepted."""


class TrainingDiverged(GankitError):
    """A loss, weight or gradient went NaN or infinite during training, and the policy is to stop.

    Raised by the health guard (:mod:`gankit.train.health`) or, where no guard runs, by the
    :class:`~gankit.train.callbacks.History` callback. ``gankit train`` exits with status 3.

    Attributes
    ----------
    step : int
        The generator step whose update produced the first non-finite value (0 if unknown).
    good_step : int
        The step of the last good state (the trainer holds it when the guard raises this).
    quantity : str
        What went non-finite first: ``"d_loss"``, ``"g_loss"``, ``"D gradients"``, ``"G weights"``, ...
        (``loss`` is the same value, under the name the History callback passes.)
    """

    def __init__(self, message: str, step: int = 0, good_step: int = 0, quantity: str = "", loss: str = "") -> None:
        super().__init__(message)
        self.step, self.good_step = step, good_step
        self.quantity = quantity or loss
        self.loss = self.quantity
