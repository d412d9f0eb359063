"""``gankit eval RUN_DIR [--json]``: score the newest checkpoint of a run."""

from __future__ import annotations

import argparse

from ..config import MAX_SAMPLES, MAX_SEED
from ..metrics.evaluate import SAMPLERS_KEY
from ..rules import check_number
from ..run import Run
from ..run.threads import THREADS_HELP, set_threads
from .common import print_json, warn


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="score a trained run (mode coverage, exact W1; Frechet distance, classes, ... for images)")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("-n", type=int, default=None, help="samples scored (default: the run's eval.n_samples)")
    p.add_argument("--seed", type=int, default=None, help="evaluation noise seed (default: the run's eval.seed)")
    p.add_argument("--polarity", type=float, default=None, metavar="RHO",
                   help="score polarity-sampled draws (gankit.sampling; default: the run's eval.polarity)")
    p.add_argument("--hpd", type=float, default=None, metavar="MASS",
                   help="score draws from G's highest-density region of this mass (default: the run's eval.hpd)")
    p.add_argument("--drs", type=int, default=None, metavar="STEPS",
                   help="score discriminator rejection sampling with a ratio classifier fitted for STEPS steps "
                        "(default: the run's eval.drs; 0 = off)")
    p.add_argument("--threads", type=int, default=None, metavar="N",
                   help=f"{THREADS_HELP}; default: the run's train.threads")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.n is not None:
        check_number("-n", args.n, 1, MAX_SAMPLES)
    if args.seed is not None:
        check_number("--seed", args.seed, 0, MAX_SEED)
    set_threads(args.threads)  # the command's own work (loading); the run's sampling follows Run.load's threads
    run = Run.load(args.run_dir, warn=warn, threads=args.threads)
    cfg = run.cfg
    n = args.n if args.n is not None else cfg.eval.n_samples
    metrics = run.evaluate(n, args.seed, polarity=args.polarity, hpd=args.hpd, drs=args.drs)
    out = {"run_dir": str(args.run_dir), "step": int(run.state["step"]), "data": cfg.data.name,
           "objective": cfg.model.name if run.parts.is_vae else cfg.objective.name, "n_samples": n, **metrics}
    if args.json:
        print_json(out)
    else:
        _print_flat({k: v for k, v in out.items() if k != SAMPLERS_KEY})
        for name, m in out.get(SAMPLERS_KEY, {}).items():  # the sampler's numbers beside the generator's
            print(f"with the sampler {name}:")
            _print_flat(m)
    return 0


def _print_flat(values: dict[str, object]) -> None:
    for k, v in values.items():
        print(f"{k:>14}: {v:.4g}" if isinstance(v, float) else f"{k:>14}: {v}")
