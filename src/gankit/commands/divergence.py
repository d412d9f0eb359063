"""``gankit divergence``: f-divergences between two 1-D mixtures by quadrature, with Monte Carlo beside."""

from __future__ import annotations

import argparse
import math
from typing import Any

import torch

from ..config import MAX_SAMPLES, MAX_SEED
from ..data.toy import parse_mixture
from ..divergences import divergence, divergence_names, get_divergence, monte_carlo_divergence
from ..errors import GankitError
from ..rules import check_number
from .common import SPEC_HELP, add_deprecated, add_threads, format_table, print_json, spelled

__all__ = ["register", "run", "json_numbers", "parse_spec"]


def json_numbers(obj: Any) -> Any:
    """``±inf`` → ``"inf"`` / ``"-inf"`` (``null`` would read as "not computed"), NaN → ``None``, recursively."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if isinstance(obj, dict):
        return {k: json_numbers(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_numbers(v) for v in obj]
    return obj


def parse_spec(spec: str, flag: str):
    """A 1-D mixture from a command-line spec; errors name the flag."""
    try:
        return parse_mixture(spec)
    except GankitError as exc:
        raise GankitError(f"{flag}: {exc}") from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("divergence", help="f-divergences D_f(P||Q) between two 1-D mixtures (quadrature + Monte Carlo)",
                       description="D_f(P||Q) = ∫ q f(p/q) by quadrature (QUADPACK, with its error estimate) "
                                   "and by Monte Carlo on samples of Q. Infinite values are printed as inf. "
                                   f"SPEC: {SPEC_HELP}.")
    p.add_argument("--p", required=True, metavar="SPEC", help='P, e.g. "0.3*N(-2,0.5) + 0.7*N(1,1)" (SPEC: see above)')
    p.add_argument("--q", required=True, metavar="SPEC", help='Q, e.g. "N(0,1.5)"')
    p.add_argument("--divergence", default="all", metavar="NAME",
                   help="divergence (kl, reverse_kl, js, alpha:0.5, ...; see gankit list) or all (default)")
    add_deprecated(p, "--name", "divergence", "--divergence", metavar="NAME")
    p.add_argument("-n", "--samples", type=int, default=100_000, metavar="N",
                   help=f"Monte Carlo samples of Q (default 100000, at most {MAX_SAMPLES:,})")
    add_deprecated(p, "--mc-samples", "samples", "-n/--samples", type=int, metavar="N")
    p.add_argument("--seed", type=int, default=0, help="seed of the Monte Carlo samples")
    p.add_argument("--json", action="store_true",
                   help='one JSON object, "divergences" keyed by name; infinite values are the string "inf"')
    add_threads(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    P, Q = parse_spec(args.p, "--p"), parse_spec(args.q, "--q")
    check_number(spelled(args, "samples", "--samples"), args.samples, 2, MAX_SAMPLES)
    check_number("--seed", args.seed, 0, MAX_SEED)
    names = divergence_names() if args.divergence == "all" else [args.divergence]
    divs = [get_divergence(n) for n in names]  # unknown names fail before any work
    rows = []
    for div in divs:
        quad = divergence(div, P, Q)
        mc = monte_carlo_divergence(div, P, Q, args.samples, torch.Generator().manual_seed(args.seed))
        rows.append({"name": div.name, "value": quad.value, "abs_error": quad.abs_error,
                     "monte_carlo": mc.value, "mc_stderr": mc.stderr})
    if args.json:
        by_name = {r["name"]: {k: v for k, v in r.items() if k != "name"} for r in rows}
        print_json(json_numbers({"p": P.spec(), "q": Q.spec(), "mc_samples": args.samples, "seed": args.seed,
                                 "divergences": by_name}))
        return 0
    print(f"D_f(P||Q) with P = {P.spec()}, Q = {Q.spec()}  (quadrature ± QUADPACK error; Monte Carlo "
          f"on {args.samples} samples of Q ± standard error)")
    print(format_table(rows, ["name", "value", "abs_error", "monte_carlo", "mc_stderr"]))
    return 0
