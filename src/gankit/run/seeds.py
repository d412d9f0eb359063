"""``gankit train --seeds N``: N seeds of one run, trained together in one process.

Seed ``s`` gets a normal run directory ``<out>/seed<s>/`` written by the same :class:`Run`
machinery as ``gankit train --seed s`` (config, history, checkpoints that ``gankit
sample/eval`` and ``--resume`` read, metrics, pictures); the replicas' steps are vectorised
by :func:`gankit.train.seeds.fit_replicas`. ``<out>/summary.json`` holds the mean and sample
standard deviation (``ddof=1``) of every final metric.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..config import RunConfig
from ..errors import GankitError
from ..io import SUMMARY_FILE, write_json
from ..metrics.evaluate import SAMPLERS_KEY
from ..train.checkpoint import nonfinite_tensors
from ..train.distributed import DistInfo
from ..train.health import TrainingDiverged
from ..train.seeds import check_supported, fit_replicas
from .parts import data_sources
from .preflight import dir_is_nonempty
from .run import Run
from .threads import threads

__all__ = ["train_seeds", "summarise"]


def summarise(finals: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and sample std (``ddof=1``; 0 for one seed) of every numeric final metric.

    A sampler's metrics (``samplers.<name>`` of each seed's metrics) are summarised the same way,
    under ``samplers.<name>``.
    """
    out: dict[str, Any] = {"seeds": [f["seed"] for f in finals], "n": len(finals), "metrics": _stats(finals)}
    samplers = [f.get(SAMPLERS_KEY) if isinstance(f.get(SAMPLERS_KEY), dict) else {} for f in finals]
    names = [n for n in samplers[0] if all(isinstance(s.get(n), dict) for s in samplers)]
    if names:
        out[SAMPLERS_KEY] = {n: _stats([s[n] for s in samplers]) for n in names}
    return out


def _stats(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out = {}
    for k in rows[0]:
        vals = [f.get(k) for f in rows]
        if k == "seed" or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
            continue
        a = np.asarray(vals, dtype=float)
        out[k] = {"mean": float(a.mean()), "std": float(a.std(ddof=1)) if len(a) > 1 else 0.0, "values": vals}
    return out


def train_seeds(cfg: RunConfig, n_seeds: int, out: str | Path, *, progress: bool = False,
                pictures: bool = True, warn: Any = None) -> dict[str, Any]:
    """Train seeds ``cfg.train.seed + i`` (``i < n_seeds``) into ``out/seed<s>/``; the summary.

    Raises :class:`GankitError` for what ``--seeds`` cannot vectorise (it names the setting).
    """
    check_supported(cfg, n_seeds, data_sources(cfg)[0].shape)  # before anything is written
    out = Path(out)
    if dir_is_nonempty(out):
        raise GankitError(f"run directory {str(out)!r} already exists and is not empty; choose another --out")
    runs: list[Run] = []
    try:
        with threads(cfg.train.threads):  # train.threads (0: the default), the caller's count restored
            return _train_locked(cfg, n_seeds, out, runs, progress, pictures, warn)
    finally:
        for run in runs:
            run.release()


def _train_locked(cfg: RunConfig, n_seeds: int, out: Path, runs: list[Run], progress: bool, pictures: bool,
                  warn: Any) -> dict[str, Any]:
    sessions, trainers = [], []
    for i in range(n_seeds):
        seed = cfg.train.seed + i
        run = Run(replace(cfg, train=replace(cfg.train, seed=seed)), out / f"seed{seed}")
        runs.append(run)  # locked by prepare, released by the caller
        session = run.prepare(DistInfo(), None, False, warn)  # seed_everything(seed) + models, as a lone run
        trainer = session.trainer(False, None, pictures, None)
        run.trainer = trainer
        sessions.append(session), trainers.append(trainer)
    t0 = time.perf_counter()
    try:
        fit_replicas(trainers, progress=progress)
    except TrainingDiverged:  # the diverged seed is at its last good state; every finite seed is saved
        for session, trainer in zip(sessions, trainers, strict=True):
            if not any(nonfinite_tensors(m.state_dict()) for m in (trainer.G, trainer.D)):
                session.save_now(trainer)
        raise
    wall = time.perf_counter() - t0
    finals = []
    for run, session, trainer in zip(runs, sessions, trainers, strict=True):
        run.history = session.history.records
        finals.append(run.finish(session, trainer, wall, pictures, extra={"vectorised_seeds": n_seeds}))
    summary = summarise(finals)
    write_json(out / SUMMARY_FILE, summary)
    return summary
