"""Overhead of ``gankit sweep``'s executors against plain sequential runs of the same configs.

The same N runs (the compare preset, seeds 0..N-1, ``--steps`` steps, no pictures, one torch
thread each) are trained four ways, and the wall-clock time of each way is printed with its
ratio to the first:

1. a plain loop in this process: ``Run(cfg, out).fit()`` per seed (Python and torch already loaded);
2. ``gankit sweep --jobs 1`` (a new ``gankit`` process; runs one after another in it);
3. ``gankit sweep --jobs 2`` (a pool of two ``spawn`` processes; only faster with two idle cores);
4. ``gankit sweep --executor ray --jobs 1`` (a local Ray started by the sweep, one task per run).

Each sweep's final metrics are checked equal to the loop's (the same runs, whatever runs them).
The load average before and after is printed: on a shared machine the ratios move with it.

Example::

    nice -n 10 python benchmarks/sweep_overhead.py --runs 4 --steps 300
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gankit.run import Run, resolve
from gankit.run.threads import set_threads

WAYS = {"sweep --jobs 1": ["--jobs", "1"], "sweep --jobs 2": ["--jobs", "2"],
        "sweep --executor ray --jobs 1": ["--executor", "ray", "--jobs", "1"]}
RESULT_KEYS = ("modes", "high_quality", "reverse_kl", "w1")


def loop(out: Path, runs: int, steps: int) -> tuple[float, list[dict]]:
    t0 = time.perf_counter()
    finals = [Run(resolve("compare", flags={"train.steps": steps, "train.seed": s}).cfg, out / f"seed{s}")
              .fit(progress=False, pictures=False) for s in range(runs)]
    return time.perf_counter() - t0, finals


def sweep(out: Path, runs: int, steps: int, extra: list[str]) -> tuple[float, list[dict]]:
    argv = [sys.executable, "-m", "gankit", "sweep", "--preset", "compare", "--seeds", str(runs), "--steps", str(steps), "--out", str(out),
            "--no-pictures", "--json", *extra]
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {proc.stderr[-2000:]}")
    combo = json.loads(proc.stdout)["combinations"][0]
    return wall, [r["metrics"] for r in sorted(combo["per_seed"], key=lambda r: r["seed"])]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=4)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--skip-ray", action="store_true", help="leave out the Ray row")
    args = p.parse_args(argv)
    set_threads(1)
    load0 = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="sweep-overhead-"))
    try:
        rows = [("plain loop in one process", *loop(tmp / "loop", args.runs, args.steps))]
        for name, extra in WAYS.items():
            if "ray" in name and args.skip_ray:
                continue
            rows.append((name, *sweep(tmp / name.replace(" ", "_"), args.runs, args.steps, extra)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    base = rows[0][1]
    print(f"{args.runs} runs x {args.steps} steps, compare preset, 1 torch thread per run, no pictures; "
          f"load average {load0[0]:.1f} before, {os.getloadavg()[0]:.1f} after ({os.cpu_count()} CPUs)\n")
    print("| way | wall s | / plain loop | same metrics |\n|---|---|---|---|")
    for name, wall, finals in rows:
        same = all(a[k] == b[k] for a, b in zip(rows[0][2], finals, strict=True) for k in RESULT_KEYS)
        print(f"| {name} | {wall:.1f} | {wall / base:.2f} | {'yes' if same else 'NO'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
