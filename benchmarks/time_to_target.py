"""Wall time to the quality targets, in units of the bare PyTorch loop's step time.

For each preset and each seed, in one process and at one thread count:

1. the **bare loop** (``benchmarks/overhead.py``'s ``PlainLoop``: MLPs 3×256, batch 256, Adam 1e-3
   β (0.5, 0.999), the non-saturating loss, no evaluation, nothing written) runs ``--bare-steps``
   steps after a warm-up, before and after the run, and the mean seconds per step are taken;
2. ``python -m gankit train --preset P --seed S --out TMP --threads T`` runs as a user runs it, timed
   wall-clock from start to exit: start-up and imports, training, evaluations, checkpoints, pictures
   and report included;
3. ``metrics.json`` gives the generator's own modes, high-quality fraction and reverse KL
   (DESIGN.md's definitions, 2,500 samples).

A run's cost is its wall time divided by the bare step time measured around it: "bare
steps", the number of bare-loop steps the same seconds buy. Each preset has a target (the
quality to reach) and a budget in bare steps::

    default      8/8 modes, >= 97 % high quality, reverse KL <= 0.02, <= 3,900 (1.3 x 3,000)
    ring8-fast   8/8 modes, >= 98 % high quality, reverse KL <= 0.02, <= 5,000
    grid25-fast  25/25 modes, >= 97 % high quality, reverse KL <= 0.02, <= 10,000

Usage::

    PYTHONPATH=src python benchmarks/time_to_target.py [--presets default,ring8-fast,grid25-fast]
        [--seeds 100-109] [--threads 1] [--bare-steps 300] [--set KEY=VALUE ...] [--log FILE] [--json]
    PYTHONPATH=src python benchmarks/time_to_target.py --from-log benchmarks/logs/time_to_target.jsonl

``--set`` passes overrides to every run (``gankit train --set``), to measure what one change buys.
``--step-cost`` times only the training step instead (no runs): blocks of ``--bare-steps`` steps of
the preset's trainer (with ``--set``) and of the bare loop, alternating ``--repeats`` times in this
process, and prints the median of the per-block ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from overhead import PlainLoop  # noqa: E402  (the bare loop, shared with the overhead benchmark)

from gankit.config import RunConfig, apply_overrides  # noqa: E402
from gankit.run import build, resolve  # noqa: E402
from gankit.train.trainer import Trainer  # noqa: E402

SRC = str(Path(__file__).resolve().parents[1] / "src")
#: preset -> (modes, minimum high-quality fraction, maximum reverse KL, budget in bare steps)
TARGETS = {
    "default": (8, 0.97, 0.02, 3900),
    "ring8-fast": (8, 0.98, 0.02, 5000),
    "grid25-fast": (25, 0.97, 0.02, 10000),
}


def target_of(preset: str) -> tuple:
    """(modes, minimum high quality, maximum reverse KL, budget in bare steps); no target for other presets."""
    return TARGETS.get(preset, (0, 0.0, float("inf"), float("inf")))


def bare_step_seconds(steps: int, seed: int) -> float:
    """Seconds per step of the bare loop (3×256 MLPs, batch 256, Adam, ns), after a warm-up of 20 steps."""
    loop = PlainLoop(apply_overrides(RunConfig(), [f"train.seed={seed}"]))
    loop.run(20)
    t0 = time.perf_counter()
    loop.run(steps)
    return (time.perf_counter() - t0) / steps


def train_once(preset: str, seed: int, threads: int, overrides: list[str]) -> dict:
    """One ``python -m gankit train`` as a user runs it: wall seconds (start-up included) and the final metrics."""
    with TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        argv = [sys.executable, "-m", "gankit", "train", "--preset", preset, "--seed", str(seed), "--out", str(out),
                "--threads", str(threads)]
        for o in overrides:
            argv += ["--set", o]
        t0 = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": SRC})
        wall = time.perf_counter() - t0
        if done.returncode != 0:
            raise SystemExit(f"gankit train --preset {preset} --seed {seed} failed: {done.stderr.strip()[-400:]}")
        metrics = json.loads((out / "metrics.json").read_text())
    return {"wall_s": wall, **{k: metrics[k] for k in ("modes", "high_quality", "reverse_kl", "w1")}}


def step_cost(preset: str, steps: int, overrides: list[str], repeats: int = 5) -> dict:
    """Seconds per step of the preset's trainer (no callbacks) and of the bare loop, in alternating blocks.

    The ratio is the median of the per-block ratios: a block of the trainer and the block of the bare loop
    right after it see the same machine, so a slow spell of the machine cancels out."""
    cfg = resolve(preset, sets=overrides).cfg
    parts = build(cfg)
    trainer = Trainer(parts.G, parts.D, parts.objective, parts.source, cfg.train)
    bare = PlainLoop(apply_overrides(RunConfig(), [f"train.seed={cfg.train.seed}"]))
    mine, theirs = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            trainer.train_step()
        mine.append((time.perf_counter() - t0) / steps)
        t0 = time.perf_counter()
        bare.run(steps)
        theirs.append((time.perf_counter() - t0) / steps)
    ratio = statistics.median(m / b for m, b in zip(mine, theirs))
    return {"preset": preset, "set": overrides, "step_ms": 1000 * statistics.median(mine),
            "bare_step_ms": 1000 * statistics.median(theirs), "ratio": ratio, "repeats": repeats}


def parse_seeds(text: str) -> list[int]:
    """``"100-109"`` or ``"1,5,7"``."""
    if "-" in text:
        lo, hi = (int(v) for v in text.split("-"))
        return list(range(lo, hi + 1))
    return [int(v) for v in text.split(",")]


def measure(preset: str, seeds: list[int], threads: int, bare_steps: int, overrides: list[str],
            log: Path | None = None) -> dict:
    target = target_of(preset)
    runs = []
    for seed in seeds:
        before = bare_step_seconds(bare_steps, seed)
        row = train_once(preset, seed, threads, overrides)
        bare = (before + bare_step_seconds(bare_steps, seed)) / 2  # the mean of the bare loop before and after
        row.update(seed=seed, bare_step_ms=1000 * bare, bare_steps=row["wall_s"] / bare)
        runs.append(judge(row, target))
        if log is not None:  # one JSON line per finished run, so that an interrupted benchmark keeps its runs
            with log.open("a") as fh:
                fh.write(json.dumps({"preset": preset, "set": overrides, "threads": threads, **row}) + "\n")
        print(f"  {preset} seed {seed}: {row['modes']:.0f} modes, {100 * row['high_quality']:.1f} % hq, "
              f"rkl {row['reverse_kl']:.4f}, {row['wall_s']:.1f} s = {row['bare_steps']:.0f} bare steps "
              f"({row['bare_step_ms']:.2f} ms each)", file=sys.stderr, flush=True)
    return summarise(preset, runs, target, overrides)


def judge(row: dict, target: tuple) -> dict:
    """``row`` with ``quality_met`` and ``time_met`` set against ``target`` = (modes, min hq, max rkl, budget)."""
    modes, hq_min, rkl_max, budget = target
    row["quality_met"] = row["modes"] >= modes and row["high_quality"] >= hq_min and row["reverse_kl"] <= rkl_max
    row["time_met"] = row["bare_steps"] <= budget
    return row


def summarise(preset: str, runs: list[dict], target: tuple, overrides: list[str]) -> dict:
    def ms(key: str) -> list[float]:
        vals = [r[key] for r in runs]
        return [statistics.mean(vals), statistics.pstdev(vals), min(vals), max(vals)]

    return {"preset": preset, "set": overrides, "seeds": [r["seed"] for r in runs],
            "target": dict(zip(("modes", "high_quality", "reverse_kl", "bare_steps"), target)),
            "modes": ms("modes"), "high_quality": ms("high_quality"), "reverse_kl": ms("reverse_kl"),
            "w1": ms("w1"), "bare_steps": ms("bare_steps"), "wall_s": ms("wall_s"),
            "bare_step_ms": ms("bare_step_ms"),
            "quality_met": sum(r["quality_met"] for r in runs), "time_met": sum(r["time_met"] for r in runs),
            "runs": runs}


def table(results: list[dict], threads: int) -> str:
    lines = [f"threads {threads}; mean ± std over seeds (min–max); bare steps = wall / bare step time",
             "| preset | seeds | modes | high quality % | reverse KL | wall (bare steps) | budget | quality met | "
             "time met |", "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        n = len(r["seeds"])
        m, hq, kl, bs = r["modes"], r["high_quality"], r["reverse_kl"], r["bare_steps"]
        name = r["preset"] + (" " + " ".join(r["set"]) if r["set"] else "")
        lines.append(f"| {name} | {r['seeds'][0]}–{r['seeds'][-1]} | {m[0]:.1f} (min {m[2]:.0f}) | "
                     f"{100 * hq[0]:.1f} ± {100 * hq[1]:.1f} (min {100 * hq[2]:.1f}) | "
                     f"{kl[0]:.4f} (max {kl[3]:.4f}) | {bs[0]:.0f} ± {bs[1]:.0f} (max {bs[3]:.0f}) | "
                     f"{r['target']['bare_steps']} | {r['quality_met']}/{n} | {r['time_met']}/{n} |")
    return "\n".join(lines)


def per_seed(results: list[dict]) -> str:
    """One row per preset and seed: modes, high quality, reverse KL, W1, wall seconds and bare steps."""
    lines = ["| preset | seed | modes | high quality % | reverse KL | W1 | wall s | bare steps (ms each) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        for x in r["runs"]:
            lines.append(f"| {r['preset']} | {x['seed']} | {x['modes']:.0f} | {100 * x['high_quality']:.1f} | "
                         f"{x['reverse_kl']:.4f} | {x['w1']:.3f} | {x['wall_s']:.1f} | "
                         f"{x['bare_steps']:.0f} ({x['bare_step_ms']:.2f}) |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", default="default,ring8-fast,grid25-fast")
    ap.add_argument("--seeds", default="100-109", help="'100-109' or '1,5,7' (not the seeds used for tuning)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--bare-steps", type=int, default=300, help="bare-loop steps timed before each run")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--step-cost", action="store_true", help="time the training step only, against the bare loop's")
    ap.add_argument("--repeats", type=int, default=5, help="--step-cost: alternating blocks of --bare-steps steps")
    ap.add_argument("--log", metavar="FILE", help="append each finished run to FILE as one JSON line")
    ap.add_argument("--from-log", metavar="FILE", help="print the tables of a --log file; run nothing")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.from_log:
        rows = [json.loads(line) for line in Path(args.from_log).read_text().splitlines() if line.strip()]
        presets = list(dict.fromkeys(r["preset"] for r in rows))
        results = [summarise(p, [judge(r, target_of(p)) for r in rows if r["preset"] == p], target_of(p),
                             rows[0]["set"]) for p in presets]
        print(table(results, rows[0]["threads"]) + "\n\n" + per_seed(results))
        return
    torch.set_num_threads(args.threads)
    if args.step_cost:
        rows = [step_cost(p, args.bare_steps, args.overrides, args.repeats) for p in args.presets.split(",")]
        for r in rows:
            print(json.dumps(r) if args.json else f"{r['preset']} {' '.join(r['set'])}: {r['step_ms']:.2f} ms/step, "
                  f"bare {r['bare_step_ms']:.2f} ms/step, ratio {r['ratio']:.3f} (threads {args.threads})")
        return
    seeds = parse_seeds(args.seeds)
    log = Path(args.log) if args.log else None
    results = [measure(p, seeds, args.threads, args.bare_steps, args.overrides, log) for p in args.presets.split(",")]
    if args.json:
        print(json.dumps({"threads": args.threads, "results": results}))
    else:
        print(table(results, args.threads))


if __name__ == "__main__":
    main()
