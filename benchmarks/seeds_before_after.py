"""``--seeds N`` before and after a change, in one process: one run vs the old and the new stacked trainer.

The old trainer is loaded from ``git show REV:src/gankit/train/seeds.py`` and ``stacked.py``
(relative imports made absolute, so it runs on today's package); the new one is
:class:`gankit.train.seeds.StackedTrainer`. Rows (MLPs of 3 hidden layers, batch = width,
N seeds) are timed in blocks, round-robin, ``--repeats`` times, with one thread; the table
gives medians of replica-steps/s. Interleaving makes the ratios robust to the load of a
shared machine, not the absolute rates. ``--plain`` adds the new trainer without its one
hand-written kernel (:class:`~gankit.train.stacked.StackedMLPFunction`): plain autograd
through the stacked ``baddbmm`` layers, which is what the kernel buys.

Usage::

    PYTHONPATH=src python benchmarks/seeds_before_after.py [--before b14e400] [--widths 256,64] [--seeds 4,8] [--plain]
"""

from __future__ import annotations

import argparse
import json
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
from gankit.data.toy import make_source
from gankit.models.mlp import make_mlp
from gankit.objectives import make_objective
from gankit.train.seeds import StackedTrainer
from gankit.train.trainer import Trainer, seed_everything

ROOT = Path(__file__).resolve().parents[1]


def old_module(rev: str, name: str, extra: dict[str, str] | None = None) -> types.ModuleType:
    """``gankit/train/<name>.py`` at git revision ``rev``, importable on the current package."""
    src = subprocess.run(["git", "show", f"{rev}:src/gankit/train/{name}.py"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    for old, new in (extra or {}).items():
        src = src.replace(old, new)
    src = re.sub(r"^from \.\.(\w*)", lambda m: "from gankit" + ("." + m[1] if m[1] else ""), src, flags=re.M)
    src = re.sub(r"^from \.(\w+)", r"from gankit.train.\1", src, flags=re.M)
    mod = types.ModuleType(f"{name}_{rev}")
    sys.modules[mod.__name__] = mod  # dataclasses/annotations look the module up
    exec(compile(src, f"{rev}:{name}.py", "exec"), mod.__dict__)
    return mod


def replicas(cfg: RunConfig, n: int) -> list[Trainer]:
    """Trainers for seeds ``seed … seed + n − 1``, initialised as lone runs are."""
    source = make_source(cfg.data.name)
    out = []
    for i in range(n):
        c = replace(cfg, train=replace(cfg.train, seed=cfg.train.seed + i))
        seed_everything(c.train.seed)
        G, D = make_mlp(c.model, source.shape)
        out.append(Trainer(G, D, make_objective(c.objective), source, c.train))
    return out


def timed(rows: dict, repeats: int, seconds: float) -> dict[str, float]:
    """Median replica-steps/s of each row, blocks of about ``seconds`` timed round-robin."""
    blocks = {}
    for name, (step, _) in rows.items():  # warm-up, and a block length of about `seconds`
        step()
        t0 = time.perf_counter()
        step()
        blocks[name] = max(1, round(seconds / (time.perf_counter() - t0)))
    rates: dict[str, list[float]] = {k: [] for k in rows}
    names = list(rows)
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            step, k = rows[name]
            t0 = time.perf_counter()
            for _ in range(blocks[name]):
                step()
            rates[name].append(k * blocks[name] / (time.perf_counter() - t0))
    return {k: statistics.median(v) for k, v in rates.items()}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default="b14e400", help="git revision of the old seeds.py and stacked.py")
    ap.add_argument("--widths", default="256,64", help="MLP width = batch size, comma-separated (3 hidden layers)")
    ap.add_argument("--seeds", default="4,8", help="numbers of seeds, comma-separated")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--seconds", type=float, default=0.5, help="approximate length of one timed block")
    ap.add_argument("--plain", action="store_true", help="add the new trainer on plain autograd (no fast kernel)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    old_stacked = old_module(args.before, "stacked")
    old = old_module(args.before, "seeds", {"from .stacked import": f"from {old_stacked.__name__} import"})
    results = []
    for w in (int(x) for x in args.widths.split(",")):
        cfg = apply_overrides(RunConfig(), [f"model.g_width={w}", f"model.d_width={w}", f"train.batch_size={w}"])
        for n in (int(x) for x in args.seeds.split(",")):
            rows = {"one run": (replicas(cfg, 1)[0].train_step, 1),
                    "before": (old.VectorisedTrainer(replicas(cfg, n)).train_step, n),
                    "after": (StackedTrainer(replicas(cfg, n)).train_step, n)}
            if args.plain:
                plain = StackedTrainer(replicas(cfg, n))
                plain.G.fast = plain.D.fast = False
                rows["after, plain autograd"] = (plain.train_step, n)
            med = timed(rows, args.repeats, args.seconds)
            results.append({"width": w, "seeds": n, "replica_steps_per_s": med,
                            "after_over_before": med["after"] / med["before"]})
    out = {"before": args.before, "threads": torch.get_num_threads(), "repeats": args.repeats, "results": results}
    if args.json:
        print(json.dumps(out))
    show = sys.stderr if args.json else sys.stdout
    plain = " after, plain autograd |" if args.plain else ""
    print(f"| model (3 hidden layers), batch | seeds | one run | before | after |{plain} after / before |\n"
          f"|---|---:|---:|---:|---:|{'---:|' if args.plain else ''}---:|", file=show)
    for r in results:
        m = r["replica_steps_per_s"]
        extra = f" {m['after, plain autograd']:.4g} |" if args.plain else ""
        print(f"| {r['width']} wide, batch {r['width']} | {r['seeds']} | {m['one run']:.4g} | {m['before']:.4g} | "
              f"{m['after']:.4g} |{extra} {r['after_over_before']:.2f}x |", file=show)
    print(f"(replica-steps/s, medians of {args.repeats} interleaved blocks, {out['threads']} thread)", file=show)
    return out


if __name__ == "__main__":
    main()
