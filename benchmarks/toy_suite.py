"""Mode-collapse benchmark: ring8 and grid25 × every registered objective (+ shipped configs).

Scores each run exactly as PacGAN does (2,500 samples; DESIGN.md definitions) and prints
mean ± std over seeds of modes / high-quality fraction / reverse KL / W1 / wall time,
beside the published rows of PacGAN Table 1 and VEEGAN Table 1 (paper numbers; PacGAN's
± is a standard error over 10 trials, ours a standard deviation).

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
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from gankit.config import RunConfig, apply_overrides, from_dict, load_toml, to_dict
from gankit.metrics.evaluate import sampler_kwargs
from gankit.objectives.defaults import with_objective_defaults
from gankit.registry import DIVERGENCES, OBJECTIVES
from gankit.run.presets import resolve

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


def run_one(job: dict[str, Any]) -> dict[str, Any]:
    """Train one config (a dict) in this process on one thread; returns its final metrics."""
    torch.set_num_threads(1)
    from gankit.metrics.evaluate import evaluate, score_samples
    from gankit.run import build
    from gankit.run.callbacks import schedule_callbacks
    from gankit.sampling import fit_ratio, hpd_sample
    from gankit.train.health import HealthGuard, TrainingDiverged
    from gankit.train.trainer import Trainer

    cfg = from_dict(RunConfig, job["config"])
    b = build(cfg)
    extras, ema = schedule_callbacks(b)
    t0, c0 = time.perf_counter(), time.process_time()
    guard = HealthGuard(cfg.train, warn=lambda msg: None)  # as in `gankit train`: NaN stops the run
    try:
        Trainer(b.G, b.D, b.objective, b.source, cfg.train, [guard, *extras], device=b.device).fit()
    except TrainingDiverged as exc:  # scored as what it is: a run that produced no samples
        return {"row": job["row"], "data": cfg.data.name, "seed": cfg.train.seed, "steps": cfg.train.steps,
                "wall_time": time.perf_counter() - t0, "cpu_time": time.process_time() - c0, "modes": 0.0,
                "high_quality": 0.0, "reverse_kl": math.nan, "w1": math.nan, "diverged": str(exc)}
    G = ema.model if ema is not None else b.G
    if cfg.eval.drs:  # fitting drs's classifier is part of the run: its time counts (drs_time alone too)
        ratio = fit_ratio(G, b.source, cfg.eval.drs, cfg.eval.seed, b.device, bandwidth=cfg.eval.drs_bandwidth)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    # the generator's own metrics, and a config's sampler's under samplers.<name> (as `gankit train` reports them)
    m = evaluate(G, b.source, cfg.eval.n_samples, cfg.eval.w1_samples, cfg.eval.seed, b.device,
                 ratio=ratio if cfg.eval.drs else None, **sampler_kwargs(cfg.eval))
    sweep = {f"hpd {mass:g}": score_samples(hpd_sample(G, cfg.eval.n_samples, mass, cfg.eval.seed, b.device),
                                            b.source, cfg.eval.w1_samples, cfg.eval.seed, None)
             for mass in job.get("hpd_sweep", [])}
    return {"row": job["row"], "data": cfg.data.name, "seed": cfg.train.seed, "steps": cfg.train.steps,
            "wall_time": wall, "cpu_time": cpu, **m, **({"sweep": sweep} if sweep else {})}


def make_jobs(args: argparse.Namespace) -> list[dict[str, Any]]:
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
    jobs = []
    # seed-major order: every row gets its first seed before any row gets its second, so a
    # leaderboard stopped early (--log keeps what finished) still covers every row
    for seed in range(args.seed0, args.seed0 + args.seeds):
        for row, cfg in rows:
            over: dict[str, Any] = {"train.seed": seed, "train.progress": False}
            if args.steps is not None:
                over["train.steps"] = args.steps
            jobs.append({"row": row, "config": to_dict(apply_overrides(cfg, over)), "hpd_sweep": args.hpd_sweep})
    return jobs


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


def main(argv: list[str] | None = None) -> int:
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
    results: list[dict[str, Any]] = []
    if args.from_log:
        for path in args.from_log:
            results += [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
        results = [r for r in results if r["data"] in args.data]
    jobs = [] if args.from_log else make_jobs(args)
    if args.resume and args.log and Path(args.log).exists():  # continue a stopped leaderboard
        done = [json.loads(line) for line in Path(args.log).read_text().splitlines() if line.strip()]
        keys = {(r["row"], r["data"], r["seed"]) for r in done}
        results += [r for r in done if r["data"] in args.data]
        jobs = [j for j in jobs if (j["row"], j["config"]["data"]["name"], j["config"]["train"]["seed"]) not in keys]
    bar = progress_bar(len(jobs), args.no_progress)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        # each run is logged as soon as it finishes (pool.map would hold finished runs back
        # behind a slow one, e.g. 50 s fgan runs behind a 5-minute wgan-gp, and lose them if
        # the leaderboard is stopped); the order of the log does not matter to --resume
        for fut in as_completed([pool.submit(run_one, j) for j in jobs]):
            r = fut.result()
            results.append(r)
            bar.update()
            if args.log:
                with open(args.log, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(r) + "\n")
            if not args.json:
                tqdm.write(f"{r['data']:7s} {r['row']:24s} seed {r['seed']:2d}: modes {r['modes']:.0f} "
                           f"hq {100 * r['high_quality']:.1f}% rkl {r['reverse_kl']:.3f} w1 {r.get('w1', math.nan):.3f} "
                           f"{r['wall_time']:.0f}s wall {r['cpu_time']:.0f}s cpu", file=sys.stderr)
    bar.close()
    summary = summarise(results)
    if args.json:
        print(json.dumps({"runs": results, "summary": summary, "paper": PAPER}))
    else:
        print(markdown(summary, args.data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
