"""Cost of the training-health guard on the default ring8 run (MLP 256x3, batch 256, Adam).

Times ``steps`` training steps with no callbacks, and with :class:`HealthGuard` at several
``train.health_every`` values (1 = sync and check every weight and gradient every step).
Times are CPU seconds of this process (one thread). Each variant runs ``repeats`` times, interleaved, and the fastest time is kept (the machine
is shared: the minimum is the least noisy statistic). Prints one table row per variant.

Run: ``PYTHONPATH=src python benchmarks/health_overhead.py [--steps 400] [--repeats 5]``
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from gankit.config import RunConfig, apply_overrides
from gankit.run import build
from gankit.train.health import HealthGuard
from gankit.train.trainer import Trainer


def time_run(every: int | None, steps: int) -> float:
    cfg = apply_overrides(RunConfig(), [f"train.steps={steps}", "train.checkpoint_every=0", "train.eval_every=0",
                                        f"train.health_every={every or 1}"])
    b = build(cfg)
    cbs = [] if every is None else [HealthGuard(cfg.train)]
    t = Trainer(b.G, b.D, b.objective, b.source, cfg.train, cbs)
    t0 = time.process_time()  # CPU time of this (single-threaded) process: less hurt by a shared machine
    t.fit()
    return time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(1)
    variants: list[int | None] = [None, 1, 10, 50, 100]
    best = {v: float("inf") for v in variants}
    for _ in range(args.repeats):
        for v in variants:
            best[v] = min(best[v], time_run(v, args.steps))
    base = best[None]
    print(f"load average: {os.getloadavg()}; {args.steps} steps, best of {args.repeats}, 1 thread")
    print(f"{'variant':<22}{'ms/step':>10}{'overhead':>10}")
    for v in variants:
        name = "no guard" if v is None else f"guard health_every={v}"
        print(f"{name:<22}{1000 * best[v] / args.steps:>10.3f}{100 * (best[v] / base - 1):>9.1f}%")


if __name__ == "__main__":
    main()
