"""Per-step overhead of gankit's trainer against a plain hand-written PyTorch loop.

Both loops train the same models (same seed, so the same initial weights) on the same
batch size with the same optimiser settings, drawing real batches and noise the same way
(``source.sample`` with a generator, ``torch.randn`` with a generator). gankit runs
:meth:`Trainer.fit` with the callbacks a default run uses (History, Checkpointer,
ProgressBar to /dev/null) minus evaluation (``History`` without an evaluate function).
Blocks of ``--steps`` steps alternate (gankit, plain, gankit, plain, ...) ``--repeats`` times
after one warm-up block each, in one process: the plain blocks run from a callback inside
gankit's loop, so gankit's blocks hold only its steps and per-step callbacks. The ratio is
the median over repeats of ``(gankit steps/s) / (plain steps/s)`` of adjacent blocks.

Usage::

    PYTHONPATH=src python benchmarks/overhead.py [--steps 50] [--repeats 7] [--json]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from tempfile import TemporaryDirectory

import torch
import torch.nn.functional as F

from gankit.config import RunConfig, apply_overrides
from gankit.run import build
from gankit.train.callbacks import Checkpointer, History, ProgressBar
from gankit.train.trainer import Callback, Trainer, make_optimizer


class PlainLoop:
    """The loop one writes by hand for the non-saturating GAN (pytorch/examples dcgan style)."""

    def __init__(self, cfg: RunConfig) -> None:
        b = build(cfg)
        self.G, self.D, self.source, self.t = b.G, b.D, b.source, cfg.train
        betas = (self.t.beta1, self.t.beta2)
        self.opt_g = make_optimizer(self.t.optimizer, self.G.parameters(), self.t.lr_g, betas)
        self.opt_d = make_optimizer(self.t.optimizer, self.D.parameters(), self.t.lr_d, betas)
        self.data_gen = torch.Generator().manual_seed(self.t.seed)
        self.noise_gen = torch.Generator().manual_seed(self.t.seed + 7919)

    def run(self, n: int) -> None:
        G, D, bs, lat = self.G, self.D, self.t.batch_size, self.G.latent_dim
        d_params = list(D.parameters())
        for _ in range(n):
            real = self.source.sample(bs, self.data_gen)
            with torch.no_grad():
                fake = G(torch.randn(bs, lat, generator=self.noise_gen))
            d_loss = F.softplus(-D(real)).mean() + F.softplus(D(fake)).mean()
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            for p in d_params:
                p.requires_grad_(False)
            g_loss = F.softplus(-D(G(torch.randn(bs, lat, generator=self.noise_gen)))).mean()
            self.opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            self.opt_g.step()
            for p in d_params:
                p.requires_grad_(True)


class Interleave(Callback):
    """Runs inside gankit's loop: every ``n`` steps, closes a timed gankit block and times a plain block.

    The gankit blocks so contain exactly ``n`` steps of :meth:`Trainer.fit` with its per-step
    callbacks, and none of the once-per-run work (start, final record and checkpoint).
    """

    def __init__(self, plain: PlainLoop, n: int, blocks: int) -> None:
        self.plain, self.n, self.blocks = plain, n, blocks
        self.gankit: list[float] = []
        self.plain_rates: list[float] = []
        self.t = 0.0

    def on_train_start(self, trainer: Trainer) -> None:
        self.t = time.perf_counter()

    def on_step_end(self, trainer: Trainer) -> None:
        if trainer.step % self.n:
            return
        self.gankit.append(self.n / (time.perf_counter() - self.t))
        t0 = time.perf_counter()
        self.plain.run(self.n)
        self.plain_rates.append(self.n / (time.perf_counter() - t0))
        self.t = time.perf_counter()


def run_gankit(cfg: RunConfig, folder: Path, plain: PlainLoop, n: int, blocks: int) -> Interleave:
    """:meth:`Trainer.fit` with a default run's callbacks minus evaluation, plus :class:`Interleave`."""
    b = build(cfg)
    history = History(cfg.train.eval_every, None, folder / "history.jsonl")
    inter = Interleave(plain, n, blocks)
    cbs = [history, Checkpointer(folder / "checkpoints", cfg.train.checkpoint_every, 3, extra=dict),
           ProgressBar(history), inter]
    cfg = replace(cfg, train=replace(cfg.train, steps=n * (blocks + 1)))
    trainer = Trainer(b.G, b.D, b.objective, b.source, cfg.train, cbs, device=b.device)
    stderr, sys.stderr = sys.stderr, io.StringIO()  # the progress bar writes here
    try:
        trainer.fit()
    finally:
        sys.stderr = stderr
    return inter


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=50, help="steps per timed block")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = apply_overrides(RunConfig(), ["train.eval_every=500", "train.checkpoint_every=100000"] + args.overrides)
    with TemporaryDirectory() as tmp:
        inter = run_gankit(cfg, Path(tmp), PlainLoop(cfg), args.steps, args.repeats)
    # the first pair warms up both loops
    g_rates, p_rates = inter.gankit[1:], inter.plain_rates[1:]
    ratios = [g / p for g, p in zip(g_rates, p_rates, strict=True)]
    out = {"ratio": statistics.median(ratios), "gankit_steps_per_s": statistics.median(g_rates),
           "plain_steps_per_s": statistics.median(p_rates), "ratios": [round(x, 4) for x in ratios],
           "steps": args.steps, "repeats": args.repeats, "threads": args.threads,
           "batch_size": cfg.train.batch_size, "model": f"mlp {cfg.model.g_depth}x{cfg.model.g_width}",
           "load": Path("/proc/loadavg").read_text().split()[:3]}
    if args.json:
        print(json.dumps(out))
    else:
        print(f"gankit {out['gankit_steps_per_s']:.2f} steps/s, plain {out['plain_steps_per_s']:.2f} steps/s, "
              f"ratio (median of {args.repeats}) {out['ratio']:.3f}; per repeat {out['ratios']}; load {out['load']}")
    return out


if __name__ == "__main__":
    main()
