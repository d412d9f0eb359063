"""Digits benchmark: GANs and classical generative models scored by the same image metrics.

Rows: the training split itself (the real-vs-real reference), ns-GAN with the image defaults
of ``gankit train --data digits``, WGAN-GP (when the objective is registered), a Gaussian
mixture (10 full-covariance components) and Gaussian naive Bayes from
:mod:`gankit.classic`, and a VAE (:func:`vae_row`, when available). Every model is fitted
on the digits training split and sampled ``--n`` times (2,500); samples are scored by
:func:`gankit.metrics.images.image_metrics` against the test split: Fréchet distance in the
feature classifier's space with the real-vs-real floor, class coverage, precision/recall
(k = 3) and the Parzen-window log-likelihood of the test split. Classical samples are
clipped to the pixel range [-1, 1] of the data. ``wall_s`` is fit + sample time.

Usage::

    PYTHONPATH=src python benchmarks/digits_suite.py            # table
    PYTHONPATH=src python benchmarks/digits_suite.py --json     # one JSON object
    PYTHONPATH=src python benchmarks/digits_suite.py --steps 500 --rows ns,gmm
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

import gankit.models  # noqa: F401  (registers every model)
import gankit.objectives  # noqa: F401  (registers every objective)
from gankit.data.images import load_images
from gankit.metrics.images import image_metrics
from gankit.registry import OBJECTIVES

COLS = ["row", "frechet_distance", "frechet_floor", "kid", "kid_floor", "classes_covered", "class_kl", "confident_fraction",
        "precision", "recall", "parzen_ll", "wall_s"]


def gan_samples(objective: str, n: int, steps: int | None, seed: int) -> torch.Tensor:
    """Train a DCGAN with ``objective`` as ``gankit train --data digits`` does (the images preset); ``n`` samples."""
    from gankit.run import build, resolve
    from gankit.sampling import generate
    from gankit.train.trainer import Trainer

    over: dict[str, Any] = {"data.name": "digits", "objective.name": objective, "train.seed": seed,
                            "train.progress": False}
    if steps is not None:
        over["train.steps"] = steps
    cfg = resolve(flags=over).cfg
    b = build(cfg)
    Trainer(b.G, b.D, b.objective, b.source, cfg.train, [], device=b.device).fit()
    return generate(b.G, n, cfg.eval.seed, b.device)


def gmm_samples(train: Any, n: int, seed: int) -> torch.Tensor:
    from gankit.classic import GaussianMixtureModel

    x = GaussianMixtureModel(n_components=10, covariance_type="full", random_state=seed).fit(train.images).sample(n, seed=seed)
    return torch.from_numpy(np.clip(x, -1, 1)).float()  # (n, 1, 8, 8): the fitted shape


def naive_bayes_samples(train: Any, n: int, seed: int) -> torch.Tensor:
    from gankit.classic import GaussianNaiveBayesGenerator

    x, _ = GaussianNaiveBayesGenerator().fit(train.images, train.labels).sample(n, seed=seed)
    return torch.from_numpy(np.clip(x, -1, 1)).float()


def vae_row(train: Any, n: int, seed: int) -> torch.Tensor | None:
    """HOOK for the integrator: ``n`` samples (n, 1, 8, 8) of a VAE fitted on ``train``, or None to skip.

    Uses the API documented on branch ``vae`` (``gankit.vae_api.VAE(...).fit(data).sample(n, seed)``)
    when it can be imported; written before that branch was merged, so untested here.
    """
    try:
        from gankit.vae_api import VAE  # type: ignore[import-not-found]
    except ImportError:
        return None
    vae = VAE(latent_dim=8, steps=2000, seed=seed, progress=False).fit(train)
    return vae.sample(n, seed=seed).float().cpu().clamp(-1, 1)


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    train, test = load_images("digits"), load_images("digits", split="test")
    n, seed = args.n, args.seed
    makers: dict[str, Callable[[], torch.Tensor | None]] = {
        "real": lambda: train.images[torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))],
        "ns": lambda: gan_samples("ns", n, args.steps, seed),
        "wgan-gp": lambda: gan_samples("wgan-gp", n, args.steps, seed),
        "gmm": lambda: gmm_samples(train, n, seed),
        "naive_bayes": lambda: naive_bayes_samples(train, n, seed),
        "vae": lambda: vae_row(train, n, seed),
    }
    wanted = args.rows.split(",") if args.rows else list(makers)
    rows = []
    for name in wanted:
        if name not in makers and name in OBJECTIVES:  # any registered objective: a DCGAN row as for ns
            makers[name] = lambda name=name: gan_samples(name, n, args.steps, seed)
        if name not in makers:
            raise SystemExit(f"unknown row {name!r}; known: {', '.join(makers)} or an objective name")
        if name == "wgan-gp" and "wgan-gp" not in OBJECTIVES:
            print(f"# skipped wgan-gp: objective not registered (known: {OBJECTIVES.known()})", file=sys.stderr)
            continue
        t0 = time.perf_counter()
        samples = makers[name]()
        wall = time.perf_counter() - t0
        if samples is None:
            print(f"# skipped {name}: gankit.vae_api.VAE is not available (see vae_row())", file=sys.stderr)
            continue
        m = image_metrics(samples, train, test, seed=12345)
        if name == "real":  # its kernels would include the validation images; the floor is the real-data value
            m["parzen_ll"] = m["parzen_floor"]
        rows.append({"row": name, **m, "wall_s": round(wall, 2)})
        print(f"# {name} done in {wall:.1f} s", file=sys.stderr)
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=2500, help="samples per model (default 2500)")
    p.add_argument("--steps", type=int, default=None, help="GAN steps (default: the image default)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rows", default="", help="comma-separated subset of: real,ns,wgan-gp,gmm,naive_bayes,vae, "
                                               "or any objective name (lsgan, relativistic, ...)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    rows = run(args)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    prov = {k: rows[0][k] for k in ("feature_net", "fd_samples", "fd_reference", "classifier_accuracy")} if rows else {}
    if args.json:
        print(json.dumps({"rows": rows, "provenance": prov, "load1": load, "threads": 1}))
        return 0
    print(f"digits, {args.n} samples per model; feature net {prov.get('feature_net')} (test accuracy "
          f"{prov.get('classifier_accuracy', float('nan')):.3f}), FD on {prov.get('fd_samples')} samples vs "
          f"{prov.get('fd_reference')}; load average {load:.1f}")
    cells = [[f"{r.get(c):.4g}" if isinstance(r.get(c), float) else str(r.get(c, "")) for c in COLS] for r in rows]
    widths = [max(len(c), *(len(x[i]) for x in cells)) for i, c in enumerate(COLS)]
    print("| " + " | ".join(c.ljust(w) for c, w in zip(COLS, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for x in cells:
        print("| " + " | ".join(v.ljust(w) for v, w in zip(x, widths)) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
