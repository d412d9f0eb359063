"""A lab session as a normal run directory: "save run" writes one, ``gankit lab --resume RUN`` continues one.

The directory is what ``gankit train`` writes (``config.toml``, ``history.jsonl``,
``checkpoints/``, ``metrics.json``, ``samples.png``, ``losses.png``, ``report.html``), written by
the run package's own pieces: the checkpointer and the session's checkpoint contents, and
:meth:`gankit.run.Run.finish` for the final metrics, pictures and report. ``gankit sample``,
``eval``, ``report`` and ``train --resume`` read it.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..config import RunConfig, dumps_toml, load_toml, loads_toml
from ..errors import GankitError
from ..io import CHECKPOINT_DIR, CONFIG_FILE, HISTORY_FILE, atomic_write_bytes, json_safe
from ..run import Run
from ..run.preflight import check_output, checkpoint_bytes, dir_is_nonempty
from ..train.callbacks import Checkpointer
from ..train.checkpoint import load_latest

__all__ = ["save_run", "load_resume", "run_dir_for", "NAME_RULE"]

#: what a run name from the page may look like: a relative path of plain names, no "..", no leading "/"
NAME_RULE = re.compile(r"^(?!.*\.\.)[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}(/[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}){0,3}$")


def run_dir_for(root: Path, name: str) -> Path:
    """The run directory ``root/name`` for a name typed on the page (checked: it cannot leave ``root``)."""
    if not NAME_RULE.match(name):
        raise GankitError(f"run name must be letters, digits, '_', '-', '.' (up to 4 levels separated by '/'), "
                          f"without '..'; got {name[:60]!r}")
    return Path(root) / name


def save_run(lab: Any, name: str) -> str:
    """Write the lab's current game as a run directory under ``lab.runs_root``; one line saying where."""
    g = lab.game
    if g.drawn:
        raise GankitError("a run on drawn points cannot be saved: gankit eval rebuilds the data from the run's "
                          "config; choose a named data source or a mixture spec to save")
    out = run_dir_for(lab.runs_root, name)
    if dir_is_nonempty(out):
        raise GankitError(f"run directory {str(out)!r} already exists and is not empty; choose another name")
    t, session = g.trainer, g.session
    cfg = replace(g.cfg, train=replace(g.cfg.train, steps=max(g.cfg.train.steps, t.step),
                                       progress=RunConfig().train.progress))
    check_output(out, checkpoint_bytes(g.parts.G, g.parts.D) * 2)
    text = dumps_toml(cfg)
    session.config_text = text  # the checkpoint carries the config with the controls as they are now
    if session.history.evaluated.get("step") != t.step:  # the final metrics are this step's
        session.history.record(t)
    atomic_write_bytes(out / CONFIG_FILE, text.encode())
    lines = "".join(json.dumps(json_safe(r)) + "\n" for r in session.history.records)
    atomic_write_bytes(out / HISTORY_FILE, lines.encode())
    Checkpointer(out / CHECKPOINT_DIR, 0, cfg.train.keep_checkpoints, extra=session.checkpoint_extra).save(
        t, force=True)
    final = Run(cfg, out).finish(session, t, float(session.history.last.get("time", 0.0)), pictures=True)
    shown = ", ".join(f"{k} {final[k]:.3g}" for k in ("modes", "high_quality", "w1") if isinstance(final.get(k), float))
    return f"saved run {out} at step {t.step}{': ' + shown if shown else ''} (gankit eval {out})"


def load_resume(run_dir: str | Path) -> tuple[RunConfig, dict[str, Any]]:
    """The config and newest checkpoint of ``run_dir``, to continue it in the lab."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise GankitError(f"run directory {str(run_dir)!r} does not exist")
    state = load_latest(run_dir / CHECKPOINT_DIR)
    text = state.get("config")
    cfg = loads_toml(text, source=f"config of {run_dir}") if isinstance(text, str) else load_toml(run_dir / CONFIG_FILE)
    return cfg, state
