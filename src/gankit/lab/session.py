"""The lab's training session: one run's parts, trainer and callbacks, stepped by a thread the page steers.

The parts, the trainer and its callbacks (health guard, LR schedule, EMA of G, history) are
built exactly as ``gankit train`` builds them (:func:`gankit.run.resolve`,
:func:`gankit.run.build`, :class:`gankit.run.session.Session`); one step is the trainer's own
:meth:`~gankit.train.trainer.Trainer.train_step` followed by the callbacks, as in
:meth:`~gankit.train.trainer.Trainer.fit`. Commands from the page are queued and applied by the
training thread between two steps, so a change acts at the next step and no view ever sees a
half-updated model.
"""

from __future__ import annotations

import collections
import queue
import threading
from dataclasses import dataclass, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

import torch

from ..config import RunConfig
from ..data.toy import DataSource, GaussianMixture
from ..errors import GankitError
from ..run import Parts, build, data_name_for, resolve
from ..run.session import Session
from ..train.distributed import DistInfo
from ..train.trainer import Trainer
from .controls import CONTROLS, LIVE_KEYS, Action
from .runs import load_resume, save_run
from .views import Views

__all__ = ["LabSession", "Game", "drawn_source", "DRAWN_STD"]

#: std of the Gaussian each drawn point becomes, as a fraction of the drawing's span (at least 0.02)
DRAWN_STD = 0.03
_LIVE = {k for name in LIVE_KEYS for k in CONTROLS[name][0]}


def drawn_source(points: list[list[float]]) -> GaussianMixture:
    """Points drawn on the canvas as data: an equal mixture of isotropic Gaussians centred on them."""
    centres = torch.tensor(points, dtype=torch.float32)  # (n, 2)
    span = float((centres.max(0).values - centres.min(0).values).max()) if len(points) > 1 else 1.0
    src = GaussianMixture(centres, max(DRAWN_STD * span, 0.02))
    src.name = f"drawn ({len(points)} points)"
    return src


@dataclass
class Game:
    """What one build holds: the config, the parts, the run session (callbacks) and its trainer."""

    cfg: RunConfig
    parts: Parts
    session: Session
    trainer: Trainer
    drawn: list[list[float]] | None = None
    #: changes each time the data or the networks are rebuilt (the page redraws its fixed layers)
    version: int = 0

    @property
    def data_label(self) -> str:
        return self.parts.source.name if self.drawn else self.cfg.data.name


