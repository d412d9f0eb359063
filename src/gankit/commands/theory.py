"""``gankit theory <sub>``: the lecture's identities as numbers and pictures.

``optimal-d`` (D* and V = 2·JSD − log 4), ``fgan-fit`` (f-GAN section 4), ``conjugate``
(f** = f), ``variational`` (a divergence estimated from below by training the critic).
Every subcommand has ``--json`` and ``--plot FILE.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from ..divergences import divergence_names, get_divergence
from ..errors import GankitError
from ..theory.conjugate import check_biconjugate, plot_conjugate
from ..theory.fgan_fit import DEFAULT_TARGET, fit_table, plot_fits
from ..theory.optimal_d import DEFAULT_DATA, DEFAULT_GEN, optimal_discriminator, plot_optimal_d
from ..theory.variational import plot_variational, variational_estimate
from .common import format_table, print_json
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
        raise GankitError(f"--plot file {path!r} must end in .png")
    if not p.parent.exists():
        raise GankitError(f"folder {str(p.parent)!r} of the --plot file does not exist")
    return p


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("theory", help="theory lab: optimal D, f-GAN Gaussian fit, conjugates, variational bounds")
    p.set_defaults(func=_missing)
    tsub = p.add_subparsers(dest="theory_command", metavar="SUBCOMMAND", parser_class=type(p))

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--json", action="store_true", help="print one JSON object (infinite values as \"inf\")")
        q.add_argument("--plot", metavar="FILE.png", help="save a picture")
        q.add_argument("--seed", type=int, default=0)

    q = tsub.add_parser("optimal-d", help="train D with G fixed; compare with D* = p_d/(p_d+p_g) and 2·JSD − log 4")
    q.add_argument("--data", metavar="SPEC", help="p_data (default '0.5*N(-1.5,0.6) + 0.5*N(1.5,0.8)')")
    q.add_argument("--gen", metavar="SPEC", help="p_g, fixed (default 'N(0,1.5)')")
    q.add_argument("--method", choices=("grid", "samples"), default="grid",
                   help="exact expectations on a grid (default) or minibatches of samples")
    q.add_argument("--steps", type=int, default=1000, help="Adam steps (default 1000)")
    common(q)
    q.set_defaults(func=_optimal_d)

    q = tsub.add_parser("fgan-fit", help="f-GAN section 4: fit N(mu, sigma) to a mixture; compare with the exact optimum")
    q.add_argument("--target", metavar="SPEC", help="P (default '0.3*N(-2,0.5) + 0.7*N(1,1)')")
    q.add_argument("--divergence", default="all", metavar="NAME", help="a divergence name or all (default)")
    q.add_argument("--steps", type=int, default=None, help="generator steps (default 1500; jeffrey 2500)")
    q.add_argument("--expectation", choices=("grid", "samples"), default="grid",
                   help="exact expectations on a grid (default) or minibatches as in the paper (slower)")
    common(q)
    q.set_defaults(func=_fgan_fit)

    q = tsub.add_parser("conjugate", help="plot f and f*, check f** = f numerically")
    q.add_argument("--name", default="kl", metavar="NAME", help="divergence (default kl)")
    common(q)
    q.set_defaults(func=_conjugate)

    q = tsub.add_parser("variational", help="estimate D_f(P||Q) from below by training only the critic")
    q.add_argument("--p", required=True, metavar="SPEC")
    q.add_argument("--q", required=True, metavar="SPEC")
    q.add_argument("--name", default="kl", metavar="NAME", help="divergence or all (default kl)")
    q.add_argument("--steps", type=int, default=1000, help="critic steps (default 1000)")
    common(q)
    q.set_defaults(func=_variational)


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
    P, G = parse_spec(args.data or DEFAULT_DATA, "--data"), parse_spec(args.gen or DEFAULT_GEN, "--gen")
    _positive("--steps", args.steps)
    plot = _plot_path(args.plot)
    torch.set_num_threads(1)
    r = optimal_discriminator(P, G, method=args.method, steps=args.steps, seed=args.seed)
    if plot:
        plot_optimal_d(r, P, G, str(plot))
    return _finish(args, plot, r.to_dict(), [
        f"p_data = {r.data}; p_g = {r.gen} (fixed); D trained {r.steps} steps ({r.method}), {r.seconds:.1f} s",
        f"on [{r.region[0]:.3f}, {r.region[1]:.3f}] (99% of the mass of (p_d+p_g)/2):",
        f"  max |D - D*| = {r.max_abs_error:.5f}   mean |D - D*| = {r.mean_abs_error:.5f}",
        f"  V(G, D) = {r.value:.6f}   2*JSD - log 4 = {r.value_star:.6f}   |difference| = {r.value_error:.2e}"
        f"   (JSD = {r.jsd:.6f})"], indent="  ")


def _fgan_fit(args: argparse.Namespace) -> int:
    P = parse_spec(args.target or DEFAULT_TARGET, "--target")
    if args.steps is not None:
        _positive("--steps", args.steps)
    plot = _plot_path(args.plot)
    torch.set_num_threads(1)
    steps = {} if args.steps is None else {"steps": args.steps}
    rows = fit_table(P, args.divergence, expectation=args.expectation, seed=args.seed, **steps)
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
    plot = _plot_path(args.plot)
    r = check_biconjugate(args.name)
    if plot:
        plot_conjugate(r, str(plot))
    return _finish(args, plot, r.to_dict(), [
        f"{r.name}: f(u) = {r.formula}, dom f* = {r.domain}",
        f"max |f**(u) - f(u)| over {len(r.u)} points of u in [{r.u_range[0]:g}, {r.u_range[1]:g}]: "
        f"{r.max_abs_error:.3e}"])


def _variational(args: argparse.Namespace) -> int:
    P, Q = parse_spec(args.p, "--p"), parse_spec(args.q, "--q")
    _positive("--steps", args.steps)
    plot = _plot_path(args.plot)
    names = divergence_names() if args.name == "all" else [args.name]
    divs = [get_divergence(n) for n in names]
    torch.set_num_threads(1)
    results = [variational_estimate(d, P, Q, steps=args.steps, seed=args.seed) for d in divs]
    if plot:
        plot_variational(results, str(plot))
    table = format_table([{"name": r.divergence, "bound": r.bound, "stderr": r.stderr,
                           "bound (quadrature)": r.bound_quadrature, "exact": r.exact, "s": r.seconds} for r in results])
    return _finish(args, plot, {"p": P.spec(), "q": Q.spec(), "divergences": {r.divergence: r.to_dict() for r in results}},
                   [f"P = {P.spec()}, Q = {Q.spec()}: variational lower bound (held-out Monte Carlo ± stderr) vs exact",
                    table])
