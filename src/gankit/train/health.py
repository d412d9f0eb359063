"""Training health: non-finite losses, weights and gradients, and a collapsed discriminator.

Every ``train.health_every`` steps, and on every step with a checkpoint or a history record
due, :class:`HealthGuard` checks the losses since the last check and every weight and
gradient with one host sync, and keeps an in-memory copy of a healthy state (with the
averaged generator, when there is one: the guard updates it, so that a rewind restores it too
and a replay re-averages exactly the steps it trains). On a fault it
replays from that copy step by step (bit-exact) to find the exact step and quantity, then
stops (``train.on_nan="stop"``, :class:`TrainingDiverged`) or rolls back with lower
learning rates (``"rollback"``). docs/guarantees.md describes the behaviour in full.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ..errors import TrainingDiverged  # one class for every divergence check
from ..io import append_jsonl
from .averaging import EMA
from .trainer import Callback, Trainer

__all__ = ["HealthGuard", "TrainingDiverged", "first_nonfinite", "nonfinite_terms", "EXIT_DIVERGED"]

#: exit status of ``gankit train`` when training diverged (2 is reserved for bad input)
EXIT_DIVERGED = 3


def _all_finite(tensors: list[Tensor]) -> bool:
    if not tensors:
        return True
    return bool(torch.stack([torch.isfinite(t).all() for t in tensors]).all())


def first_nonfinite(trainer: Trainer, ema: EMA | None = None) -> str | None:
    """The first non-finite quantity after the trainer's latest step, or ``None`` (one sync).

    With ``ema``, the averaged generator's weights are checked last.
    """
    pending = trainer.pending
    checks: list[tuple[str, list[Tensor]]] = [
        ("d_loss", (pending.get("d_loss") or [])[-1:]),
        ("D gradients", [p.grad for p in trainer.D.parameters() if p.grad is not None]),
        ("D weights", [p.detach() for p in trainer.D.parameters()]),
        ("g_loss", (pending.get("g_loss") or [])[-1:]),
        ("G gradients", [p.grad for p in trainer.G.parameters() if p.grad is not None]),
        ("G weights", [p.detach() for p in trainer.G.parameters()]),
    ]
    if ema is not None:
        checks.append(("G_ema weights", [t.detach() for t in ema.model.state_dict().values()
                                         if t.is_floating_point()]))
    for name, tensors in checks:
        if not _all_finite(tensors):
            return name
    return None


def nonfinite_terms(trainer: Trainer) -> dict[str, float]:
    """The objective's logged terms of the latest step that are not finite (``{"conj_fake": inf}``).

    The losses are sums of these terms (an f-GAN logs ``t_real`` = E_P[T] and ``conj_fake`` =
    E_Q[f*(T)], the penalties ``r1``/``gp``), so they say which part of a non-finite loss broke.
    """
    latest = {k: v[-1] for k, v in trainer.pending.items() if v and k not in ("d_loss", "g_loss", "estimate")}
    if not latest:
        return {}
    finite = torch.stack([torch.isfinite(t).all() for t in latest.values()]).tolist()  # one sync
    return {k: float(t) for (k, t), ok in zip(latest.items(), finite) if not ok}


def _with_terms(quantity: str, terms: dict[str, float]) -> str:
    return quantity + (f" ({', '.join(f'{k} = {v}' for k, v in terms.items())})" if terms else "")


def _clone(obj: Any) -> Any:
    """A deep copy of a state dict (tensors cloned, the rest immutable); much faster than deepcopy."""
    if isinstance(obj, Tensor):
        return obj.detach().clone()
    if isinstance(obj, dict):
        return {k: _clone(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clone(v) for v in obj]
    if isinstance(obj, tuple):  # e.g. Python's RNG state: 625 ints, immutable, shared as is
        return tuple(_clone(v) for v in obj) if any(isinstance(v, (Tensor, dict, list, tuple)) for v in obj) else obj
    return obj


def _stderr(msg: str) -> None:
    sys.stderr.write(f"gankit: {msg}\n")


class HealthGuard(Callback):
    """Detect non-finite training at the exact step and stop or roll back (see the module doc).

    Put it first in the callback list, so it runs before history records and checkpoints.

    Parameters
    ----------
    train : TrainConfig
        ``health_every``, ``on_nan``, ``nan_lr_factor``, ``max_rollbacks``,
        ``collapse_threshold``, ``collapse_patience``, ``checkpoint_every``, ``eval_every``.
    events : Path, optional
        history.jsonl, where events are appended.
    warn : callable, optional
        Called with one-line warnings (default: stderr).
    ema : EMA, optional
        The averaged generator. The guard updates it after every step (do not list it as a
        callback of its own), checks it, and keeps and restores it with the training state.
    replayed : list of Callback, optional
        Callbacks whose ``on_step_end`` sets what the next step trains with (the LR schedule): a
        replay calls them after every step it trains, as the loop does, so that it is bit-exact.
    """

    def __init__(self, train: Any, events: Path | None = None, warn: Callable[[str], None] | None = None,
                 ema: EMA | None = None, replayed: list[Callback] | None = None) -> None:
        self.cfg, self.events, self.warn, self.ema = train, events, warn or _stderr, ema
        self.replayed = list(replayed or [])
        self.rollbacks = 0
        self.low_windows = 0
        self._seen: tuple[Any, int] = (None, 0)  # (the pending d_loss list, entries already checked)
        self._good: dict[str, Any] | None = None
        self._terms: dict[str, float] = {}  # the objective's non-finite terms at the fault found last

    def state_dict(self) -> dict[str, int]:
        return {"rollbacks": self.rollbacks, "low_windows": self.low_windows}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rollbacks = int(state.get("rollbacks", 0))
        self.low_windows = int(state.get("low_windows", 0))

    def on_train_start(self, trainer: Trainer) -> None:
        self._mark(trainer)
        if first_nonfinite(trainer, self.ema) is None:
            self._good = self._snapshot(trainer)

    def on_step_end(self, trainer: Trainer) -> None:
        if self.ema is not None:  # before the check: a rewind then restores the average with the rest
            self.ema.update()
        if self._due(trainer.step):
            self.check(trainer)

    def on_train_end(self, trainer: Trainer) -> None:
        self.check(trainer)

    on_interrupt = on_train_end

    def _due(self, step: int) -> bool:
        c = self.cfg
        return any(every and step % every == 0 for every in (c.health_every, c.checkpoint_every, c.eval_every)) \
            or step >= c.steps

    def _snapshot(self, trainer: Trainer) -> dict[str, Any]:
        """A copy of the training state and of the averaged generator."""
        return {"trainer": _clone(trainer.state_dict()),
                "ema": _clone(self.ema.state_dict()) if self.ema is not None else None}

    def _load(self, trainer: Trainer, snapshot: dict[str, Any]) -> None:
        trainer.load_state_dict(_clone(snapshot["trainer"]))
        if self.ema is not None:
            self.ema.load_state_dict(_clone(snapshot["ema"]))

    def _mark(self, trainer: Trainer) -> None:
        """Remember how many of the pending losses are checked (the list is new after ``pop_logs``)."""
        d = trainer.pending.get("d_loss")
        self._seen = (d, len(d) if d else 0)

    def _window(self, trainer: Trainer) -> tuple[list[Tensor], list[Tensor]]:
        """Loss tensors of the steps since the last check."""
        d, g = trainer.pending.get("d_loss") or [], trainer.pending.get("g_loss") or []
        seen_list, n = self._seen
        start = n if d is seen_list else 0
        return d[start:], g[start:]

    def check(self, trainer: Trainer) -> None:
        """Sync once; on a fault, locate it and apply the policy; then remember this state as good."""
        d_win, g_win = self._window(trainer)
        healthy = _all_finite(d_win + g_win) and first_nonfinite(trainer, self.ema) is None
        if healthy and d_win:
            self._watch_collapse(trainer, float(torch.stack(d_win).abs().mean()))
        target = trainer.step
        while not healthy:
            bad_step, quantity = self._locate(trainer, target)
            good_step = trainer.step
            if self.cfg.on_nan != "rollback" or self.rollbacks >= self.cfg.max_rollbacks:
                self._stop(bad_step, good_step, quantity)
            self._rollback(trainer, bad_step, good_step, quantity)
            # go forward again to the step the loop is at, checking every step
            healthy = self._advance(trainer, target) is None
        self._mark(trainer)
        self._good = self._snapshot(trainer)

    def _locate(self, trainer: Trainer, target: int) -> tuple[int, str]:
        """Replay from the last good state; leave the trainer just before the bad step."""
        if self._good is None:
            raise TrainingDiverged(f"the initial state at step {trainer.step} is not finite", trainer.step,
                                   trainer.step, "initial state")
        self._restore_good(trainer)
        quantity = self._advance(trainer, target)
        if quantity is not None:
            return trainer.step + 1, quantity
        # not reproduced: go back to the last good state
        self._restore_good(trainer)
        return 0, "unknown"

    def _restore_good(self, trainer: Trainer) -> None:
        """The last good state as the loop left it: the copy is taken before the replayed callbacks run."""
        self._load(trainer, self._good)
        for callback in self.replayed:
            callback.on_step_end(trainer)

    def _advance(self, trainer: Trainer, target: int) -> str | None:
        """Train up to ``target`` checking every step; on a fault, return it and keep the state before it."""
        while trainer.step < target:
            before = self._snapshot(trainer)
            trainer.train_step()
            trainer.step += 1
            if self.ema is not None:
                self.ema.update()
            quantity = first_nonfinite(trainer, self.ema)
            if quantity is not None:
                self._terms = nonfinite_terms(trainer)
                self._load(trainer, before)
                self._good = before
                return quantity
            for callback in self.replayed:  # idempotent at `target`, where the loop calls them again
                callback.on_step_end(trainer)
        return None

    @staticmethod
    def _where(bad_step: int, good_step: int) -> str:
        return f"at step {bad_step}" if bad_step > 0 else f"after step {good_step} (not reproduced on replay)"

    def _event(self, record: dict[str, Any]) -> None:
        if self.events is not None:
            append_jsonl(self.events, record)

    def _stop(self, bad_step: int, good_step: int, quantity: str) -> None:
        what = "non-finite values" if quantity == "unknown" else f"{_with_terms(quantity, self._terms)} went non-finite"
        extra = f" after {self.rollbacks} rollback(s)" if self.rollbacks else ""
        self._event({"step": good_step, "event": "non_finite", "bad_step": bad_step,
                     "quantity": quantity, "terms": self._terms, "action": "stop"})
        raise TrainingDiverged(
            f"training diverged {self._where(bad_step, good_step)}: {what}{extra}; the last good state "
            f"(step {good_step}) is saved. Lower train.lr_g/train.lr_d, or resume with "
            f"--set train.on_nan=rollback",
            bad_step, good_step, quantity)

    def _rollback(self, trainer: Trainer, bad_step: int, good_step: int, quantity: str) -> None:
        self.rollbacks += 1
        f = self.cfg.nan_lr_factor
        for opt in (trainer.opt_g, trainer.opt_d):
            for group in opt.param_groups:
                group["lr"] = group["lr"] * f
        lr_g, lr_d = trainer.opt_g.param_groups[0]["lr"], trainer.opt_d.param_groups[0]["lr"]
        self.warn(f"warning: {_with_terms(quantity, self._terms)} went non-finite "
                  f"{self._where(bad_step, good_step)}; rolled back to step {good_step} and lowered the learning rates to lr_g={lr_g:.3g}, lr_d={lr_d:.3g} "
                  f"(rollback {self.rollbacks} of {self.cfg.max_rollbacks})")
        self._event({"step": good_step, "event": "rollback", "bad_step": bad_step, "quantity": quantity,
                     "terms": self._terms, "lr_g": lr_g, "lr_d": lr_d, "rollback": self.rollbacks})

    def _watch_collapse(self, trainer: Trainer, mean_abs: float) -> None:
        if mean_abs < self.cfg.collapse_threshold:
            self.low_windows += 1
            if self.low_windows == self.cfg.collapse_patience:
                self.warn(f"warning: discriminator loss near 0 (mean |d_loss| = {mean_abs:.2g}) for "
                          f"{self.low_windows} check windows up to step {trainer.step}: D separates real from "
                          f"fake almost perfectly and G may get no useful gradient")
                self._event({"step": trainer.step, "event": "collapse_warning", "mean_abs_d_loss": mean_abs,
                             "windows": self.low_windows})
        else:
            self.low_windows = 0