class LabSession:
    """One GAN trained live: commands in, frames out.

    Parameters
    ----------
    data, objective : str
        As ``gankit train --data/--objective``.
    preset : str
        The preset the lab starts from (``gankit train``'s default one).
    sets : mapping of dotted keys, optional
        Further config keys (``{"model.g_width": 16}``), as ``--set``.
    resume : path, optional
        A run directory to continue (its config and newest checkpoint).
    runs_root : path
        The folder "save run" writes into.
    """

    def __init__(self, data: str = "ring8", objective: str = "ns", preset: str = "default",
                 sets: dict[str, Any] | None = None, resume: str | Path | None = None,
                 runs_root: str | Path = "runs") -> None:
        #: where "save run" writes (a name typed on the page is a folder under it)
        self.runs_root = Path(runs_root)
        self.events: collections.deque[dict[str, Any]] = collections.deque(maxlen=40)
        self._event_id = 0
        self.flags: dict[str, Any] = dict(sets or {})
        self.preset: str | None = preset
        self.base: RunConfig | None = None
        state = None
        if resume is not None:
            self.base, state = load_resume(resume)
            self.preset = None
        else:
            self.flags.update({"data.name": data_name_for(data), "objective.name": objective})
        self.game = self._make_game(self._resolve(self.flags), None, state, version=0)
        self.playing = False
        self.stopped = threading.Event()
        self._queue: queue.Queue[tuple[Action, threading.Event, dict[str, Any]]] = queue.Queue()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        #: the views' state (frames, theory), owned by the training thread
        self.views = Views(self)
        self.say("info", f"ready: {self.game.data_label} · {self.game.cfg.objective.name} at step {self.step}")

    # ------------------------------------------------------------------ building
    def _resolve(self, flags: dict[str, Any]) -> RunConfig:
        r = resolve(None if self.base is not None else self.preset, None, flags, base=self.base)
        return replace(r.cfg, train=replace(r.cfg.train, progress=False))

    def _make_game(self, cfg: RunConfig, drawn: list[list[float]] | None, state: dict[str, Any] | None,
                   version: int) -> Game:
        source: DataSource | None = drawn_source(drawn) if drawn else None
        parts = build(cfg, source)
        shape = tuple(parts.source.shape)
        if parts.is_vae or len(shape) != 1 or shape[0] not in (1, 2):
            raise GankitError(f"the lab shows GANs on 1-D or 2-D data; got {'a VAE' if parts.is_vae else shape}")
        session = Session(parts, None, DistInfo(), warn=lambda text: self.say("warning", text))
        trainer = session.trainer(False, None, False, state)
        for cb in trainer.callbacks:
            cb.on_train_start(trainer)
        return Game(cfg, parts, session, trainer, drawn, version)

    @property
    def step(self) -> int:
        return self.game.trainer.step

    def say(self, level: str, text: str) -> None:
        """An event shown on the page (info, changed, warning, error)."""
        self._event_id += 1
        self.events.append({"id": self._event_id, "level": level, "text": text[:400]})

    # ------------------------------------------------------------------ the training thread
    def start(self) -> LabSession:
        """Start the training thread (a daemon: Ctrl-C of the server never waits for it)."""
        if self._thread is None:
            count = torch.get_num_threads()  # the caller's (--threads); a new thread starts at OpenMP's default
            self._thread = threading.Thread(target=self._loop, args=(count,), name="gankit-lab-train", daemon=True)
            self._thread.start()
        return self

    def wake(self) -> None:
        """Wake the training thread (a page asked for a frame while training is paused)."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self.stopped.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self, threads: int) -> None:
        torch.set_num_threads(threads)  # per thread under OpenMP: without it a step may use every core
        while not self.stopped.is_set():
            self._drain()
            if self.playing:
                self._guarded_step()
            self.views.maybe_update()
            if not self.playing:
                self._wake.wait(0.05)
                self._wake.clear()

    def _guarded_step(self) -> bool:
        try:
            self.train_step()
            return True
        except Exception as exc:  # a diverged or broken step pauses the lab; the server stays up
            self.playing = False
            self.say("error", f"training stopped at step {self.step}: {_one_line(exc)}")
            return False

    def train_step(self) -> None:
        """One generator step (with its critic steps) and the run's callbacks, as ``Trainer.fit`` does."""
        t = self.game.trainer
        if t.step >= t.cfg.steps:
            self.playing = False
            raise GankitError(f"at train.steps={t.cfg.steps}; raise steps to train further")
        t.train_step()
        t.step += 1
        for cb in t.callbacks:
            cb.on_step_end(t)
        self.views.after_step(self.game)
        if t.step >= t.cfg.steps:
            for cb in t.callbacks:
                cb.on_train_end(t)
            self.playing = False
            self.say("info", f"reached train.steps={t.cfg.steps} (final evaluation recorded); raise steps to go on")

    def _drain(self) -> None:
        while True:
            try:
                action, done, box = self._queue.get_nowait()
            except queue.Empty:
                return
            box["reply"] = self.handle(action)
            done.set()

    def submit(self, action: Action, timeout: float = 120.0) -> dict[str, Any]:
        """Queue ``action`` for the training thread and wait for its reply (runs it here if no thread)."""
        if self._thread is None or not self._thread.is_alive():
            return self.handle(action)
        done, box = threading.Event(), {}
        self._queue.put((action, done, box))
        self._wake.set()
        if not done.wait(timeout):
            return {"ok": False, "error": "the training thread did not answer in time; try again"}
        return box["reply"]

    # ------------------------------------------------------------------ commands
    def handle(self, action: Action) -> dict[str, Any]:
        """Apply one checked action; ``{"ok": True, "changed": [...]}`` or ``{"ok": False, "error": ...}``."""
        try:
            changed = self._apply(action)
        except GankitError as exc:
            self.say("error", str(exc))
            return {"ok": False, "error": str(exc)}
        except Exception as exc:  # never let a command take the server down
            self.say("error", _one_line(exc))
            return {"ok": False, "error": _one_line(exc)}
        for text in changed:
            self.say("changed", text)
        self.views.dirty = True
        return {"ok": True, "changed": changed, "step": self.step, "playing": self.playing}

    def _apply(self, action: Action) -> list[str]:
        kind = action.kind
        if kind in ("play", "pause"):
            if kind == "play" and self.step >= self.game.trainer.cfg.steps:
                raise GankitError(f"at train.steps={self.game.trainer.cfg.steps}; raise steps to train further")
            was, self.playing = self.playing, kind == "play"
            return [f"{'playing' if self.playing else 'paused'} at step {self.step}"] if was != self.playing else []
        if kind == "step":
            self.playing = False
            for _ in range(action.count):
                self.train_step()
            return [f"{action.count} step{'s' * (action.count > 1)} to step {self.step}"]
        if kind == "reset":
            g = self.game
            self.game = self._make_game(g.cfg, g.drawn, None, g.version + 1)
            return [f"reset: new networks at step 0 (seed {g.cfg.train.seed})"]
        if kind == "draw":
            g = self.game
            self.game = self._make_game(g.cfg, action.points, None, g.version + 1)
            return [f"data: {g.data_label} → {self.game.data_label} (new networks at step 0)"]
        if kind == "save":
            return [save_run(self, action.path)]
        return self._set(action.values)

    def _set(self, values: dict[str, Any]) -> list[str]:
        g = self.game
        flags = {**self.flags, **values}
        cfg = self._resolve(flags)
        diff = _diff(g.cfg, cfg)
        undraw = g.drawn is not None and "data.name" in values  # back from drawn points to a named source
        if not diff and not undraw:
            return []
        lines = [f"{k}: {a} → {b}" for k, (a, b) in diff.items()]
        if undraw and "data.name" not in diff:
            lines.append(f"data.name: {g.data_label} → {cfg.data.name}")
        if set(diff) <= _LIVE and not undraw:
            self._apply_live(cfg)
        else:
            keep = not undraw and all(k.startswith(("objective.", "train.")) and k != "train.seed" for k in diff)
            state = g.trainer.state_dict() if keep else None
            new = self._make_game(cfg, None if undraw else g.drawn, None, g.version + 1)
            lines.append(self._carry_over(g, new, state) if keep else "new networks at step 0")
            self.game = new
        self.flags = flags
        return lines

    def _apply_live(self, cfg: RunConfig) -> None:
        """Learning rates, k, batch size and the step budget on the running trainer (weights and Adam kept)."""
        g, t = self.game, self.game.trainer
        old = t.cfg
        for opt, key in ((t.opt_d, "lr_d"), (t.opt_g, "lr_g")):
            if getattr(cfg.train, key) != getattr(old, key):
                for group in opt.param_groups:  # the LR schedule keeps a rate changed between steps
                    group["lr"] = getattr(cfg.train, key)
        t.cfg = replace(old, lr_d=cfg.train.lr_d, lr_g=cfg.train.lr_g, d_steps=cfg.train.d_steps,
                        batch_size=cfg.train.batch_size, steps=cfg.train.steps)
        t.n_batch = cfg.train.batch_size * int(getattr(t.D, "pack", 1))
        if cfg.train.steps != old.steps:  # the schedule's horizon moved
            for cb in t.callbacks:
                cb.on_train_start(t)
        g.cfg = replace(g.cfg, train=t.cfg)

    def _carry_over(self, old: Game, new: Game, state: dict[str, Any]) -> str:
        """Keep G and D (and the EMA of G) when only the objective or training settings changed."""
        try:
            new.parts.G.load_state_dict(state["G"])
            new.parts.D.load_state_dict(state["D"])
        except (RuntimeError, KeyError):
            return "new networks at step 0 (the old ones do not fit)"
        if old.session.ema is not None and new.session.ema is not None:
            new.session.ema.load_state_dict(old.session.ema.state_dict())
        elif new.session.ema is not None:
            new.session.ema.model.load_state_dict(state["G"])
        new.trainer.step = old.trainer.step
        for cb in new.trainer.callbacks:  # the LR schedule restarts at the kept step
            cb.on_train_start(new.trainer)
        return f"kept G and D at step {new.trainer.step}; new optimisers"

    # ------------------------------------------------------------------ what the page reads
    def controls(self) -> dict[str, Any]:
        """The current value of every control."""
        c = self.game.cfg
        return {"lr_d": c.train.lr_d, "lr_g": c.train.lr_g, "d_steps": c.train.d_steps,
                "batch_size": c.train.batch_size, "steps": c.train.steps, "width": c.model.g_width,
                "depth": c.model.g_depth, "seed": c.train.seed, "pack": c.model.pack, "r1": c.objective.r1,
                "gp_weight": c.objective.gp_weight, "ema": c.train.ema, "spectral_norm": c.model.spectral_norm,
                "lr_schedule": c.train.lr_schedule, "optimizer": c.train.optimizer,
                "objective": c.objective.name, "data": self.game.data_label}


def _flat(cfg: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(cfg):
        v = getattr(cfg, f.name)
        out.update(_flat(v, f"{prefix}{f.name}.") if is_dataclass(v) else {f"{prefix}{f.name}": v})
    return out


def _diff(a: RunConfig, b: RunConfig) -> dict[str, tuple[Any, Any]]:
    fa, fb = _flat(a), _flat(b)
    return {k: (fa[k], fb[k]) for k in fa if fa[k] != fb[k]}


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300]}" if text else type(exc).__name__

