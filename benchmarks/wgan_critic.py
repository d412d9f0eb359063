"""The WGAN critic as an estimator of W1: critic estimate vs exact W1.

Part 1 (``--part gaussians``): P = N(0, 1), Q = N(μ, 1), exact W1 = |μ|. Only the critic is
trained (G fixed); then E_P[D] − E_Q[D] is measured on 50,000 fresh samples per side.
Critics: weight clipping (c = 0.01; raw estimate, measured Lipschitz constant K = max
gradient norm on interpolates, estimate / K), gradient penalty λ = 10 two-sided and
one-sided (raw estimate), and the penalised optimum predicted by quadrature,
W1 + ∫ h²/(2λρ) (h = F_P − F_Q, ρ the density of interpolates).

Part 2 (``--part ring8``): a WGAN-GP / WGAN run on ring8; at each evaluation the critic's
estimate on the evaluation samples next to the exact W1 of those samples (POT).

Usage::

    PYTHONPATH=src python benchmarks/wgan_critic.py --part gaussians
    PYTHONPATH=src python benchmarks/wgan_critic.py --part ring8 --steps 1000 --eval-every 200
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import numpy as np
import torch
from scipy import integrate, stats

from gankit.config import RunConfig, apply_overrides
from gankit.models.mlp import MLPDiscriminator
from gankit.objectives.defaults import with_objective_defaults
from gankit.objectives.wgan import WGAN, WGANGP, critic_report
from gankit.run import Run


def gp_prediction(mu: float, lam: float) -> float:
    x = np.linspace(-12.0, 12.0 + mu, 12001)
    h = stats.norm.cdf(x) - stats.norm.cdf(x - mu)
    e = np.linspace(0.0, 1.0, 1001)[:, None]
    rho = integrate.trapezoid(stats.norm.pdf(x[None], (1 - e) * mu, np.sqrt(e**2 + (1 - e) ** 2)), e[:, 0], axis=0)
    return float(integrate.trapezoid(h + h**2 / (2 * lam * rho), x))


def train_critic(kind: str, mu: float, seed: int, steps: int) -> dict[str, float]:
    torch.manual_seed(seed)
    D = MLPDiscriminator((1,), 64, 2)
    if kind == "clip":
        obj = WGAN(0.01)
        obj.after_discriminator_step(D)
        opt = torch.optim.RMSprop(D.parameters(), lr=5e-4)
    else:
        obj = WGANGP(10.0, one_sided=(kind == "gp1"))
        opt = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.9))
    gen = torch.Generator().manual_seed(seed + 1000)
    for _ in range(steps):
        real, fake = torch.randn(256, 1, generator=gen), torch.randn(256, 1, generator=gen) + mu
        loss, _ = obj.discriminator_loss(D, real, fake)
        opt.zero_grad()
        loss.backward()
        opt.step()
        obj.after_discriminator_step(D)
    real, fake = torch.randn(50_000, 1, generator=gen), torch.randn(50_000, 1, generator=gen) + mu
    return critic_report(D, real, fake)


def part_gaussians(seeds: int, steps: int) -> None:
    print(f"Critic trained alone for {steps} steps (batch 256, MLP 2x64 ReLU), {seeds} seeds, mean ± std;")
    print("clip: RMSProp 5e-4, c = 0.01; gp: Adam 1e-3 β (0.5, 0.9), λ = 10.\n")
    print("| μ = W1 | clip: estimate | clip: K | clip: estimate/K | gp two-sided | gp one-sided | predicted gp optimum |")
    print("|---|---|---|---|---|---|---|")
    for mu in (0.25, 0.5, 1.0, 2.0, 4.0):
        rows = {k: [train_critic(k, mu, s, steps) for s in range(seeds)] for k in ("clip", "gp2", "gp1")}

        def ms(kind: str, key: str, fmt: str = ".3f", rows: dict = rows) -> str:
            v = np.array([r[key] for r in rows[kind]])
            return f"{v.mean():{fmt}} ± {v.std():{fmt}}"

        print(f"| {mu:g} | {ms('clip', 'critic_estimate', '.2e')} | {ms('clip', 'critic_lipschitz', '.2e')} | "
              f"{ms('clip', 'critic_estimate_normalized')} | {ms('gp2', 'critic_estimate')} | "
              f"{ms('gp1', 'critic_estimate')} | {gp_prediction(mu, 10.0):.3f} |", flush=True)
    print("\ngp two-sided per seed (sign flips = the spurious optimum):")
    for mu in (1.0,):
        print(mu, [round(train_critic("gp2", mu, s, steps)["critic_estimate"], 3) for s in range(seeds)])


def part_ring8(objective: str, steps: int, eval_every: int, seed: int, width: int) -> None:
    cfg = apply_overrides(RunConfig(), {"objective.name": objective, "data.name": "ring8", "train.steps": steps,
                                        "train.eval_every": eval_every, "train.seed": seed, "train.progress": False,
                                        "model.g_width": width, "model.d_width": width})
    cfg = with_objective_defaults(cfg, {"train.steps", "train.eval_every", "train.seed", "train.progress"})
    t = cfg.train
    print(f"\n{objective} on ring8, seed {seed}, MLP 3x{width}, {t.optimizer} lr {t.lr_d:g}, d_steps {t.d_steps}, "
          f"batch {t.batch_size}; evaluation on {cfg.eval.w1_samples} samples per side\n")
    print("| step | exact W1 (POT) | critic estimate | critic K | estimate / K | modes | high quality |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as d:
        Run(cfg, f"{d}/run").fit(pictures=False)
        for line in open(f"{d}/run/history.jsonl"):
            r = json.loads(line)
            print(f"| {r['step']} | {r['w1']:.3f} | {r['critic_estimate']:.3g} | {r['critic_lipschitz']:.3g} | "
                  f"{r['critic_estimate_normalized']:.3f} | {r['modes']:g} | {r['high_quality']:.3f} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("gaussians", "ring8"), default="gaussians")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--objective", default="wgan-gp")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--width", type=int, default=128)
    args = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    if args.part == "gaussians":
        part_gaussians(args.seeds, args.steps)
    else:
        part_ring8(args.objective, args.steps, args.eval_every, args.seed, args.width)
    print(f"\n({time.perf_counter() - t0:.0f} s wall, 1 torch thread)")


if __name__ == "__main__":
    main()
