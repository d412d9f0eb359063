"""``gankit eval RUN_DIR [--json]``: score the newest checkpoint of a run."""

from __future__ import annotations

import argparse

from ..errors import GankitError
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
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ..metrics.evaluate import evaluate_discriminator, final_evaluate
    from ..train.run import load_run

    built, state = load_run(args.run_dir, warn=warn)
    cfg = built.cfg
    n = args.n if args.n is not None else cfg.eval.n_samples
    seed = args.seed if args.seed is not None else cfg.eval.seed
    if n < 1:
        raise GankitError(f"-n must be >= 1, got {n}")
    ev = replace(cfg.eval, n_samples=n, w1_samples=min(cfg.eval.w1_samples, n), seed=seed)
    if args.polarity is not None or args.hpd is not None or args.drs is not None:  # a sampler named here replaces the run's
        named = {"polarity": 0.0 if args.polarity is None else args.polarity,
                 "hpd": 1.0 if args.hpd is None else args.hpd, "drs": 0 if args.drs is None else args.drs}
        from ..sampling import check_sampler

        check_sampler(named["polarity"], ev.polarity_pool, named["hpd"], named["drs"])
        ev = replace(ev, **named)
    from pathlib import Path

    from ..sampling import RATIO_FILE

    metrics = final_evaluate(built.G, built.source, ev, test=built.eval_source,
                             ratio_cache=Path(args.run_dir) / RATIO_FILE)  # the run's classifier where it matches
    from ..models.vae import is_vae

    if is_vae(built.G, built.D):  # ELBO, reconstruction NLL and KL on n data draws (gankit.train.vae_trainer)
        from ..train.vae_trainer import vae_eval_fn

        metrics.update(vae_eval_fn(built.source, n, seed, "cpu")(built))
    else:  # WGAN critics: their W1 estimate and Lipschitz constant next to the exact w1
        metrics.update(evaluate_discriminator(built.objective, built.D, built.G, built.source,
                                              replace(cfg.eval, w1_samples=min(cfg.eval.w1_samples, n), seed=seed)))
    out = {"run_dir": str(args.run_dir), "step": int(state["step"]), "data": cfg.data.name,
           "objective": cfg.model.name if is_vae(built.G, built.D) else cfg.objective.name, "n_samples": n, **metrics}
    if args.json:
        print_json(out)
    else:
        for k, v in out.items():
            print(f"{k:>14}: {v:.4g}" if isinstance(v, float) else f"{k:>14}: {v}")
    return 0
