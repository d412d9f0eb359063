"""Read run directories for reports, and group runs that differ only by their seed.

A run without ``metrics.json`` (still training, or interrupted) is read with
``finished = False`` and the numbers of its last evaluation, and is left out of the
mean ± std of comparisons. A directory without ``config.toml`` and ``history.jsonl`` is
not a run (:class:`GankitError`).
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import loads_toml, to_dict
from ..errors import GankitError
from ..io import read_jsonl

__all__ = ["RunRecord", "Group", "load_run_record", "group_runs", "METRIC_KEYS", "IGNORED_KEYS", "mean_std",
           "run_dirs_in"]

#: final metrics shown in headlines and comparison tables, in order
METRIC_KEYS = ("modes", "high_quality", "reverse_kl", "w1")
#: keys only an evaluation writes into a history record (vector data: w1; images: frechet_distance; VAEs: eval_elbo)
EVALUATED_KEYS = frozenset({"w1", "modes", "frechet_distance", "classes_covered", "eval_elbo"})
#: config keys that do not change what a run computes (or are the seed), ignored when grouping
IGNORED_KEYS = frozenset({"train.seed", "train.progress", "train.checkpoint_every", "train.keep_checkpoints",
                          "train.device", "train.snapshots", "train.tensorboard", "train.threads", "train.log_every"})


@dataclass
class RunRecord:
    """What a report needs from one run directory."""

    path: Path
    config: dict[str, Any]
    config_text: str
    history: list[dict[str, Any]]
    #: ``metrics.json``, or the last history record when the run is not finished
    final: dict[str, Any]
    finished: bool
    pictures: dict[str, Path] = field(default_factory=dict)
    #: HTML anchor of the run in a report (unique within one report)
    anchor: str = "run"

    @property
    def flat_config(self) -> dict[str, Any]:
        return {f"{s}.{k}": v for s, sec in self.config.items() if isinstance(sec, dict) for k, v in sec.items()}

    def get(self, dotted: str, default: Any = None) -> Any:
        return self.flat_config.get(dotted, default)

    @property
    def data(self) -> str:
        path = self.get("data.path", "")
        return str(self.get("data.name", "?")) + (f" ({path})" if path else "")

    @property
    def objective(self) -> str:
        return str(self.get("objective.name", "?"))

    @property
    def seed(self) -> Any:
        return self.get("train.seed", "?")

    @property
    def step(self) -> int:
        return int(self.final.get("step", self.history[-1]["step"] if self.history else 0) or 0)

    @property
    def name(self) -> str:
        return self.path.name or str(self.path)


@dataclass
class Group:
    """Finished runs with the same config except the seed (and settings that don't change results)."""

    data: str
    label: str
    runs: list[RunRecord]

    def stats(self, key: str) -> tuple[float, float, int]:
        """Mean, sample standard deviation (ddof=1; NaN for one run) and count of ``final[key]``."""
        return mean_std([r.final.get(key) for r in self.runs])


def mean_std(values: list[Any]) -> tuple[float, float, int]:
    """Mean and sample standard deviation (ddof=1) of the finite numbers in ``values``, and their count."""
    xs = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
    if not xs:
        return math.nan, math.nan, 0
    return statistics.fmean(xs), (statistics.stdev(xs) if len(xs) > 1 else math.nan), len(xs)


def run_dirs_in(path: str | Path) -> list[Path]:
    """The run directories ``path`` stands for: itself, the ``seed<s>/`` runs of a ``gankit train --seeds``
    folder, or the ``<combination>/seed<s>/`` runs of a ``gankit sweep`` folder.

    Both folders hold ``summary.json`` (no ``config.toml`` of their own); runs come in seed order,
    a sweep's grouped by combination (in name order).
    """
    path = Path(path)
    if not path.is_dir() or (path / "config.toml").exists() or not (path / "summary.json").is_file():
        return [path]
    found = _seed_dirs(path)
    for combo in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")):
        found += _seed_dirs(combo)
    return found or [path]


def _seed_dirs(folder: Path) -> list[Path]:
    seeds = [(int(p.name[4:]), p) for p in folder.glob("seed*")
             if p.name[4:].isdigit() and (p / "config.toml").is_file()]
    return [p for _, p in sorted(seeds)]


def load_run_record(path: str | Path) -> RunRecord:
    """Read one run directory; :class:`GankitError` naming the problem if it is not a run."""
    path = Path(path)
    if not path.is_dir():
        raise GankitError(f"{str(path)!r} is not a directory; pass run directories made by 'gankit train'")
    cfg_path, hist_path = path / "config.toml", path / "history.jsonl"
    missing = [p.name for p in (cfg_path, hist_path) if not p.is_file()]
    if missing:
        raise GankitError(f"{str(path)!r} is not a gankit run directory (no {' or '.join(missing)}); "
                          "a run directory holds config.toml, history.jsonl and metrics.json")
    try:
        text = cfg_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GankitError(f"cannot read {str(cfg_path)!r}: {exc}") from None
    config = to_dict(loads_toml(text, source=f"config file {str(cfg_path)!r}"))  # checked like any config
    history = [r for r in read_jsonl(hist_path) if _is_step(r.get("step", 0))]  # a hand-edited line is skipped
    metrics_path = path / "metrics.json"
    finished = metrics_path.is_file()
    if finished:
        try:
            final = json.loads(metrics_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise GankitError(f"cannot read {str(metrics_path)!r}: {exc}") from None
        if not isinstance(final, dict) or not _is_step(final.get("step", 0)):
            raise GankitError(f"{str(metrics_path)!r} must hold one JSON object whose step is an integer")
    else:
        # the last evaluation (records in between hold only the losses, every train.log_every steps)
        final = dict(next((r for r in reversed(history) if not EVALUATED_KEYS.isdisjoint(r)), history[-1])
                     if history else {})
    pictures = {name: path / name for name in ("samples.png", "training.gif", "losses.png") if (path / name).is_file()}
    return RunRecord(path, config, text, history, final, finished, pictures)


def _is_step(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _group_key(run: RunRecord) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, json.dumps(v)) for k, v in run.flat_config.items() if k not in IGNORED_KEYS))


def group_runs(runs: list[RunRecord]) -> list[Group]:
    """Finished runs grouped by config except the seed, in order of first appearance.

    Each group's label lists the config values that tell it apart from the other groups
    on the same data (e.g. ``objective.name=ns``); with a single group, its objective.
    """
    keyed: dict[tuple[tuple[str, str], ...], list[RunRecord]] = {}
    for r in runs:
        if r.finished:
            keyed.setdefault(_group_key(r), []).append(r)
    groups: list[Group] = []
    by_data: dict[str, list[tuple[tuple[tuple[str, str], ...], list[RunRecord]]]] = {}
    for key, members in keyed.items():
        by_data.setdefault(members[0].data, []).append((key, members))
    for data, items in by_data.items():
        dicts = [dict(k) for k, _ in items]
        varying = sorted({k for d in dicts for k in d if any(d.get(k) != e.get(k) for e in dicts)})
        for d, (_, members) in zip(dicts, items, strict=True):
            if varying:
                label = ", ".join(f"{k}={json.loads(d[k]) if k in d else '—'}" for k in varying)
            else:
                label = f"objective.name={members[0].objective}"
            groups.append(Group(data, label, members))
    return groups
