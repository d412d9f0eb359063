"""The one run object behind ``gankit train/sample/eval``, :class:`~gankit.GAN`, ``VAE`` and ``--seeds``.

:meth:`Run.fit` trains (or resumes) and writes the run directory (``config.toml``,
``history.jsonl``, ``checkpoints/``, ``metrics.json``, pictures, ``report.html``), or trains in
memory without one; :meth:`Run.load` rebuilds a run from its newest usable checkpoint;
:meth:`Run.sample` and :meth:`Run.evaluate` draw and score with the run's sampler. Under
``torchrun`` the process group is set up in :meth:`Run.fit` and only rank 0 writes.

>>> run = Run(resolve(flags={"train.steps": 20}).cfg, "runs/tiny")       # doctest: +SKIP
>>> metrics = run.fit(progress=False)                                      # doctest: +SKIP
>>> x = Run.load("runs/tiny").sample(100, seed=0)                          # doctest: +SKIP
"""

from __future__ import annotations

import errno
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor

from ..config import MAX_SAMPLES, MAX_SEED, RunConfig, dumps_toml, load_toml, loads_toml
from ..data.toy import DataSource
from ..errors import GankitError
from ..io import CHECKPOINT_DIR, CONFIG_FILE, METRICS_FILE, RATIO_FILE, write_json
from ..metrics.conditional import conditional_metrics
from ..metrics.evaluate import SAMPLERS_KEY, evaluate_discriminator, final_evaluate, sampler_name
from ..report.tensorboard import require_summary_writer
from ..rules import check_number
from ..sampling import check_sampler, class_generator, fitted_ratio, sample
from ..train.checkpoint import CheckpointError, list_checkpoints, load_latest, nonfinite_tensors
from ..train.distributed import DistInfo, check_world_size, init_from_env
from ..train.health import TrainingDiverged
from ..train.trainer import Callback, Trainer, check_precision
from ..train.vae_trainer import vae_eval_fn
from .finish import draw_run
from .lock import RunLock
from .parts import Parts, build, resolve_device
from .preflight import check_output, check_resume_changes, checkpoint_bytes, dir_is_nonempty
from .session import Session
from .threads import resolve_threads, threads

__all__ = ["Run", "DISK_ERRNOS"]

#: errno values that mean "the run directory cannot take more writes" (full, read-only, gone, no permission)
DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.ENOENT,
               errno.ENOTDIR}


