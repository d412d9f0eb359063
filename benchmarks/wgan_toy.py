"""Short toy comparison of the Wasserstein-family objectives on ring8 and grid25.

Every objective trains with its own defaults (``Objective.defaults``: RMSProp 5e-5 and 5
critic steps for wgan; Adam 1e-4 β (0.5, 0.9) and 5 critic steps for wgan-gp; the
TrainConfig defaults for ns and hinge), for the same number of generator steps, and is
scored by the PacGAN definitions on 2,500 samples plus the exact W1 (1,000 vs 1,000).
Prints a markdown table, mean ± std over seeds. This is a *short* run, not the paper
protocol; ``benchmarks/toy_suite.py`` is the full suite.

Usage::

    PYTHONPATH=src python benchmarks/wgan_toy.py --steps 500 --seeds 3 --width 128
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import torch

from gankit.config import RunConfig, apply_overrides
from gankit.objectives.defaults import with_objective_defaults
from gankit.run import Run

VARIANTS = {  # label -> (objective, extra overrides)
    "ns": ("ns", {}),
    "wgan": ("wgan", {}),
    "wgan-gp": ("wgan-gp", {}),
    "hinge": ("hinge", {}),
    "hinge + SN": ("hinge", {"model.spectral_norm": True}),
}


def one_run(data: str, label: str, seed: int, steps: int, width: int) -> dict:
    objective, extra = VARIANTS[label]
    over = {"data.name": data, "objective.name": objective, "train.steps": steps, "train.seed": seed,
            "train.eval_every": 0, "train.progress": False, "train.checkpoint_every": 0,
            "model.g_width": width, "model.d_width": width, **extra}
    cfg = with_objective_defaults(apply_overrides(RunConfig(), over), explicit=set(over))
    with tempfile.TemporaryDirectory() as d:
        return Run(cfg, f"{d}/run").fit(pictures=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--data", nargs="+", default=["ring8", "grid25"])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS))
    args = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    print(f"{args.steps} generator steps, seeds 0..{args.seeds - 1}, MLP 3x{args.width}, batch 256, "
          f"each objective with its defaults; mean ± std over seeds\n")
    print("| data | objective | modes | high quality | reverse KL | W1 | critic estimate | wall s / run |")
    print("|---|---|---|---|---|---|---|---|")
    for data in args.data:
        for label in args.variants:
            rs = [one_run(data, label, s, args.steps, args.width) for s in range(args.seeds)]

            def ms(key: str, fmt: str = ".2f", rs: list = rs) -> str:
                v = np.array([np.nan if r.get(key) is None else r[key] for r in rs], dtype=float)
                if np.isnan(v).all():
                    return "–"
                return f"{np.nanmean(v):{fmt}} ± {np.nanstd(v):{fmt}}"

            print(f"| {data} | {label} | {ms('modes', '.1f')} | {ms('high_quality')} | {ms('reverse_kl')} | "
                  f"{ms('w1', '.3f')} | {ms('critic_estimate', '.3g')} | {ms('wall_time', '.0f')} |", flush=True)
    print(f"\n({time.perf_counter() - t0:.0f} s wall, 1 torch thread)")


if __name__ == "__main__":
    main()
