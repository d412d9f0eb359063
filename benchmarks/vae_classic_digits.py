"""VAE vs classical generative models on scikit-learn's 8x8 digits: held-out log-likelihood (bounds).

Fits on the digits train split (1438 images), scores on the test split (359 images), pixels
in [-1, 1], nats per image. VAE: mean one-draw ELBO (a lower bound on log p(x)) of the test
images; GMM / Gaussian naive Bayes: exact mean log p(x) of the test images; naive Bayes
also classifies (accuracy). ``IWAE`` is the VAE's importance-weighted bound with K = 100
draws (Burda et al., 2016), tighter than the ELBO. One torch thread.

    PYTHONPATH=src .venv/bin/python benchmarks/vae_classic_digits.py --steps 3000 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--latent", type=int, nargs="+", default=[8])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--model", default="vae", help="vae or vae-conv")
    ap.add_argument("--skip-classic", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)

    from gankit import VAE
    from gankit.commands.classic import fit_classic
    from gankit.data.images import load_images

    test = load_images("digits", split="test")
    print(f"load: {os.getloadavg()[0]:.1f} (1-min load average, 2 cores shared)")
    print("model           setting              train ELBO/LL   held-out ELBO/LL   accuracy   wall s   held-out IWAE")
    for latent in args.latent:
        rows = []
        for seed in args.seeds:
            t0 = time.perf_counter()
            vae = VAE(latent_dim=latent, steps=args.steps, seed=seed, progress=False, eval_every=0,
                      model=args.model).fit("digits")
            wall = time.perf_counter() - t0
            rows.append((vae.score(vae.source_, seed=0), vae.score(test, seed=0), wall))
            iwae = vae.log_likelihood(test, k=100, seed=0)
            print(f"{args.model:<15} latent={latent} seed={seed:<3}    {rows[-1][0]:>10.2f}    {rows[-1][1]:>12.2f}"
                  f"            -   {wall:7.1f}   {iwae:10.2f}", flush=True)
        r = np.array(rows)
        if len(rows) > 1:
            print(f"{args.model} (mean±std) latent={latent} n={len(rows)}        {r[:, 0].mean():>7.2f}±{r[:, 0].std():.2f}"
                  f"   {r[:, 1].mean():>9.2f}±{r[:, 1].std():.2f}            -   {r[:, 2].mean():7.1f}")
    if args.skip_classic:
        return
    for model, kw in (("gmm", {"n_components": 10, "covariance_type": "full"}),
                      ("gmm", {"n_components": 10, "covariance_type": "diag"}),
                      ("gmm", {"n_components": 30, "covariance_type": "diag"}),
                      ("naive-bayes", {})):
        t0 = time.perf_counter()
        _, rep = fit_classic(model, "digits", **kw)
        wall = time.perf_counter() - t0
        setting = f"K={kw['n_components']} {kw['covariance_type']}" if kw else "var_smoothing=1e-9"
        acc = f"{rep['test_accuracy']:.4f}" if "test_accuracy" in rep else "     -"
        print(f"{model:<15} {setting:<20} {rep['train_log_likelihood']:>10.2f}    {rep['test_log_likelihood']:>12.2f}"
              f"       {acc}   {wall:7.1f}")


if __name__ == "__main__":
    main()
