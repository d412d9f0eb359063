"""``gankit sweep --search optuna``: hyperparameter search over a config's ``[search]`` table.

The table maps config keys (dotted, or a field name found in one section only: ``lr_d`` is
``train.lr_d``) to a range::

    [search]
    lr_d = {log = [1e-5, 1e-2]}      # log-uniform float
    d_steps = {int = [1, 5]}         # integer, both ends included
    "objective.r1" = {float = [0.0, 1.0]}
    "objective.name" = {choice = ["ns", "hinge"]}

Each trial is a set of normal runs ``OUT/trial-<n>/seed<s>/`` (``--seeds k``), scored by the mean
of ``--metric`` over its finished seeds. The study lives in ``OUT/optuna.db`` (SQLite): another
``gankit sweep --search`` with the same ``--out`` joins it, and a search run again continues it
until it holds ``--trials`` finished trials (a trial left running by a killed search is resumed
from its runs' checkpoints). The best trial's config is written to ``OUT/best.toml``, which
``gankit train --config`` takes.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..config import RunConfig, apply_overrides, dumps_toml, to_dict
from ..errors import GankitError
from ..io import atomic_write_bytes, write_json
from ..run.lock import RunLock
from .grid import Job, plan
from .summary import collect, write_summary
from .sweep import check_out, train_jobs
from .worker import LOCKS_DIR

__all__ = ["run_search", "search_space", "require_optuna", "KINDS", "STUDY_FILE", "BEST_FILE"]

KINDS = ("log", "int", "float", "choice")
STUDY_FILE = "optuna.db"
BEST_FILE = "best.toml"
STUDY_NAME = "gankit-sweep"


def require_optuna() -> Any:
    """The ``optuna`` module, or one :class:`GankitError` line naming the extra to install."""
    try:
        import optuna  # optional extra: gankit[search]
    except ImportError:
        raise GankitError("--search optuna needs Optuna: pip install 'gankit[search]'") from None
    return optuna


def _dotted(key: str) -> str:
    if "." in key:
        return key
    owners = [k for k in _all_keys() if k.rpartition(".")[2] == key]
    if len(owners) != 1:
        known = "; it is in " + " and ".join(owners) + ": write one of those" if owners else "; no config key has it"
        raise GankitError(f"[search] key {key!r} is not one config key{known}")
    return owners[0]


def _all_keys() -> list[str]:
    return [f"{s}.{k}" for s, sec in to_dict(RunConfig()).items() for k in sec]


def search_space(table: dict[str, Any]) -> dict[str, tuple[str, list[Any]]]:
    """``[search]`` → ``{dotted key: (kind, values)}``; one :class:`GankitError` line for a bad entry."""
    if not table:
        raise GankitError("the [search] table is empty; give ranges such as lr_d = {log = [1e-5, 1e-2]}")
    space = {}
    for key, spec in table.items():
        dotted = _dotted(key)
        if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in KINDS:
            raise GankitError(f"[search] {key} must be one of {{log = [lo, hi]}}, {{int = [lo, hi]}}, "
                              f"{{float = [lo, hi]}}, {{choice = [v1, v2, ...]}}; got {spec!r}")
        kind, values = next(iter(spec.items()))
        _check_range(key, kind, values)
        probe = values[0] if kind == "choice" else (int(values[0]) if kind == "int" else float(values[0]))
        apply_overrides(RunConfig(), {dotted: probe})  # an unknown key or a wrong type fails here
        space[dotted] = (kind, list(values))
    return space


def _check_range(key: str, kind: str, values: Any) -> None:
    if not isinstance(values, list) or not values:
        raise GankitError(f"[search] {key}: {kind} takes a list, e.g. {kind} = [1, 5]")
    if kind == "choice":
        return
    nums = len(values) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if not nums or not values[0] < values[1] or (kind == "int" and not all(isinstance(v, int) for v in values)):
        raise GankitError(f"[search] {key}: {kind} takes [low, high] with low < high"
                          f"{' (integers)' if kind == 'int' else ''}, got {values!r}")
    if kind == "log" and values[0] <= 0:
        raise GankitError(f"[search] {key}: log takes [low, high] with 0 < low, got {values!r}")


def _suggest(trial: Any, space: dict[str, tuple[str, list[Any]]]) -> dict[str, Any]:
    out = {}
    for key, (kind, v) in space.items():
        if kind == "choice":
            out[key] = trial.suggest_categorical(key, v)
        elif kind == "int":
            out[key] = trial.suggest_int(key, v[0], v[1])
        else:
            out[key] = trial.suggest_float(key, float(v[0]), float(v[1]), log=kind == "log")
    return out


def _trial_jobs(base: tuple[str, dict[str, Any]], params: dict[str, Any], preset: str | None,
                flags: dict[str, Any], grid: list, seeds: list[int], out: Path, number: int) -> list[Job]:
    keys = {**base[1], **params}
    name = f"trial-{number}"
    jobs = plan([(base[0], keys)], grid, seeds, out / name, preset, flags)
    combo = replace(jobs[0].combo, name=name, settings={k: str(v) for k, v in params.items()})
    return [Job(combo, j.seed, j.cfg, out / name / f"seed{j.seed}", {"trial": number}) for j in jobs]


def _open_study(out: Path, direction: str) -> Any:
    optuna = require_optuna()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(f"sqlite:///{(out / STUDY_FILE).resolve()}",
                                         engine_kwargs={"connect_args": {"timeout": 60}})
    study = optuna.create_study(study_name=STUDY_NAME, storage=storage, direction=direction, load_if_exists=True)
    if study.direction.name.lower() != direction:
        raise GankitError(f"the study in {str(out / STUDY_FILE)!r} is to {study.direction.name.lower()}; "
                          f"pass --direction {study.direction.name.lower()} or another --out")
    return study


def _score(jobs: list[Job], metric: str) -> tuple[float | None, bool]:
    """The mean of ``metric`` over the finished seeds (None: none finished) and whether every seed is done."""
    rows = collect(jobs)
    done = all(r["state"] in ("finished", "diverged", "failed") for r in rows)
    vals = [r["metrics"].get(metric) for r in rows if r["state"] == "finished"]
    if any(not isinstance(v, (int, float)) or isinstance(v, bool) for v in vals):
        known = ", ".join(k for k, v in next(r["metrics"] for r in rows if r["state"] == "finished").items()
                          if isinstance(v, (int, float)) and not isinstance(v, bool))
        raise GankitError(f"--metric {metric!r} is not a number in the runs' metrics.json; they have: {known}")
    finite = [float(v) for v in vals if math.isfinite(v)]
    return (sum(finite) / len(finite) if finite else None), done


def run_search(base: tuple[str, dict[str, Any]], table: dict[str, Any], preset: str | None, flags: dict[str, Any],
               grid: list, seeds: list[int], out: str | Path, *, trials: int, metric: str, direction: str,
               **train: Any) -> dict[str, Any]:
    """Run the study in ``out`` until it holds ``trials`` finished trials; the result (best trial, its config file)."""
    out, space = Path(out), search_space(table)
    if any(len(v) > 1 for _, v in grid) or {k for k, _ in grid} & set(space):
        raise GankitError("with --search, --set takes one value per key, and not a key of the [search] table")
    if not 1 <= trials <= 10_000:
        raise GankitError(f"--trials must be an integer in [1, 10000], got {trials}")
    require_optuna()
    make = lambda number, params: _trial_jobs(base, params, preset, flags, grid, seeds, out, number)  # noqa: E731
    make(0, {k: v[0] if kind in ("choice", "int") else float(v[0]) for k, (kind, v) in space.items()})  # bad input
    check_out(out, [])
    out.mkdir(parents=True, exist_ok=True)
    study = _open_study(out, direction)
    state = require_optuna().trial.TrialState
    stale = [t for t in study.get_trials(deepcopy=False, states=(state.RUNNING,)) if not _live(make(t.number, t.params))]
    meta = {"search": "optuna", "metric": metric, "direction": direction, "seeds": seeds}
    while sum(t.state == state.COMPLETE for t in study.get_trials(deepcopy=False)) < trials:
        if stale:  # left running by a search that was killed: its runs resume from their checkpoints
            t = stale.pop(0)
            number, params = t.number, t.params
        else:
            trial = study.ask()
            number, params = trial.number, _suggest(trial, space)
        jobs = make(number, params)
        try:
            train_jobs(jobs, out, **train)
        finally:
            write_summary(out, _all_jobs(study, make), meta)
        value, done = _score(jobs, metric)
        if done:  # else another process holds one of its runs: the trial stays running
            study.tell(number, state=state.FAIL) if value is None else study.tell(number, value)
    return _finish(study, make, out, metric, meta)


def _live(jobs: list[Job]) -> bool:
    """Does another process hold one of these runs now (a search that is still running the trial)?"""
    for job in jobs:
        try:
            RunLock(job.out.parents[1] / LOCKS_DIR / job.name).release()
        except GankitError:
            return True
    return False


def _all_jobs(study: Any, make: Any) -> list[Job]:
    return [j for t in study.get_trials(deepcopy=False) if t.params for j in make(t.number, t.params)]


def _finish(study: Any, make: Any, out: Path, metric: str, meta: dict[str, Any]) -> dict[str, Any]:
    """Write ``best.toml`` (the best trial's config, first seed) and the summary; the result."""
    try:
        best = study.best_trial
    except ValueError:
        raise GankitError(f"no trial of the study in {str(out / STUDY_FILE)!r} finished with a score "
                          f"(every run failed or diverged); see {str(out / 'leaderboard.md')!r}") from None
    cfg = make(best.number, best.params)[0].cfg
    header = (f"# gankit sweep --search: trial {best.number} of the study in {STUDY_FILE}, {metric} = {best.value:.6g} "
              f"(mean over seeds {', '.join(map(str, meta['seeds']))}; this file trains seed {cfg.train.seed})\n")
    atomic_write_bytes(out / BEST_FILE, (header + dumps_toml(cfg)).encode())
    complete = [t for t in study.get_trials(deepcopy=False) if t.value is not None]
    result = {"study": str(out / STUDY_FILE), "trials": len(complete),
              "best": {"trial": best.number, "value": best.value, "params": best.params, "config": str(out / BEST_FILE)},
              "values": {t.number: t.value for t in complete}}
    summary = write_summary(out, _all_jobs(study, make), {**meta, "best": result["best"]})
    write_json(out / "search.json", result)
    return {**result, "summary": summary["sweep"]}
