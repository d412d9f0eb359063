"""One training session of a run: its callbacks, its trainer, and the state it resumes from."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..config import dumps_toml
from ..io import CHECKPOINT_DIR, CONFIG_FILE, HISTORY_FILE, atomic_write_bytes, json_safe
from ..train.callbacks import Checkpointer, History
from ..train.checkpoint import CheckpointError
from ..train.distributed import Barrier, DistInfo, DropLogs, RankStates, restore_rank_states, wrap_trainer
from ..train.health import HealthGuard
from ..train.trainer import Callback, Trainer
from ..train.vae_trainer import VAETrainer
from .callbacks import eval_fn, picture_callbacks, progress_bar, schedule_callbacks
from .finish import truncate_history
from .parts import Parts

__all__ = ["Session"]


class Session:
    """The callbacks of one :meth:`Run.fit <gankit.run.Run.fit>` and the trainer they hang on.

    With a run directory ``out`` (on rank 0): ``config.toml`` is written, history goes to
    ``history.jsonl`` and checkpoints to ``checkpoints/``; without one, history stays in memory.
    """

    def __init__(self, parts: Parts, out: Path | None, info: DistInfo, warn: Any = None, resume: bool = False,
                 config_text: str | None = None) -> None:
        self.parts, self.out, self.info, self.warn, self.resume = parts, out, info, warn, resume
        cfg = parts.cfg
        self.writes = out is not None and info.is_main
        self.history_path = out / HISTORY_FILE if self.writes else None
        self.schedules, self.ema = schedule_callbacks(parts)  # LR schedule, EMA of G
        t = cfg.train
        self.history = History(t.eval_every, eval_fn(parts, self.ema), self.history_path, log_every=t.log_every)
        # the guard checks on every step with a history record, as it does at evaluations: a record takes the
        # losses it has not yet seen (health_every at a divisor of log_every; the defaults are both 50)
        guard_cfg = replace(t, health_every=math.gcd(t.health_every, t.log_every)) if t.log_every else t
        self.guard = HealthGuard(guard_cfg, self.history_path, warn=warn, ema=self.ema,  # it updates the EMA
                                 replayed=[c for c in self.schedules if c is not self.ema])
        self.ranks = RankStates(cfg.train.checkpoint_every) if info.enabled else None
        self.checkpointer: Checkpointer | None = None
        #: the config as the user resolved it (under torchrun the parts carry each rank's own device)
        self.config_text = config_text or dumps_toml(cfg)

    @property
    def generator(self) -> Any:
        """The run's generator: the averaged one with ``train.ema``."""
        return self.ema.model if self.ema is not None else self.parts.G

    def checkpoint_extra(self) -> dict[str, Any]:
        """What a checkpoint of this run holds beside the trainer's state (also the lab's "save run")."""
        return {"config": self.config_text, "history_last": json.dumps(json_safe(self.history.last)),
                "health": self.guard.state_dict(), "world_size": self.info.world_size,
                **({"rng_ranks": self.ranks.states} if self.ranks is not None else {}),
                # the averaged generator is the one `gankit sample/eval` use
                **({"G_ema": self.ema.state_dict()} if self.ema is not None else {})}

    def callbacks(self, progress: bool, extra: list[Callback] | None, pictures: bool) -> list[Callback]:
        """In order: health guard (it updates the EMA of G), rank states, LR schedule, history, checkpoints,
        progress, pictures, ``extra``."""
        cfg, cbs = self.parts.cfg, [self.guard]
        cbs += [self.ranks] if self.ranks is not None else []
        cbs += [c for c in self.schedules if c is not self.ema]  # the guard updates the EMA
        if self.info.is_main:  # only rank 0 evaluates, writes and shows
            cbs.append(self.history)
            if self.writes:
                self.checkpointer = Checkpointer(self.out / CHECKPOINT_DIR, cfg.train.checkpoint_every,
                                                 cfg.train.keep_checkpoints, extra=self.checkpoint_extra)
                cbs.append(self.checkpointer)
            if progress:
                cbs.append(progress_bar(self.parts, self.history))
            if pictures and self.writes:
                cbs += picture_callbacks(self.parts, self.out, self.history)
            cbs += list(extra or [])
        if self.info.enabled:
            every = cfg.train.checkpoint_every
            cbs += [Barrier(every)] if self.info.is_main else [DropLogs(), Barrier(every)]
        return cbs

    def trainer(self, progress: bool, extra: list[Callback] | None, pictures: bool,
                state: dict[str, Any] | None) -> Trainer:
        """The trainer (a :class:`VAETrainer` for a VAE) with the callbacks, at ``state`` when resuming."""
        p = self.parts
        cls = VAETrainer if p.is_vae else Trainer  # same loop, callbacks and state_dict; a VAE step
        trainer = cls(p.G, p.D, p.objective, p.source, p.cfg.train, self.callbacks(progress, extra, pictures),
                      device=p.device)
        if self.info.enabled:
            wrap_trainer(trainer, self.info)
        if state is not None:
            self._restore(trainer, state)
        if self.resume and self.writes:  # drop what the stopped run wrote after the checkpoint resumed
            truncate_history(self.out / HISTORY_FILE, trainer.step, int(self.history.last.get("step", -1)))
        if self.writes:  # the trainer accepted the config: now it is the run's
            atomic_write_bytes(self.out / CONFIG_FILE, self.config_text.encode())
        return trainer

    def _restore(self, trainer: Trainer, state: dict[str, Any]) -> None:
        try:
            trainer.load_state_dict(state)
        except (RuntimeError, KeyError, TypeError, ValueError, IndexError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CheckpointError(f"the newest checkpoint of {str(self.out)!r} does not match its config: "
                                  f"{first}") from None
        restore_rank_states(trainer, state, self.info)
        if self.ema is not None and "G_ema" in state:
            self.ema.load_state_dict(state["G_ema"])
        elif self.ema is not None:  # train.ema switched on at resume: start the average at the current G
            self.ema.model.load_state_dict(self.parts.G.state_dict())
        self.history.last = json.loads(state.get("history_last", "{}") or "{}")
        self.guard.load_state_dict(state.get("health", {}))

    def save_now(self, trainer: Trainer) -> None:
        """Checkpoint the trainer's current state (after the health guard restored the last good one)."""
        if self.checkpointer is not None:
            self.checkpointer.save(trainer, force=True)

