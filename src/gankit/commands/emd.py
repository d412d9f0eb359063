"""``gankit emd A B [--order 1] [-o PLAN.npy] [--normalize] [--json]``: exact earth mover's distance.

Point files as read by :mod:`gankit.divergences.emd_io`; prints ``W_p``, the cost ``W_p^p`` and
the plan's nonzero count; ``-o/--output`` writes the plan (``.npy`` dense, ``.npz`` sparse).
``--p`` (the order) and ``--plan`` are the old spellings, kept for one release.
"""

from __future__ import annotations

import argparse
import math

from ..divergences.emd_io import MAX_P, emd_command
from ..errors import GankitError
from .common import add_deprecated, add_threads, print_json, spelled


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("emd", help="exact earth mover's distance between two point files (with its plan)",
                       description="Exact earth mover's (Wasserstein-p) distance between two weighted point sets.")
    p.add_argument("a", metavar="A", help="first point file (.npy, .npz, .csv)")
    p.add_argument("b", metavar="B", help="second point file (.npy, .npz, .csv)")
    p.add_argument("--order", type=float, default=1.0, metavar="P",
                   help=f"the p of W_p: ground cost ||x - y||^p, 1 <= p <= {MAX_P} (default 1)")
    add_deprecated(p, "--p", "order", "--order", type=float, metavar="P")
    p.add_argument("-o", "--output", metavar="PLAN.npy", help="write the optimal plan: .npy (dense) or .npz (sparse)")
    add_deprecated(p, "--plan", "output", "-o/--output", metavar="PLAN.npy")
    p.add_argument("--normalize", action="store_true", help="rescale both weight sets to total mass 1")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_threads(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not math.isfinite(args.order) or not 1 <= args.order <= MAX_P:
        raise GankitError(f"{spelled(args, 'order', '--order')} must be a number in [1, {MAX_P}], got {args.order}")
    out = emd_command(args.a, args.b, p=args.order, plan_path=args.output, normalize=args.normalize)
    if args.json:
        print_json(out)
        return 0
    print(f"W_{out['p']:g} = {out['distance']:.6g}  (cost W^p = {out['cost']:.6g})")
    print(f"  {out['n']} x {out['m']} points in dimension {out['dim']}, solver {out['method']}, "
          f"{out['n_nonzero']} nonzero plan entries")
    if out["plan"]:
        print(f"  plan written to {out['plan']}")
    return 0
