"""``--seeds N`` before and after a change, in one process: one run vs the old and the new vectorised trainer.

The old :class:`VectorisedTrainer` is loaded from ``git show REV:src/gankit/train/seeds.py``
(relative imports made absolute, so it runs on today's package), the new one is imported.
Rows are timed in blocks, round-robin, ``--repeats`` times, with one thread; medians.
Interleaving makes the ratios robust to the load of a shared machine, not the absolute rates.

Usage::

    PYTHONPATH=src python benchmarks/seeds_before_after.py [--before 33c7dd5] [--widths 64,256] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
import types
from dataclasses import replace
from pathlib import Path

import torch

from gankit.config import RunConfig, apply_overrides
from gankit.train.run import build
from gankit.train.seeds import VectorisedTrainer
from gankit.train.trainer import Trainer

ROOT = Path(__file__).resolve().parents[1]


def old_module(rev: str) -> types.ModuleType:
    """``gankit/train/seeds.py`` at git revision ``rev``, importable on the current package."""
    src = subprocess.run(["git", "show", f"{rev}:src/gankit/train/seeds.py"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    src = re.sub(r"^from \.\.(\w*)", lambda m: "from gankit" + ("." + m[1] if m[1] else ""), src, flags=re.M)
    src = re.sub(r"^from \.(\w+)", r"from gankit.train.\1", src, flags=re.M)
    mod = types.ModuleType(f"seeds_{rev}")
    sys.modules[mod.__name__] = mod  # dataclasses/annotations look the module up
    exec(compile(src, f"{rev}:seeds.py", "exec"), mod.__dict__)
    return mod


def replicas(cfg: RunConfig, n: int) -> list[Trainer]:
    out = []
    for i in range(n):
        c = replace(cfg, train=replace(cfg.train, seed=cfg.train.seed + i))
        b = build(c)
        out.append(Trainer(b.G, b.D, b.objective, b.source, c.train, device=b.device))
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default="33c7dd5", help="git revision of the old seeds.py")
    ap.add_argument("--widths", default="64,256", help="MLP width = batch size, comma-separated (3 hidden layers)")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--seconds", type=float, default=0.5, help="approximate length of one timed block")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    old = old_module(args.before)
    n = args.seeds
    results = []
    load_before = os.getloadavg()
    for w in (int(x) for x in args.widths.split(",")):
        cfg = apply_overrides(RunConfig(), [f"model.g_width={w}", f"model.d_width={w}", f"train.batch_size={w}"])
        b = build(cfg)
        single = Trainer(b.G, b.D, b.objective, b.source, cfg.train, device=b.device)
        rows = {"one run": (single.train_step, 1), f"before --seeds {n}": (old.VectorisedTrainer(replicas(cfg, n)).train_step, n),
                f"after --seeds {n}": (VectorisedTrainer(replicas(cfg, n)).train_step, n)}
        blocks = {}
        for name, (step, _) in rows.items():  # warm-up, and a block length of about --seconds
            step()
            t0 = time.perf_counter()
            step()
            blocks[name] = max(1, round(args.seconds / (time.perf_counter() - t0)))
        rates: dict[str, list[float]] = {k: [] for k in rows}
        for r in range(args.repeats):
            names = list(rows)
            for name in names[r % 3:] + names[:r % 3]:
                step, k = rows[name]
                t0 = time.perf_counter()
                for _ in range(blocks[name]):
                    step()
                rates[name].append(k * blocks[name] / (time.perf_counter() - t0))
        med = {k: statistics.median(v) for k, v in rates.items()}
        one = med["one run"]
        results.append({"width": w, "batch": w, "seeds": n, "replica_steps_per_s": med,
                        "speedup_before": med[f"before --seeds {n}"] / one, "speedup_after": med[f"after --seeds {n}"] / one,
                        "after_over_before": med[f"after --seeds {n}"] / med[f"before --seeds {n}"]})
    out = {"before": args.before, "results": results, "load_before": load_before, "load_after": os.getloadavg(),
           "repeats": args.repeats}
    if args.json:
        print(json.dumps(out))
    show = sys.stderr if args.json else sys.stdout
    print(f"| model (3 hidden layers), batch | one run | before --seeds {n} | after --seeds {n} | speed-up before | "
          "speed-up after | after / before |\n|---|---:|---:|---:|---:|---:|---:|", file=show)
    for r in results:
        m = list(r["replica_steps_per_s"].values())
        print(f"| {r['width']} wide, batch {r['batch']} | {m[0]:.4g} | {m[1]:.4g} | {m[2]:.4g} | {r['speedup_before']:.2f}x | "
              f"{r['speedup_after']:.2f}x | {r['after_over_before']:.2f}x |", file=show)
    print(f"(replica-steps/s, medians of {args.repeats}; load {load_before} -> {out['load_after']})", file=show)
    return out


if __name__ == "__main__":
    main()