class Run:
    """One training run: a config, its parts, and its run directory ``out`` (``None``: in memory).

    Parameters
    ----------
    cfg : RunConfig
        A resolved config (:func:`gankit.run.resolve`).
    out : path, optional
        The run directory; ``None`` trains without writing anything.
    source : DataSource, optional
        Data replacing ``cfg.data`` (a user's own array or data set).
    """

    def __init__(self, cfg: RunConfig, out: str | Path | None = None, source: DataSource | None = None) -> None:
        self.cfg, self.out, self.source = cfg, Path(out) if out is not None else None, source
        self.parts: Parts | None = None
        #: the newest checkpoint's contents after :meth:`load` (or a resumed :meth:`fit`)
        self.state: dict[str, Any] | None = None
        #: evaluation records of the last :meth:`fit` in this process
        self.history: list[dict[str, Any]] = []
        self.trainer: Trainer | None = None
        self.lock: RunLock | None = None
        self._made_dir = False

    # ------------------------------------------------------------------ training
    def fit(self, *, resume: bool = False, progress: bool | None = None, callbacks: list[Callback] | None = None,
            pictures: bool = True, warn: Any = None) -> dict[str, Any]:
        """Train (``resume=True``: continue from the newest checkpoint in ``out``); the final metrics.

        Raises :class:`~gankit.train.trainer.TrainingInterrupted` after saving on Ctrl-C and
        :class:`~gankit.train.health.TrainingDiverged` after saving the last good state.
        Returns ``{}`` on ranks other than 0 under ``torchrun``.
        """
        info, device, started = init_from_env(resolve_device(self.cfg.train.device))  # torchrun: DDP group
        try:
            with threads(self.cfg.train.threads):  # train.threads (0: the default), the caller's count restored
                session = self.prepare(info, device, resume, warn)
                return self._train(session, progress, callbacks, pictures and self.out is not None)
        except OSError as exc:
            if exc.errno not in DISK_ERRNOS or self.out is None:
                raise
            raise GankitError(f"cannot write to run directory {str(self.out)!r}: {exc.strerror or exc}; "
                              f"the checkpoints already written are intact") from None
        finally:
            self.release()
            if started:
                dist.destroy_process_group()

    def prepare(self, info: DistInfo, device: Any, resume: bool, warn: Any) -> Session:
        """Every check before training (run directory, parts, checkpoint to resume, disk space); the session."""
        out, cfg = self.out, self.cfg
        if out is not None and info.is_main and not resume and dir_is_nonempty(out):
            hint = f"; pass --resume {out} to continue it" if list_checkpoints(out / CHECKPOINT_DIR) else ""
            raise GankitError(f"run directory {str(out)!r} already exists and is not empty{hint}, or choose another --out")
        if info.enabled:
            cfg = replace(cfg, train=replace(cfg.train, device=str(device)))
        self.parts = parts = build(cfg, self.source)
        check_precision(cfg.train.precision, parts.device)
        if cfg.eval.drs and (len(parts.source.shape) != 1 or parts.is_vae):  # fail before training, not after
            what = "a VAE" if parts.is_vae else f"samples of shape {tuple(parts.source.shape)}"
            raise GankitError(f"eval.drs (discriminator rejection sampling) needs a GAN on vector data (toy sets, "
                              f"1-D mixtures, tables); this run has {what}; set eval.drs = 0")
        self.state = self._resume_state(info, warn) if resume else None
        if out is not None and cfg.train.tensorboard:
            require_summary_writer()  # the optional extra: fail before anything is written
        if out is not None and info.is_main:
            self._lock_out(resume, checkpoint_bytes(parts.G, parts.D) * (cfg.train.keep_checkpoints + 1))
        return Session(parts, out, info, warn, resume, dumps_toml(self.cfg))

    def _lock_out(self, resume: bool, need_bytes: int) -> None:
        """Lock the run directory (one writer), then check again that a new run's directory is empty."""
        self._made_dir = not self.out.exists()
        self.lock = RunLock(self.out)
        try:
            if not resume and dir_is_nonempty(self.out):  # another run filled it since the first check
                raise GankitError(f"run directory {str(self.out)!r} already exists and is not empty; "
                                  f"choose another --out")
            check_output(self.out, need_bytes)
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        """Unlock the run directory (after training, or when the run is refused: then a folder it made goes)."""
        if self.lock is not None:
            self.lock.release()
            self.lock = None
            if self._made_dir and not dir_is_nonempty(self.out):
                self.out.rmdir()

    def _resume_state(self, info: DistInfo, warn: Any) -> dict[str, Any] | None:
        if self.out is None:
            raise GankitError("resuming needs the run directory (out)")
        ckpt_dir, steps = self.out / CHECKPOINT_DIR, self.cfg.train.steps
        if not list_checkpoints(ckpt_dir):  # stopped before its first checkpoint: start again from step 0
            if warn is not None:
                warn(f"warning: run {str(self.out)!r} has no checkpoint yet; starting it again from step 0")
            return None
        state = load_latest(ckpt_dir, map_location=self.parts.device, warn=warn, quarantine=True)
        check_world_size(state, info.world_size)
        if isinstance(state.get("config"), str):  # the checkpoint's config is the run's, not an edited config.toml
            check_resume_changes(loads_toml(state["config"], source=f"config of {self.out}"), self.cfg)
        if state["step"] > steps or (state["step"] == steps and (self.out / METRICS_FILE).exists()):
            raise GankitError(f"run {str(self.out)!r} is already at step {state['step']} >= train.steps={steps}; "
                              f"raise --steps to train further")
        return state

    def _train(self, session: Session, progress: bool | None, callbacks: list[Callback] | None,
               pictures: bool) -> dict[str, Any]:
        show = self.cfg.train.progress if progress is None else progress
        trainer = session.trainer(show, callbacks, pictures, self.state)
        self.trainer = trainer
        t0 = time.perf_counter()
        try:
            trainer.fit()  # raises TrainingInterrupted after saving on Ctrl-C
        except TrainingDiverged:
            session.save_now(trainer)  # the guard left the trainer at the last good state
            raise
        finally:
            self.history = session.history.records
        # from here on the run's generator is the averaged one with train.ema (as Run.load gives it)
        self.parts = replace(session.parts, G=session.generator)
        if not session.info.is_main:
            return {}
        return self.finish(session, trainer, time.perf_counter() - t0, pictures)

    def finish(self, session: Session, trainer: Trainer, wall: float, pictures: bool,
               extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Final metrics (with the run's sampler) and ``extra``, ``metrics.json``, pictures and the report."""
        parts, cfg = session.parts, self.cfg
        self.parts = replace(parts, G=session.generator)  # the run's generator: the averaged one with train.ema
        final = dict(session.history.last)
        if cfg.eval.drs and not parts.is_vae:
            # discriminator rejection sampling: its classifier is fitted once, to the final generator; its
            # metrics stand beside the generator's under samplers.drs (history.jsonl has the generator's)
            try:
                final.update(final_evaluate(session.generator, parts.source, cfg.eval, parts.device,
                                            test=parts.eval_source, ratio_cache=self._ratio_file(), save_ratio=True,
                                            generator=False))
            except GankitError as exc:  # the trained run stands: the generator's metrics are kept and saved
                final[SAMPLERS_KEY] = {"drs": {"classifier_steps": cfg.eval.drs, "error": str(exc)}}
                if session.warn is not None:
                    session.warn(f"warning: eval.drs failed; the metrics are the generator's alone: {exc}")
        final.update(wall_time=round(wall, 3), data=cfg.data.name, seed=cfg.train.seed,
                     objective=cfg.model.name if parts.is_vae else cfg.objective.name, threads=torch.get_num_threads())
        if session.info.enabled:
            final["world_size"] = session.info.world_size
        final.update(extra or {})
        final.update(self._class_metrics(self.parts, cfg.eval))  # a conditional G: metrics per class
        if self.out is not None:
            write_json(self.out / METRICS_FILE, final)
            if pictures:
                draw_run(self.out, self.parts, trainer, self._sampler_draws(final))
        return final

    @staticmethod
    def _class_metrics(parts: Parts, ev: Any) -> dict[str, Any]:
        """Per-class metrics of a conditional generator (:mod:`gankit.metrics.conditional`); ``{}`` for others."""
        if parts.is_vae:
            return {}
        return conditional_metrics(parts.G, parts.source, parts.eval_source, ev.n_samples, ev.seed, parts.device)

    def _sampler_draws(self, final: dict[str, Any]) -> tuple[str, Tensor] | None:
        """The run's sampler's draws that ``samplers.<name>`` scored (for the second panel of ``samples.png``)."""
        ev = self.cfg.eval
        name = sampler_name(ev.polarity, ev.hpd, ev.drs)
        if name is None or "error" in final.get(SAMPLERS_KEY, {}).get(name, {}):
            return None
        return name, self.sample(ev.n_samples, seed=ev.seed)

    def _ratio_file(self) -> Path | None:
        return self.out / RATIO_FILE if self.out is not None else None

    # ------------------------------------------------------------------ a finished run
    @classmethod
    def load(cls, run_dir: str | Path, map_location: str = "cpu", warn: Any = None, threads: int | None = None) -> Run:
        """The run in ``run_dir`` with the weights of its newest usable checkpoint (the averaged G with EMA).

        ``threads`` replaces the run's ``train.threads`` for :meth:`sample` and :meth:`evaluate`.
        """
        run_dir = Path(run_dir)
        if threads is not None:
            resolve_threads(threads)  # a bad count fails before anything is read
        if not run_dir.is_dir():
            raise GankitError(f"run directory {str(run_dir)!r} does not exist")
        state = load_latest(run_dir / CHECKPOINT_DIR, map_location=map_location, warn=warn)
        text = state.get("config")
        cfg = loads_toml(text, source=f"config of {run_dir}") if text else load_toml(run_dir / CONFIG_FILE)
        chosen = {"threads": threads} if threads is not None else {}
        run = cls(replace(cfg, train=replace(cfg.train, device=str(map_location), **chosen)), run_dir)
        run.parts, run.state = build(run.cfg), state
        try:
            run.parts.G.load_state_dict(state["G_ema"]["model"] if "G_ema" in state else state["G"])
            run.parts.D.load_state_dict(state["D"])
        except (RuntimeError, KeyError, TypeError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CheckpointError(f"the checkpoint of {str(run_dir)!r} does not match its config: {first}") from None
        bad = nonfinite_tensors(run.parts.G.state_dict())  # never hand out NaN samples
        if bad:
            raise CheckpointError(f"the generator of the checkpoint of {str(run_dir)!r} (step {state['step']}) holds "
                                  f"non-finite weights ({bad[0]}); the run diverged: train it again with lower "
                                  f"train.lr_g/train.lr_d")
        return run

    def _fitted(self) -> Parts:
        if self.parts is None or (self.state is None and self.trainer is None):
            raise GankitError("this run is not trained yet; fit it or load a run directory first")
        return self.parts

    def sampler(self, polarity: float | None = None, hpd: float | None = None,
                drs: int | None = None) -> dict[str, Any]:
        """The sampler to use: the run's (``eval.*``), or the one named here, which replaces it."""
        ev = self.cfg.eval
        if polarity is None and hpd is None and drs is None:
            chosen = {"polarity": ev.polarity, "hpd": ev.hpd, "drs": ev.drs}
        else:
            chosen = {"polarity": polarity or 0.0, "hpd": 1.0 if hpd is None else hpd, "drs": drs or 0}
        check_sampler(chosen["polarity"], ev.polarity_pool, chosen["hpd"], chosen["drs"])
        return chosen

    def sample(self, n: int, seed: int = 0, polarity: float | None = None, hpd: float | None = None,
               drs: int | None = None, label: int | None = None) -> Tensor:
        """``n`` samples (n, *shape) on the CPU; the same seed gives the same samples (see :meth:`sampler`).

        ``label``: draw class ``label`` of a conditional model (:func:`gankit.sampling.class_generator`);
        one :class:`GankitError` line for a model that is not conditional.
        """
        parts = self._fitted()
        if label is not None:
            parts = replace(parts, G=class_generator(parts.G, label))
        if not isinstance(n, int) or not 1 <= n <= MAX_SAMPLES:
            raise GankitError(f"n must be an integer in [1, 10**7], got {n!r}")
        check_number("seed", seed, 0, MAX_SEED)
        s = self.sampler(polarity, hpd, drs)
        with threads(self.cfg.train.threads):
            return self._draw(parts, n, seed, s)

    def _draw(self, parts: Parts, n: int, seed: int, s: dict[str, Any]) -> Tensor:
        ev = self.cfg.eval
        ratio = (fitted_ratio(parts.G, parts.source, s["drs"], ev.seed, parts.device, bandwidth=ev.drs_bandwidth,
                              cache=self._ratio_file()) if s["drs"] else None)  # the run's classifier where it matches
        return sample(parts.G, n, seed, parts.device, polarity=s["polarity"], polarity_pool=ev.polarity_pool,
                      hpd=s["hpd"], ratio=ratio).cpu()

    def evaluate(self, n: int | None = None, seed: int | None = None, polarity: float | None = None,
                 hpd: float | None = None, drs: int | None = None) -> dict[str, Any]:
        """Score ``n`` fresh samples (default ``eval.n_samples``, ``eval.seed``): the generator's own metrics,
        and the run's sampler's (or the one named here, see :meth:`sampler`) under ``samplers``."""
        parts, ev = self._fitted(), self.cfg.eval
        n = ev.n_samples if n is None else n
        seed = ev.seed if seed is None else seed
        check_number("seed", seed, 0, MAX_SEED)
        if n < 1:
            raise GankitError(f"-n must be >= 1, got {n}")
        ev = replace(ev, n_samples=n, w1_samples=min(ev.w1_samples, n), seed=seed, **self.sampler(polarity, hpd, drs))
        with threads(self.cfg.train.threads):
            return self._score(parts, ev, n, seed)

    def _score(self, parts: Parts, ev: Any, n: int, seed: int) -> dict[str, Any]:
        metrics = final_evaluate(parts.G, parts.source, ev, parts.device, test=parts.eval_source,
                                 ratio_cache=self._ratio_file())
        if parts.is_vae:  # ELBO, reconstruction NLL and KL on n data draws
            metrics.update(vae_eval_fn(parts.source, n, seed, parts.device)(parts))
        else:  # WGAN critics: their W1 estimate and Lipschitz constant next to the exact w1
            metrics.update(evaluate_discriminator(parts.objective, parts.D, parts.G, parts.source, ev, parts.device))
            metrics.update(self._class_metrics(parts, ev))
        return metrics

