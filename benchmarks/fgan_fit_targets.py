"""f-GAN section 4 on several targets: every divergence's learned (μ̂, σ̂) against the exact optimum.

Runs ``gankit theory fgan-fit --divergence all`` (:func:`gankit.theory.fgan_fit.fit_table`,
its defaults) on each target and prints, per target and divergence, the error
``max(|μ̂ − μ*|, |σ̂ − σ*|)`` with PASS (≤ 0.05) or FAIL, then a summary line per target.
The targets vary the weights (equal / unequal), the number of components (1–3), the
separation (overlapping / well separated), the location and the scale; only the first two
were used to tune the defaults.

Usage::

    PYTHONPATH=src python benchmarks/fgan_fit_targets.py                  # all targets
    PYTHONPATH=src python benchmarks/fgan_fit_targets.py --targets 0 3 --json out.json
"""

from __future__ import annotations

import argparse
import json
import math
import time

import torch

from gankit.theory.fgan_fit import fit_table

TOL = 0.05
TARGETS = [
    "0.3*N(-2,0.5) + 0.7*N(1,1)",  # the default: unequal weights, overlapping
    "0.6*N(0,2) + 0.4*N(2.5,0.5)",  # a wide component holding both tails
    "0.5*N(-1.5,0.6) + 0.5*N(1.5,0.8)",  # equal weights, two modes (optimal-d's default)
    "0.2*N(-3,0.4) + 0.5*N(0,0.7) + 0.3*N(2.5,0.5)",  # three components
    "0.75*N(-3,1) + 0.25*N(3,1)",  # well separated, unequal weights
    "0.5*N(10,2) + 0.5*N(16,4)",  # far from 0, large scale
    "0.4*N(-0.1,0.05) + 0.6*N(0.15,0.1)",  # small scale
    "0.9*N(0,1) + 0.1*N(2,3)",  # skewed: a light heavy tail
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", type=int, nargs="*", help="indices into TARGETS (default: all)")
    ap.add_argument("--names", default="all", help="divergences, comma separated, or all")
    ap.add_argument("--steps", type=int, default=None, help="generator steps (default: fit_table's, 1500; jeffrey 2500)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", metavar="FILE", help="write every row here")
    args = ap.parse_args()
    torch.set_num_threads(1)
    names = "all" if args.names == "all" else args.names.split(",")
    out = {}
    for i in args.targets if args.targets is not None else range(len(TARGETS)):
        target = TARGETS[i]
        t0, c0 = time.perf_counter(), time.process_time()
        rows = fit_table(target, names, seed=args.seed, **({} if args.steps is None else {"steps": args.steps}))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"\n[{i}] P = {target}   ({cpu:.0f} s CPU, {wall:.0f} s wall)")
        print(f"  {'divergence':16s} {'error':>8s}  {'mu*':>8s} {'mu':>8s} {'sigma*':>8s} {'sigma':>8s}"
              f"  {'D_f(Q*)':>9s} {'D_f(Q)':>9s} {'bound':>9s}  note")
        for r in rows:
            ok = "PASS" if r.error <= TOL else "FAIL"
            print(f"  {r.divergence:16s} {r.error:8.4f} {ok} {r.mu_star:8.4f} {r.mu:8.4f} {r.sigma_star:8.4f}"
                  f" {r.sigma:8.4f}  {r.d_f_star:9.5f} {r.d_f_learned:9.5f} {r.bound:9.5f}  {r.note}")
        n_ok = sum(r.error <= TOL for r in rows)
        worst = max(rows, key=lambda r: r.error if math.isfinite(r.error) else math.inf)
        print(f"  -> {n_ok}/{len(rows)} within {TOL}; worst {worst.divergence} {worst.error:.4f}", flush=True)
        out[target] = {"cpu_s": cpu, "wall_s": wall, "rows": [r.to_dict() for r in rows]}
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1, default=str)


if __name__ == "__main__":
    main()
