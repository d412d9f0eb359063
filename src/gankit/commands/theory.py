"""``gankit theory <sub>``: the lecture's identities as numbers and pictures.

``optimal-d`` (D* and V = 2·JSD − log 4), ``fgan-fit`` (f-GAN section 4), ``conjugate``
(f** = f), ``variational`` (a divergence estimated from below by training the critic).
Every subcommand has ``--json`` and ``-o/--output FILE.png`` (the picture; ``--plot`` is the old
spelling). Distributions are ``--p``/``--q`` as in ``gankit divergence`` (old: ``--data``/``--gen``,
``--target``), the divergence is ``--divergence`` (old: ``--name``); old spellings work for one release.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from ..divergences import divergence_names, get_divergence
from ..errors import GankitError
from ..theory.conjugate import check_biconjugate, plot_conjugate
from ..theory.fgan_fit import DEFAULT_TARGET, fit_table, plot_fits
from ..theory.optimal_d import DEFAULT_DATA, DEFAULT_GEN, optimal_discriminator, plot_optimal_d
from ..theory.variational import plot_variational, variational_estimate
from .common import (
    SPEC_HELP,
    add_deprecated,
    add_progress,
    add_threads,
    format_table,
    print_json,
    progress_arg,
    spelled,
)
from .divergence import json_numbers, parse_spec

__all__ = ["register"]


def _positive(name: str, v: int) -> None:
    if v < 1:
        raise GankitError(f"{name} must be >= 1, got {v}")


def _plot_path(path: str | None) -> Path | None:
    if path is None:
        return None
    p = Path(path)
    if p.suffix.lower() != ".png":
        raise GankitError(f"picture file {path!r} must end in .png")
    if not p.parent.exists():
        raise GankitError(f"folder {str(p.parent)!r} of the picture file does not exist")
    return p


def _common(q: argparse.ArgumentParser, progress: bool = True) -> None:
    q.add_argument("--json", action="store_true", help="print one JSON object (infinite values as \"inf\")")
    q.add_argument("-o", "--output", metavar="FILE.png", help="save a picture")
    add_deprecated(q, "--plot", "output", "-o/--output", metavar="FILE.png")
    q.add_argument("--seed", type=int, default=0, help="seed of the networks and samples")
    if progress:
        add_progress(q)


def _divergence(q: argparse.ArgumentParser, default: str, helptext: str) -> None:
    q.add_argument("--divergence", default=default, metavar="NAME", help=helptext)
    add_deprecated(q, "--name", "divergence", "--divergence", metavar="NAME")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("theory", help="theory lab: optimal D, f-GAN Gaussian fit, conjugates, variational bounds",
                       description=f"The lecture's identities as numbers and pictures. SPEC: {SPEC_HELP}.")
    p.set_defaults(func=_missing)
    tsub = p.add_subparsers(dest="theory_command", metavar="SUBCOMMAND", parser_class=type(p))

    q = tsub.add_parser("optimal-d", help="train D with G fixed; compare with D* = p_d/(p_d+p_g) and 2·JSD − log 4",
                        description=f"Train D with G fixed. SPEC: {SPEC_HELP}.")
    q.add_argument("--p", metavar="SPEC", help=f"p_data (default '{DEFAULT_DATA}')")
    add_deprecated(q, "--data", "p", "--p", metavar="SPEC")
    q.add_argument("--q", metavar="SPEC", help=f"p_g, fixed (default '{DEFAULT_GEN}')")
    add_deprecated(q, "--gen", "q", "--q", metavar="SPEC")
    q.add_argument("--method", choices=("grid", "samples"), default="grid",
                   help="exact expectations on a grid (default) or minibatches of samples")
    q.add_argument("--steps", type=int, default=1000, help="Adam steps (default 1000)")
    _common(q)
    add_threads(q)
    q.set_defaults(func=_optimal_d)

    q = tsub.add_parser("fgan-fit", help="f-GAN section 4: fit N(mu, sigma) to a mixture; compare with the exact optimum",
                        description=f"Fit Q = N(mu, sigma^2) to P by minimising D_f(P||Q). SPEC: {SPEC_HELP}.")
    q.add_argument("--p", metavar="SPEC", help=f"P, the target (default '{DEFAULT_TARGET}')")
    add_deprecated(q, "--target", "p", "--p", metavar="SPEC")
    q.add_argument("--divergence", default="all", metavar="NAME", help="a divergence name or all (default)")
    q.add_argument("--steps", type=int, default=None, help="generator steps (default 1500; jeffrey 2500)")
    q.add_argument("--expectation", choices=("grid", "samples"), default="grid",
                   help="exact expectations on a grid (default) or minibatches as in the paper (slower)")
    _common(q)
    add_threads(q)
    q.set_defaults(func=_fgan_fit)

    q = tsub.add_parser("conjugate", help="plot f and f*, check f** = f numerically")
    _divergence(q, "kl", "divergence (default kl)")
    _common(q, progress=False)
    add_threads(q)
    q.set_defaults(func=_conjugate)

    q = tsub.add_parser("variational", help="estimate D_f(P||Q) from below by training only the critic",
                        description=f"Estimate D_f(P||Q) from below by training the critic. SPEC: {SPEC_HELP}.")
    q.add_argument("--p", required=True, metavar="SPEC", help="P")
    q.add_argument("--q", required=True, metavar="SPEC", help="Q")
    _divergence(q, "kl", "divergence or all (default kl)")
    q.add_argument("--steps", type=int, default=1000, help="critic steps (default 1000)")
    _common(q)
    add_threads(q)
    q.set_defaults(func=_variational)


def _bar(items: list, desc: str, args: argparse.Namespace) -> Any:
    """``items`` with a bar on stderr naming the current one (off under --no-progress/--json or off a terminal)."""
    progress = progress_arg(args)
    bar = tqdm(items, desc=desc, unit="divergence", leave=False, file=sys.stderr,
               disable=None if progress is None else not progress)
    for item in bar:
        bar.set_postfix_str(getattr(item, "name", str(item)))
        yield item


def _missing(args: argparse.Namespace) -> int:
    raise GankitError("gankit theory needs a subcommand: optimal-d, fgan-fit, conjugate or variational")


def _finish(args: argparse.Namespace, plot: Path | None, payload: dict, lines: list[str], indent: str = "") -> int:
    """Print ``payload`` (``--json``) or ``lines`` and where the picture went."""
    if args.json:
        print_json(json_numbers(payload))
    else:
        print("\n".join(lines + ([f"{indent}picture: {plot}"] if plot else [])))
    return 0


def _optimal_d(args: argparse.Namespace) -> int:
    P, G = (parse_spec(args.p or DEFAULT_DATA, spelled(args, "p", "--p")),
            parse_spec(args.q or DEFAULT_GEN, spelled(args, "q", "--q")))
    _positive("--steps", args.steps)
    plot = _plot_path(args.output)
    torch.set_num_threads(1)
    r = optimal_discriminator(P, G, method=args.method, steps=args.steps, seed=args.seed, progress=progress_arg(args))
    if plot:
        plot_optimal_d(r, P, G, str(plot))
    return _finish(args, plot, r.to_dict(), [
        f"p_data = {r.data}; p_g = {r.gen} (fixed); D trained {r.steps} steps ({r.method}), {r.seconds:.1f} s",
        f"on [{r.region[0]:.3f}, {r.region[1]:.3f}] (99% of the mass of (p_d+p_g)/2):",
        f"  max |D - D*| = {r.max_abs_error:.5f}   mean |D - D*| = {r.mean_abs_error:.5f}",
        f"  V(G, D) = {r.value:.6f}   2*JSD - log 4 = {r.value_star:.6f}   |difference| = {r.value_error:.2e}"
        f"   (JSD = {r.jsd:.6f})"], indent="  ")


def _fgan_fit(args: argparse.Namespace) -> int:
    P = parse_spec(args.p or DEFAULT_TARGET, spelled(args, "p", "--p"))
    if args.steps is not None:
        _positive("--steps", args.steps)
    plot = _plot_path(args.output)
    torch.set_num_threads(1)
    steps = {} if args.steps is None else {"steps": args.steps}
    names = divergence_names() if args.divergence == "all" else [args.divergence]
    [get_divergence(n) for n in names]  # every name checked before any work
    rows = []
    for name in _bar(names, "f-GAN fit", args):
        rows += fit_table(P, name, expectation=args.expectation, seed=args.seed, **steps)
    if plot:
        plot_fits(P, rows, str(plot))
    payload = {"target": P.spec(), "direction": "D_f(P||Q), P = target, Q = N(mu, sigma^2)",
               "steps": args.steps or "default", "expectation": args.expectation,
               "divergences": {r.divergence: r.to_dict() for r in rows}}
    table = format_table([{"divergence": r.divergence, "D_f(P||Q*)": r.d_f_star, "bound F": r.bound, "mu*": r.mu_star,
                           "mu": r.mu, "sigma*": r.sigma_star, "sigma": r.sigma, "error": r.error, "s": r.seconds,
                           "note": r.note} for r in rows])
    return _finish(args, plot, payload, [f"P = {P.spec()}; Q = N(mu, sigma^2); each row minimises D_f(P||Q) (P = target)",
                                         table])


def _conjugate(args: argparse.Namespace) -> int:
    plot = _plot_path(args.output)
    r = check_biconjugate(args.divergence)
    if plot:
        plot_conjugate(r, str(plot))
    return _finish(args, plot, r.to_dict(), [
        f"{r.name}: f(u) = {r.formula}, dom f* = {r.domain}",
        f"max |f**(u) - f(u)| over {len(r.u)} points of u in [{r.u_range[0]:g}, {r.u_range[1]:g}]: "
        f"{r.max_abs_error:.3e}"])


def _variational(args: argparse.Namespace) -> int:
    P, Q = parse_spec(args.p, "--p"), parse_spec(args.q, "--q")
    _positive("--steps", args.steps)
    plot = _plot_path(args.output)
    names = divergence_names() if args.divergence == "all" else [args.divergence]
    divs = [get_divergence(n) for n in names]
    torch.set_num_threads(1)
    results = [variational_estimate(d, P, Q, steps=args.steps, seed=args.seed) for d in _bar(divs, "critic", args)]
    if plot:
        plot_variational(results, str(plot))
    table = format_table([{"name": r.divergence, "bound": r.bound, "stderr": r.stderr,
                           "bound (quadrature)": r.bound_quadrature, "exact": r.exact, "s": r.seconds} for r in results])
    return _finish(args, plot, {"p": P.spec(), "q": Q.spec(), "divergences": {r.divergence: r.to_dict() for r in results}},
                   [f"P = {P.spec()}, Q = {Q.spec()}: variational lower bound (held-out Monte Carlo ± stderr) vs exact",
                    table])
