"""``gankit sample RUN_DIR -n N --seed S -o FILE.npy``: same seed, same samples."""

from __future__ import annotations

import argparse

from ..config import MAX_SAMPLES, MAX_SEED
from ..rules import check_number
from ..run import Run
from .common import print_json, save_array, warn


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sample", help="draw samples from a trained run")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("-n", type=int, default=1000, help=f"number of samples (default 1000, at most {MAX_SAMPLES:,})")
    p.add_argument("--seed", type=int, default=0, help="noise seed (same seed, same samples)")
    p.add_argument("-o", "--output", required=True, metavar="FILE.npy", help="output .npy (or .csv)")
    p.add_argument("--polarity", type=float, default=None, metavar="RHO",
                   help="polarity sampling exponent (gankit.sampling; default: the run's eval.polarity)")
    p.add_argument("--hpd", type=float, default=None, metavar="MASS",
                   help="draw from G's highest-density region of this mass (default: the run's eval.hpd)")
    p.add_argument("--drs", type=int, default=None, metavar="STEPS",
                   help="discriminator rejection sampling with a ratio classifier fitted for STEPS steps "
                        "(default: the run's eval.drs; 0 = off)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_number("-n", args.n, 1, MAX_SAMPLES)
    check_number("--seed", args.seed, 0, MAX_SEED)
    run = Run.load(args.run_dir, warn=warn)
    x = run.sample(args.n, args.seed, polarity=args.polarity, hpd=args.hpd, drs=args.drs).numpy()
    save_array(args.output, x)
    step = int(run.state["step"])
    if args.json:
        print_json({"output": args.output, "n": args.n, "seed": args.seed, "step": step, "shape": list(x.shape)})
    else:
        print(f"wrote {args.n} samples of shape {tuple(x.shape[1:])} from step {step} to {args.output}")
    return 0
