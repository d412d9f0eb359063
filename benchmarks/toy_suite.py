"""Mode-collapse benchmark: ring8 and grid25 × every registered objective (+ shipped configs), run by ``gankit sweep``.

Scores each run exactly as PacGAN does (2,500 samples; DESIGN.md definitions) and prints
mean ± std over seeds of modes / high-quality fraction / reverse KL / W1 / wall time,
beside the published rows of PacGAN Table 1 and VEEGAN Table 1 (paper numbers; PacGAN's
± is a standard error over 10 trials, ours a standard deviation).

Each row × data × seed is a normal run directory ``OUT/<data>-<row>/seed<s>/`` trained by the
sweep (:func:`gankit.sweep.run_sweep`: the run object of ``gankit train``, one torch thread per
run, ``--jobs`` processes), so a stopped suite run again finishes what is missing, and
``OUT/summary.json``, ``OUT/leaderboard.md`` and ``gankit report OUT`` hold the results too.
``--log`` appends one JSON line per run (the format ``--from-log`` and ``--resume`` read).

Examples
--------
Quick look (3 seeds, 500 steps)::

    PYTHONPATH=src python benchmarks/toy_suite.py --seeds 3 --steps 500

The leaderboard (every objective and the shipped best configs, 10 seeds)::

    PYTHONPATH=src python benchmarks/toy_suite.py --configs src/gankit/configs/{default,ring8-best,grid25-best}.toml --jobs 2 --log /tmp/suite.jsonl

Objectives are enumerated from the OBJECTIVES registry at run time (``fgan:<divergence>``
over every registered divergence), so objectives added later are included.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from gankit.config import RunConfig, apply_overrides, load_toml
from gankit.metrics.evaluate import score_samples
from gankit.objectives.defaults import with_objective_defaults
from gankit.registry import DIVERGENCES, OBJECTIVES
from gankit.run import Run
from gankit.run.presets import resolve
from gankit.sampling import hpd_sample
from gankit.sweep import Combo, Job, run_sweep
from gankit.sweep.worker import read_status

DATASETS = ("ring8", "grid25")

#: Paper rows (modes, high-quality %, reverse KL or None). PacGAN Table 1: mean ± standard error, 10 trials.
PAPER: dict[str, list[tuple[str, str]]] = {
    "ring8": [
        ("GAN", "6.3±0.5 / 98.2±0.2% / 0.45"), ("ALI", "6.6±0.3 / 97.6±0.4% / 0.36"),
        ("PacGAN2", "7.9±0.1 / 95.6±2.0% / 0.07"), ("PacGAN3", "7.8±0.1 / 97.7±0.3% / 0.10"),
        ("PacGAN4", "7.8±0.1 / 95.9±1.4% / 0.07"),
        ("VEEGAN (VEEGAN T1)", "8 / 52.9% / –"), ("Unrolled GAN (VEEGAN T1)", "7.6 / 35.6% / –"),
    ],
    "grid25": [
        ("GAN", "17.3±0.8 / 94.8±0.7% / 0.70"), ("ALI", "24.1±0.4 / 95.7±0.6% / 0.14"),
        ("PacGAN2", "23.8±0.7 / 91.3±0.8% / 0.13"), ("PacGAN3", "24.6±0.4 / 94.2±0.4% / 0.06"),
        ("PacGAN4", "24.8±0.2 / 93.6±0.6% / 0.04"),
        ("VEEGAN (VEEGAN T1)", "24.6 / 40% / –"), ("Unrolled GAN (VEEGAN T1)", "23.6 / 16% / –"),
    ],
}


def registered_objectives() -> list[str]:
    """Every objective name: plain entries, and each family expanded where its argument set is known."""
    import gankit.objectives  # noqa: F401  (registers)

    names = []
    for entry in OBJECTIVES.entries():
        if not entry.family:
            names.append(entry.name)
        elif entry.name == "fgan":  # f-GAN: one objective per registered (non-family) divergence
            names += [f"fgan:{d.name}" for d in DIVERGENCES.entries() if not d.family]
    return names


def make_rows(args: argparse.Namespace) -> list[tuple[str, RunConfig]]:
    """(row name, config) of every row on every data set asked for."""
    rows: list[tuple[str, RunConfig]] = []
    objectives = args.objectives if args.objectives is not None else registered_objectives()
    for data in args.data:
        for obj in objectives:
            if args.preset:  # exactly `gankit train --preset P --data DATA --objective OBJ`
                rows.append((obj, resolve(args.preset, flags={"data.name": data, "objective.name": obj}).cfg))
                continue
            cfg = apply_overrides(RunConfig(), {"data.name": data, "objective.name": obj})
            # the library defaults with the objective's own training defaults
            # (WGAN: RMSProp 5e-5, 5 critic steps; WGAN-GP: Adam 1e-4 β (0.5, 0.9), ...)
            rows.append((obj, with_objective_defaults(cfg, explicit={"data.name", "objective.name"})))
    for path in args.configs:
        cfg = load_toml(path)
        if cfg.data.name in args.data:
            rows.append((Path(path).stem, cfg))
    return rows


def make_jobs(args: argparse.Namespace) -> list[Job]:
    """One sweep job per row × seed, seed-major: every row gets its first seed before any row gets its
    second, so a leaderboard stopped early still covers every row."""
    combos = []
    for row, cfg in make_rows(args):
        if args.steps is not None:
            cfg = replace(cfg, train=replace(cfg.train, steps=args.steps))
        name = f"{cfg.data.name}-{row}".replace(":", "_").replace("/", "_")
        combos.append(Combo(name, {"data.name": cfg.data.name, "row": row}, cfg, args.preset or "config"))
    out = Path(args.out)
    return [Job(c, seed, replace(c.cfg, train=replace(c.cfg.train, seed=seed)), out / c.name / f"seed{seed}",
                {"row": c.settings["row"]})
            for seed in range(args.seed0, args.seed0 + args.seeds) for c in combos]


def run_record(job: Job, hpd_masses: list[float]) -> dict[str, Any] | None:
    """A finished (or diverged) run as a --log line: row, data, seed, steps, times and its final metrics
    (a diverged run: 0 modes, 0 high-quality, no KL/W1); ``None`` while the run is not done."""
    cfg, status = job.cfg, read_status(job.out)
    base = {"row": job.tags["row"], "data": cfg.data.name, "seed": cfg.train.seed, "steps": cfg.train.steps,
            "cpu_time": status.get("cpu_time")}
    if status.get("status") == "diverged":
        return {**base, "wall_time": status.get("wall_time"), "modes": 0.0, "high_quality": 0.0,
                "reverse_kl": math.nan, "w1": math.nan, "diverged": status.get("error", "diverged")}
    path = job.out / "metrics.json"
    if not path.is_file():
        return None
    m = json.loads(path.read_text(encoding="utf-8"))
    drop = {"data", "seed", "objective", "step"}
    rec = {**base, **{k: v for k, v in m.items() if k not in drop}}
    rec.update({k: math.nan for k in ROW_METRICS if rec.get(k) is None})  # metrics.json writes NaN as null
    if hpd_masses:  # the run's generator with the highest-density sampler of each mass
        run, ev = Run.load(job.out), cfg.eval
        rec["sweep"] = {f"hpd {mass:g}": score_samples(hpd_sample(run.parts.G, ev.n_samples, mass, ev.seed),
                                                       run.parts.source, ev.w1_samples, ev.seed, None)
                        for mass in hpd_masses}
    return rec


def _ms(values: list[float], fmt: str) -> str:
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return "–"
    mean = sum(vals) / len(vals)
    std = math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else 0.0
    return f"{fmt.format(mean)}±{fmt.format(std)}"


#: the numbers a leaderboard row shows
ROW_METRICS = ("modes", "high_quality", "reverse_kl", "w1")


def _variants(r: dict[str, Any]) -> list[dict[str, Any]]:
    """A run as leaderboard entries: the generator's own numbers (row "ROW"); where a sampler was
    configured, its numbers (row "ROW with the sampler"); each ``--hpd-sweep`` sampler ("ROW hpd M").

    The sampler's numbers are ``samplers.<name>``; a log written by an older gankit had them at the
    top level and the generator's as ``plain_*``, and is read into the same rows.
    """
    base = {k: v for k, v in r.items() if k not in ("sweep", "samplers") and not k.startswith("plain_")}
    with_sampler = [{**base, **{k: v for k, v in ms.items() if k in ROW_METRICS}}
                    for ms in (r.get("samplers") or {}).values() if isinstance(ms, dict) and "w1" in ms]
    if "plain_high_quality" in r:  # the older log: the top level was the sampler's
        with_sampler = [dict(base)]
        base = {**base, **{k[len("plain_"):]: v for k, v in r.items() if k.startswith("plain_")}}
    out = [base] + [{**w, "row": f"{r['row']} with the sampler"} for w in with_sampler]
    for name, ms in r.get("sweep", {}).items():
        out.append({**base, **ms, "row": f"{r['row']} {name}"})
    return out


def summarise(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in (v for run in results for v in _variants(run)):
        groups.setdefault((r["data"], r["row"]), []).append(r)
    out = []
    for (data, row), rs in groups.items():
        out.append({
            "data": data, "row": row, "seeds": len(rs),
            "modes": _ms([r["modes"] for r in rs], "{:.1f}"),
            "high_quality": _ms([100 * r["high_quality"] for r in rs], "{:.1f}") + "%",
            "reverse_kl": _ms([r["reverse_kl"] for r in rs], "{:.3f}"),
            "w1": _ms([r.get("w1") for r in rs], "{:.3f}"),
            "wall_time": _ms([r["wall_time"] for r in rs], "{:.0f}") + " s",
            "cpu_time": _ms([r.get("cpu_time") for r in rs], "{:.0f}") + " s",
            "diverged": sum(1 for r in rs if r.get("diverged")),
            "all_modes_every_seed": all(r["modes"] == max(float(x["modes"]) for x in rs) for r in rs),
        })
    return out


def markdown(summary: list[dict[str, Any]], data_names: list[str]) -> str:
    lines = []
    for data in data_names:
        lines += [f"### {data}", "",
                  "| method | seeds | diverged | modes | high-quality | reverse KL | W1 | wall time | CPU time (1 thread) |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for s in (s for s in summary if s["data"] == data):
            lines.append(f"| gankit {s['row']} | {s['seeds']} | {s['diverged']} | {s['modes']} | {s['high_quality']} | "
                         f"{s['reverse_kl']} | {s['w1']} | {s['wall_time']} | {s['cpu_time']} |")
        for name, nums in PAPER[data]:
            m, hq, kl = nums.split(" / ")
            n = "–" if "VEEGAN T1" in name else "10"
            lines.append(f"| *paper: {name}* | {n} | – | *{m}* | *{hq}* | *{kl}* | – | – | – |")
        lines.append("")
    lines.append("gankit rows: mean ± std over seeds. *Paper rows* (italic) are copied from PacGAN Table 1 "
                 "(mean ± standard error over 10 trials) and VEEGAN Table 1 (means); they are not rerun here.")
    return "\n".join(lines)


def progress_bar(total: int, no_progress: bool) -> Any:
    """Runs finished out of ``total`` on stderr (off under --no-progress and where stderr is not a terminal)."""
    return tqdm(total=total, unit="run", desc="toy suite", file=sys.stderr,
                disable=True if no_progress else None)


def _read_log(paths: list[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for p in paths for line in Path(p).read_text().splitlines() if line.strip()]


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", nargs="+", default=list(DATASETS), choices=DATASETS)
    p.add_argument("--preset", default=None, help="objective rows start from this preset (e.g. default: what "
                   "`gankit train --objective OBJ` trains); without it, from the library defaults")
    p.add_argument("--objectives", nargs="*", default=None,
                   help="objective names (default: every registered one; give none to run only --configs)")
    p.add_argument("--configs", nargs="*", default=[], metavar="FILE.toml", help="extra rows from TOML configs")
    p.add_argument("--seeds", type=int, default=10, help="seeds per row (default 10)")
    p.add_argument("--seed0", type=int, default=0, help="first seed")
    p.add_argument("--steps", type=int, default=None, help="override train.steps (quick runs)")
    p.add_argument("--hpd-sweep", type=float, nargs="*", default=[], metavar="MASS",
                   help="also score each run's generator with the highest-density sampler of each mass "
                        "(gankit.sampling.hpd_sample; rows 'ROW hpd MASS')")
    p.add_argument("--jobs", type=int, default=1, help="processes in parallel, one thread each (default 1)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="the sweep's folder: one run directory per row, data and seed (default "
                        "runs/toy_suite/<preset or 'library'>[-steps<N>])")
    p.add_argument("--log", metavar="FILE.jsonl", help="append each run's metrics here as it finishes")
    p.add_argument("--resume", action="store_true", help="skip the runs already in --log (and count them)")
    p.add_argument("--json", action="store_true", help="print one JSON object (runs and summary)")
    p.add_argument("--from-log", nargs="+", metavar="FILE.jsonl", help="only summarise runs logged by --log")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    args = p.parse_args(argv)
    if args.seeds < 1 or args.jobs < 1:
        p.error("--seeds and --jobs must be >= 1")
    if any(not 0 < m <= 1 for m in args.hpd_sweep):
        p.error("--hpd-sweep masses must be in (0, 1]")
    if args.out is None:
        args.out = str(Path("runs/toy_suite") / f"{args.preset or 'library'}{f'-steps{args.steps}' if args.steps else ''}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    results: list[dict[str, Any]] = []
    if args.from_log:
        results = [r for r in _read_log(args.from_log) if r["data"] in args.data]
    jobs = [] if args.from_log else make_jobs(args)
    logged = _read_log([args.log]) if args.log and Path(args.log).exists() else []
    keys = {(r["row"], r["data"], r["seed"]) for r in logged}
    if args.resume and args.log:  # continue a stopped leaderboard: the runs in the log count, and are not rerun
        results += [r for r in logged if r["data"] in args.data]
        jobs = [j for j in jobs if (j.tags["row"], j.cfg.data.name, j.seed) not in keys]
    by_dir = {str(j.out): j for j in jobs}

    def on_record(rec: dict[str, Any]) -> None:
        r = run_record(by_dir[rec["run_dir"]], args.hpd_sweep)
        if r is None:
            return
        results.append(r)
        key = (r["row"], r["data"], r["seed"])
        if args.log and key not in keys:  # each run once in the log, as soon as it is done
            keys.add(key)
            with open(args.log, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(r) + "\n")
        if not args.json:
            tqdm.write(f"{r['data']:7s} {r['row']:24s} seed {r['seed']:2d}: modes {r['modes']:.0f} "
                       f"hq {100 * r['high_quality']:.1f}% rkl {r['reverse_kl']:.3f} w1 {r.get('w1', math.nan):.3f} "
                       f"{r.get('wall_time') or 0:.0f}s wall {r.get('cpu_time') or 0:.0f}s cpu", file=sys.stderr)

    if jobs:
        run_sweep(jobs, args.out, n_jobs=args.jobs, pictures=False, progress=not args.no_progress and None,
                  on_record=on_record, meta={"benchmark": "toy_suite"})
    summary = summarise(results)
    if args.json:
        print(json.dumps({"runs": results, "summary": summary, "paper": PAPER}))
    else:
        print(markdown(summary, args.data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
