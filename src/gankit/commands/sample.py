"""``gankit sample RUN_DIR -n N --seed S -o FILE.npy|FILE.csv|GRID.png``: same seed, same samples.

A ``.png`` output is a grid of an image run's samples (``--nrow`` images per row).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from torch import Tensor

from ..config import MAX_SAMPLES, MAX_SEED
from ..errors import GankitError
from ..report.grids import save_image_grid
from ..rules import check_number
from ..run import Run
from ..run.threads import THREADS_HELP, set_threads
from .common import print_json, save_array, warn


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sample", help="draw samples from a trained run")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("-n", type=int, default=1000, help=f"number of samples (default 1000, at most {MAX_SAMPLES:,})")
    p.add_argument("--seed", type=int, default=0, help="noise seed (same seed, same samples)")
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="output file: .npy or .csv (the samples' values), or .png (a grid of an image run's samples)")
    p.add_argument("--nrow", type=int, default=None, metavar="K",
                   help="images per row of a .png grid (default: the square root of -n, rounded up)")
    p.add_argument("--class", dest="label", type=int, default=None, metavar="K",
                   help="draw class K of a conditional model (a model trained without classes refuses it)")
    p.add_argument("--polarity", type=float, default=None, metavar="RHO",
                   help="polarity sampling exponent (gankit.sampling; default: the run's eval.polarity)")
    p.add_argument("--hpd", type=float, default=None, metavar="MASS",
                   help="draw from G's highest-density region of this mass (default: the run's eval.hpd)")
    p.add_argument("--drs", type=int, default=None, metavar="STEPS",
                   help="discriminator rejection sampling with a ratio classifier fitted for STEPS steps "
                        "(default: the run's eval.drs; 0 = off)")
    p.add_argument("--threads", type=int, default=None, metavar="N",
                   help=f"{THREADS_HELP}; default: the run's train.threads")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


#: output suffixes and what they hold
OUTPUTS = (".npy", ".csv", ".png")
#: most images one .png grid holds
MAX_GRID = 10_000


def run(args: argparse.Namespace) -> int:
    check_number("-n", args.n, 1, MAX_SAMPLES)
    check_number("--seed", args.seed, 0, MAX_SEED)
    out = Path(args.output)
    grid = _check_output(out, args)
    set_threads(args.threads)  # the command's own work (loading); the run's sampling follows Run.load's threads
    run = Run.load(args.run_dir, warn=warn, threads=args.threads)
    if grid and len(run.parts.source.shape) != 3:
        raise GankitError(f"a .png grid needs an image run; the samples of {str(args.run_dir)!r} have shape "
                          f"{tuple(run.parts.source.shape)}: use -o FILE.npy or FILE.csv")
    x = run.sample(args.n, args.seed, polarity=args.polarity, hpd=args.hpd, drs=args.drs, label=args.label)
    if grid:
        _save_grid(x, out, args.nrow)
    else:
        save_array(out, x.numpy())
    step = int(run.state["step"])
    if args.json:
        print_json({"output": args.output, "n": args.n, "seed": args.seed, "step": step, "shape": list(x.shape),
                    **({"class": args.label} if args.label is not None else {})})
    else:
        print(f"wrote {args.n} samples of shape {tuple(x.shape[1:])} from step {step} to {args.output}")
    return 0


def _check_output(out: Path, args: argparse.Namespace) -> bool:
    """Refuse what cannot be written before any work; whether the output is a .png grid."""
    suffix = out.suffix.lower()
    if suffix not in OUTPUTS:
        raise GankitError(f"output file {str(out)!r} must end in .npy, .csv or .png (.png: a grid of an image run)")
    if not out.parent.is_dir():
        raise GankitError(f"folder {str(out.parent)!r} of the output file does not exist")
    if suffix != ".png":
        if args.nrow is not None:
            raise GankitError("--nrow sets the rows of a .png grid; the output here is " + suffix)
        return False
    check_number("-n for a .png grid", args.n, 1, MAX_GRID)
    if args.nrow is not None:
        check_number("--nrow", args.nrow, 1, args.n)
    return True


def _save_grid(x: Tensor, out: Path, nrow: int | None) -> None:
    try:
        save_image_grid(x, out, nrow=nrow)
    except OSError as exc:
        raise GankitError(f"cannot write {str(out)!r}: {exc.strerror or exc}") from None
