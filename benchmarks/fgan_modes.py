"""Mode covering against mode seeking, measured: KL vs reverse KL, Pearson vs Neyman (docs/theory.md).

Two views of the same four divergences D_f(P‖Q), P = data, Q = model:

1. **Exact, 1-D.** ``argmin_{μ,σ} D_f(P‖N(μ, σ²))`` on a bimodal mixture (quadrature and
   Nelder–Mead, :func:`gankit.theory.fgan_fit.exact.exact_fit`): KL and Pearson stretch one
   Gaussian over both modes, reverse KL and Neyman sit on one.
2. **Trained GANs.** ``gankit train --preset compare --objective fgan:NAME`` (only the objective
   changed) on the same 1-D mixture and on ring8; what each generator puts between the modes.

Usage::

    PYTHONPATH=src python benchmarks/fgan_modes.py --work runs/fgan-modes --figure docs/fgan-modes.png --json out.json

Runs already in ``--work`` are reused (a finished run directory holds ``metrics.json``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from gankit.data.toy import parse_mixture
from gankit.errors import TrainingDiverged
from gankit.report.plots import new_figure, save_figure
from gankit.run import Run
from gankit.run.presets import resolve
from gankit.theory.fgan_fit.exact import exact_fit, gaussian

PAIRS = (("kl", "reverse_kl"), ("pearson", "neyman"))
NAMES = [n for pair in PAIRS for n in pair]
TARGET = "0.5*N(-2,0.4) + 0.5*N(2,0.4)"


def train(name: str, data: str, seed: int, work: Path) -> Path | None:
    """A run of ``fgan:NAME`` on ``data`` with the compare preset (the finished one already in ``work``); None if it diverged."""
    tag = "mixture" if "N(" in data else data
    out = work / f"{name}-{tag}-seed{seed}"
    if not (out / "metrics.json").is_file():
        cfg = resolve(preset="compare", flags={"objective.name": f"fgan:{name}", "data.name": data,
                                              "train.seed": seed}).cfg
        t0 = time.time()
        try:
            Run(cfg, out).fit(progress=False, pictures=False)
        except TrainingDiverged as exc:
            print(f"fgan:{name} on {tag}: {exc}", file=sys.stderr)
            return None
        print(f"trained fgan:{name} on {tag} in {time.time() - t0:.0f} s", file=sys.stderr)
    return out


def between_modes_1d(x: np.ndarray, p) -> float:
    """Share of samples farther than 3 standard deviations from every component's mean."""
    means, stds = np.asarray(p.means), np.asarray(p.stds)
    far = np.abs(x[:, None] - means[None, :]) > 3 * stds[None, :]
    return float(far.all(1).mean())


def measure(work: Path, seed: int, n: int) -> dict:
    p = parse_mixture(TARGET)
    out: dict = {"target": TARGET, "seed": seed, "threads": torch.get_num_threads(), "exact": {}, "mixture": {},
                 "ring8": {}}
    for name in NAMES:
        mu, sigma, _ = exact_fit(name, p)
        out["exact"][name] = {"mu": mu, "sigma": sigma}
        mix = train(name, TARGET, seed, work)
        x = Run.load(mix).sample(n, seed=seed).numpy().ravel() if mix else np.zeros(0)
        out["mixture"][name] = {"diverged": mix is None, "samples": x.tolist(),
                                **({"between_modes": between_modes_1d(x, p), "left_share": float((x < 0).mean())}
                                   if mix else {})}
        ring = train(name, "ring8", seed, work)
        m = json.loads((ring / "metrics.json").read_text()) if ring else {}
        out["ring8"][name] = {"diverged": ring is None, **{k: m.get(k) for k in ("modes", "high_quality", "w1")},
                              "samples": Run.load(ring).sample(n, seed=seed).numpy().tolist() if ring else []}
    return out


def draw(res: dict, path: Path) -> None:
    p = parse_mixture(res["target"])
    fig = new_figure((13, 6.2))
    axes = fig.subplots(2, 4)
    x = np.linspace(-4.5, 4.5, 600)
    for j, name in enumerate(NAMES):
        ax = axes[0, j]
        ax.fill_between(x, p.pdf(x), color="0.85", label="data P")
        e = res["exact"][name]
        ax.plot(x, gaussian(e["mu"], e["sigma"]).pdf(x), "C3", lw=1.5, label="argmin over Gaussians")
        ax.hist(res["mixture"][name]["samples"], bins=120, range=(-4.5, 4.5), density=True, histtype="step",
                color="C0", label="trained GAN")
        mix = res["mixture"][name]
        ax.set_title(f"{name}: diverged" if mix["diverged"] else
                     f"{name}: {100 * mix['between_modes']:.1f} % between modes", fontsize=9)
        ax.legend(fontsize=6)
        ax = axes[1, j]
        s, r = np.asarray(res["ring8"][name]["samples"]).reshape(-1, 2), res["ring8"][name]
        ax.scatter(s[:, 0], s[:, 1], s=1, alpha=0.4)
        ax.set_aspect("equal")
        ax.set_xlim(-1.5, 1.5)
        ax.set_ylim(-1.5, 1.5)
        ax.set_title(f"ring8 fgan:{name}: diverged" if r["diverged"] else
                     f"ring8 fgan:{name}: {r['modes']:.0f} modes, {100 * r['high_quality']:.1f} % HQ", fontsize=9)
    fig.suptitle("D_f(P‖Q): KL and Pearson cover the modes, reverse KL and Neyman seek them", fontsize=11)
    save_figure(fig, path, dpi=90)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("runs/fgan-modes"), help="run directories (reused)")
    ap.add_argument("--figure", type=Path, default=None, help="write the figure here (PNG)")
    ap.add_argument("--json", type=Path, default=None, help="write the numbers here")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-n", type=int, default=2500, help="samples per generator")
    args = ap.parse_args()
    torch.set_num_threads(1)
    res = measure(args.work, args.seed, args.n)
    if args.figure:
        draw(res, args.figure)
    table = {k: {n: {kk: vv for kk, vv in v.items() if kk != "samples"} for n, v in res[k].items()}
             for k in ("exact", "mixture", "ring8")}
    print(json.dumps(table, indent=1))
    if args.json:
        args.json.write_text(json.dumps({**res, **{"table": table}}))


if __name__ == "__main__":
    main()
