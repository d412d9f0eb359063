"""``OUT/summary.json`` and ``OUT/leaderboard.md`` of a sweep, read back from its run directories.

Everything is read from disk (each run's ``metrics.json`` and ``sweep-run.json``), not from
what this process trained, so the summary of a sweep run in pieces, by several processes or
machines, is the same as that of one sweep run at once. Mean ± sample standard deviation
(``ddof=1``) is over the finished runs of a combination; diverged and failed runs are counted
beside them, not averaged.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ..io import METRICS_FILE, SUMMARY_FILE, atomic_write_bytes, write_json
from ..report.runs import mean_std
from .grid import Job, combo_name
from .worker import read_status, run_state

__all__ = ["collect", "summarise", "leaderboard", "write_summary", "LEADERBOARD_FILE", "HEADLINE", "fmt_stat"]

LEADERBOARD_FILE = "leaderboard.md"
#: leaderboard columns (those some finished run has), with their format
HEADLINE = {"modes": "{:.1f}", "high_quality": "{:.1%}", "reverse_kl": "{:.3f}", "w1": "{:.3f}",
            "frechet_distance": "{:.2f}", "classes_covered": "{:.1f}", "eval_elbo": "{:.3f}"}
#: per-run numbers that are not results
NOT_RESULTS = {"seed", "step", "world_size", "vectorised_seeds"}


def _read_metrics(run_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((run_dir / METRICS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def collect(jobs: list[Job]) -> list[dict[str, Any]]:
    """One row per job: combination, seed, run directory, state, metrics (finished runs), CPU/wall time, threads."""
    rows = []
    for job in jobs:
        state, status = run_state(job.out), read_status(job.out)
        metrics = _read_metrics(job.out) if state == "finished" else {}
        rows.append({"combination": job.combo.name, "seed": job.seed, "run_dir": str(job.out), "state": state,
                     "metrics": metrics, "cpu_time": status.get("cpu_time"),
                     "wall_time": metrics.get("wall_time", status.get("wall_time")),
                     "threads": metrics.get("threads", status.get("threads")),
                     **({"error": status["error"]} if state in ("failed", "diverged") and "error" in status else {}),
                     **job.tags})
    return rows


def _numeric(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def summarise(jobs: list[Job], rows: list[dict[str, Any]], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """The sweep's summary: per combination mean/std/n of every numeric final metric, counts, per-seed rows."""
    combos: dict[str, dict[str, Any]] = {}
    for job in jobs:
        c = job.combo
        combos.setdefault(c.name, {"name": c.name, "settings": c.settings, "preset": c.preset,
                                   "data": c.cfg.data.name, "objective": c.cfg.objective.name, "runs": []})
    for row in rows:
        combos[row["combination"]]["runs"].append(row)
    out = []
    for entry in combos.values():
        runs = entry.pop("runs")
        done = [r["metrics"] for r in runs if r["state"] == "finished"]
        keys = [k for k in (done[0] if done else {}) if k not in NOT_RESULTS and all(_numeric(d.get(k)) for d in done)]
        stats = {}
        for k in keys:
            mean, std, n = mean_std([d[k] for d in done])
            stats[k] = {"mean": mean, "std": std if n > 1 else 0.0, "n": n}
        cpu = [r["cpu_time"] for r in runs if _numeric(r["cpu_time"])]
        counts = {s: sum(r["state"] == s for r in runs) for s in ("finished", "diverged", "failed")}
        entry.update(planned=len(runs), **counts, pending=len(runs) - sum(counts.values()), metrics=stats,
                     cpu_time={"mean": mean_std(cpu)[0], "total": sum(cpu), "n": len(cpu)}, per_seed=runs)
        out.append(entry)
    total = {s: sum(e[s] for e in out) for s in ("planned", "finished", "diverged", "failed", "pending")}
    return {"sweep": {**(meta or {}), **total}, "combinations": out}


def fmt_stat(key: str, s: dict[str, Any] | None) -> str:
    """``mean ± std`` in the leaderboard's format for ``key`` (``–`` when missing)."""
    if not s or not _numeric(s.get("mean")) or not math.isfinite(s["mean"]):
        return "–"
    f = HEADLINE.get(key, "{:.4g}")
    return f.format(s["mean"]) + (f" ± {f.format(s['std'])}" if s.get("n", 0) > 1 else "")


def _value(key: str, v: Any) -> str:
    return HEADLINE.get(key, "{:.4g}").format(v) if _numeric(v) and math.isfinite(v) else "–"


def _short_value(v: str) -> str:
    try:
        return f"{float(v):.4g}" if "." in v or "e" in v else v
    except ValueError:
        return v


def _secs(v: Any) -> str:
    return f"{v:.1f}" if _numeric(v) else "–"


def leaderboard(summary: dict[str, Any]) -> str:
    """The summary as Markdown: one row per combination, then one row per run."""
    combos = summary["combinations"]
    cols = [k for k in HEADLINE if any(k in c["metrics"] for c in combos)]
    # a search trial's folder (trial-<n>) does not name its values: show them
    shown = any(c["settings"] and c["name"] != combo_name(c["settings"]) for c in combos)
    head = ["combination", *(["settings"] if shown else []), "data", "objective", "finished", "diverged", "failed",
            *cols, "CPU s/run", "threads"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in combos:
        threads = sorted({r["threads"] for r in c["per_seed"] if r["threads"] is not None})
        settings = [", ".join(f"{k}={_short_value(v)}" for k, v in c["settings"].items())] if shown else []
        lines.append("| " + " | ".join([c["name"], *settings, c["data"], c["objective"], f"{c['finished']}/{c['planned']}",
                                         str(c["diverged"]), str(c["failed"]), *(fmt_stat(k, c["metrics"].get(k))
                                                                                 for k in cols),
                                         _secs(c["cpu_time"]["mean"]), ",".join(map(str, threads)) or "–"]) + " |")
    lines += ["", "mean ± standard deviation (ddof = 1) over the finished seeds; CPU seconds of each run's own "
              "process (training, evaluation and pictures).", "", "### Runs", ""]
    head = ["combination", "seed", "state", *cols, "CPU s", "wall s", "threads", "run directory"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in combos:
        for r in sorted(c["per_seed"], key=lambda r: r["seed"]):
            lines.append("| " + " | ".join([c["name"], str(r["seed"]), r["state"],
                                             *(_value(k, r["metrics"].get(k)) for k in cols), _secs(r["cpu_time"]),
                                             _secs(r["wall_time"]), str(r["threads"] or "–"), r["run_dir"]]) + " |")
    return "\n".join(lines) + "\n"


def write_summary(out: Path, jobs: list[Job], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """Collect, summarise and write ``summary.json`` and ``leaderboard.md`` (atomically); the summary."""
    summary = summarise(jobs, collect(jobs), meta)
    write_json(out / SUMMARY_FILE, summary)
    atomic_write_bytes(out / LEADERBOARD_FILE, leaderboard(summary).encode())
    return summary
