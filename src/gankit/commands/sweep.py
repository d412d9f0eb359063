"""``gankit sweep``: configs × a ``--set`` grid × seeds as normal run directories, with a leaderboard; or a search.

Usage: ``gankit sweep [--config FILE ...] [--preset NAME] [--set key=v1,v2 ...] --seeds N --out DIR
[--jobs N] [--executor local|ray [--address ADDR]] [--retry-failed]``, or with ``--search optuna
--trials N --metric KEY --direction maximize|minimize`` over a config's ``[search]`` table (docs/sweep.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm.auto import tqdm

from ..errors import GankitError
from ..io import SUMMARY_FILE
from ..run import data_name_for, preset_names
from ..run.threads import resolve_threads
from ..sweep import (
    LEADERBOARD_FILE,
    fmt_stat,
    load_config,
    parse_grid,
    plan,
    run_search,
    run_sweep,
    seed_list,
    split_values,
)
from ..sweep.executors import EXECUTORS
from .common import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="train configs x a grid x seeds as run directories, with a leaderboard "
                                     "(local processes or Ray); or search hyperparameters with Optuna",
                       description="Every combination of --config files and --set grids, for every seed, "
                                   "is a normal run directory OUT/<combination>/seed<s>/ (as 'gankit train' "
                                   "writes it); OUT/summary.json and OUT/leaderboard.md hold mean ± std per "
                                   "combination. Run it again to finish what is missing: finished runs are "
                                   "skipped, stopped ones resumed. docs/sweep.md")
    p.add_argument("--config", dest="configs", action="append", default=[], metavar="FILE.toml",
                   help="a TOML config over the preset (repeatable: one more axis of the grid)")
    p.add_argument("--preset", metavar="NAME", help=f"preset under the configs: {', '.join(preset_names())}")
    p.add_argument("--set", dest="grid", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="a grid axis, e.g. --set objective.name=ns,hinge (repeatable; one value: a plain override)")
    p.add_argument("--data", help="data.name, or several separated by commas (an axis of the grid)")
    p.add_argument("--objective", help="objective.name, or several separated by commas (an axis of the grid)")
    p.add_argument("--steps", type=int, help="generator steps of every run (train.steps)")
    p.add_argument("--seeds", type=int, metavar="N", help="seeds SEED..SEED+N-1 per combination (default 1)")
    p.add_argument("--seed", type=int, default=0, help="first seed of --seeds (default 0)")
    p.add_argument("--seed-list", metavar="S1,S2,...", help="these seeds instead of --seeds")
    p.add_argument("--out", required=True, metavar="DIR", help="the sweep's folder")
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="runs at a time (local: processes; ray: the CPUs of a local Ray) (default 1: in this process)")
    p.add_argument("--executor", default="local", choices=EXECUTORS, help="local processes, or Ray tasks "
                   "(pip install 'gankit[ray]')")
    p.add_argument("--address", metavar="ADDR", help="Ray cluster to join (ray.init(address=ADDR)); default a local Ray")
    p.add_argument("--retry-failed", action="store_true", help="train again the runs that failed with an error "
                   "(their folders are moved aside to seed<s>.failed-<k>)")
    p.add_argument("--no-pictures", action="store_true", help="no pictures or report.html in the run directories")
    p.add_argument("--threads", type=int, default=None, metavar="N",
                   help="torch threads of each run (train.threads; default 1)")
    p.add_argument("--search", choices=["optuna"], help="search the config's [search] table with Optuna "
                   "(pip install 'gankit[search]')")
    p.add_argument("--trials", type=int, default=20, help="--search: trials the study should hold")
    p.add_argument("--metric", default="high_quality", help="--search: the final metric to optimise")
    p.add_argument("--direction", default="maximize", choices=["maximize", "minimize"], help="--search: direction")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _axis(key: str, value: str | None) -> list[str]:
    if value is None:
        return []
    vals = [data_name_for(v) for v in split_values(value)] if key == "data.name" else split_values(value)
    return [f"{key}={','.join(vals)}"]


def _inputs(args: argparse.Namespace) -> tuple[list, dict, list, list[int], dict]:
    """Configs (dicts of keys, the [search] tables apart), flags, grid, seeds, search table; all checked."""
    loaded = [load_config(c) for c in args.configs]
    searches = [s for _, s in loaded if s]
    if searches and not args.search:
        raise GankitError("a --config file has a [search] table; run it with --search optuna, or remove the table")
    if args.search and (len(args.configs) != 1 or not searches):
        raise GankitError("--search optuna takes one --config FILE with a [search] table (docs/sweep.md)")
    if args.steps is not None and args.steps < 1:
        raise GankitError(f"--steps must be >= 1, got {args.steps}")
    flags = {"train.steps": args.steps, "train.threads": resolve_threads(args.threads) if args.threads else None}
    grid = parse_grid(_axis("data.name", args.data) + _axis("objective.name", args.objective) + args.grid)
    seeds = seed_list(args.seeds, args.seed_list, args.seed)
    configs = [keys for keys, _ in loaded]
    return configs, flags, grid, seeds, searches[0] if searches else {}


def run(args: argparse.Namespace) -> int:
    configs, flags, grid, seeds, space = _inputs(args)
    out = Path(args.out)
    progress = False if (args.no_progress or args.json) else None
    log = None if args.json else (lambda line: tqdm.write(line, file=sys.stderr))
    common = {"executor": args.executor, "n_jobs": args.jobs, "address": args.address,
              "retry_failed": args.retry_failed, "pictures": not args.no_pictures, "progress": progress, "log": log}
    if args.search:
        result = run_search(configs[0], space, args.preset, flags, grid, seeds, out, trials=args.trials,
                            metric=args.metric, direction=args.direction, **common)
        if args.json:
            print_json(result)
        else:
            print(f"search {out}: {result['trials']} trials; best trial {result['best']['trial']} "
                  f"{args.metric}={result['best']['value']:.4g}; best config: {result['best']['config']}")
        return 0
    jobs = plan(configs, grid, seeds, out, args.preset, flags)
    summary = run_sweep(jobs, out, meta={"seeds": seeds, "grid": dict(grid)}, **common)
    if args.json:
        print_json({"out": str(out), **summary})
        return 0
    _print(out, summary)
    return 0


def _print(out: Path, summary: dict) -> None:
    s = summary["sweep"]
    print(f"sweep {out}: {s['finished']}/{s['planned']} runs finished, {s['diverged']} diverged, {s['failed']} failed"
          + (f", {s['pending']} not done" if s["pending"] else ""))
    for c in summary["combinations"]:
        shown = ", ".join(f"{k}={fmt_stat(k, c['metrics'].get(k))}" for k in ("modes", "high_quality", "reverse_kl", "w1")
                          if k in c["metrics"])
        print(f"  {c['name']}: {c['finished']}/{c['planned']} {shown}")
    print(f"  summary: {out / SUMMARY_FILE}; leaderboard: {out / LEADERBOARD_FILE}")
