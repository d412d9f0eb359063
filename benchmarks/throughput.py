"""Training throughput: plain loop, gankit, gankit compiled, ``--seeds N`` vectorised, DDP, large MLPs.

Every row is timed in blocks, round-robin over the rows and repeated (``--repeats``), in one
process with ``--threads`` threads (default 1); the table shows medians. Each row is also
given as achieved GFLOP/s and as a fraction of the float32 matmul peak measured in the same
run (``--peak-n``² × ``--peak-n``² matmul, timed in the same round-robin).

FLOP count: matmuls of forward and backward, exactly as :func:`gankit.train.flops.mlp_step_flops`
(``B·(2k·P_G + 12k·P_D − 4k·P_D1 + 6·P_G − 2·P_G1 + 4·P_D)`` per replica-step; equal to
PyTorch's ``FlopCounterMode``, see its docstring).

``seeds_speedup`` = (replica-steps/s of ``--seeds N``) / (steps/s of one gankit run): the
speed-up of one vectorised process over N sequential runs, which take N times one run.

Usage::

    PYTHONPATH=src python benchmarks/throughput.py [--repeats 5] [--json] [--no-compile] [--no-ddp]

``seeds_speedup_small`` is the same ratio for small MLPs (``--small-width``, default 3×64
with batch 64), where one run is bound by per-operation overhead rather than by matmuls;
``seeds_speedup_small_by_n`` gives it for every ``--small-seeds`` count (default 8, 16, 32).

``seeds_speedup_small_over_fused_adam`` compares ``--seeds N`` with one run whose Adam is
fused like the stacked one (a plain run uses the per-tensor Adam loop), so the part of the
gain that a single run could also have is not counted.

``seeds_speedup_bound`` = peak GFLOP/s / GFLOP/s of one gankit run (default model): no way of
running N replicas in one process on the same threads can beat it, because each replica still
needs its matmul FLOPs and the matmul peak is the most the cores deliver. A model for which one
run already uses a large fraction of the peak (compute-bound) cannot gain much from ``--seeds``;
``seeds_speedup_small_bound`` is the same bound for the small model.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch
import torch.multiprocessing as mp

sys.path.insert(0, str(Path(__file__).parent))
from overhead import PlainLoop  # noqa: E402

from gankit.config import RunConfig, apply_overrides  # noqa: E402
from gankit.run import build  # noqa: E402
from gankit.train.flops import mlp_step_flops  # noqa: E402
from gankit.train.seeds import StackedTrainer  # noqa: E402
from gankit.train.trainer import Trainer, make_optimizer  # noqa: E402


def step_flops(cfg: RunConfig) -> float:
    """Matmul FLOPs of one step of Algorithm 1 for one replica."""
    b = build(cfg)
    return float(mlp_step_flops(b.G, b.D, cfg.train.batch_size, cfg.train.d_steps))


def trainer(cfg: RunConfig) -> Trainer:
    b = build(cfg)
    return Trainer(b.G, b.D, b.objective, b.source, cfg.train, device=b.device)


def trainer_fused_adam(cfg: RunConfig) -> Trainer:
    """A gankit run whose optimisers are fused (what ``--seeds`` uses on its stacked tensors)."""
    t, c = trainer(cfg), cfg.train
    t.opt_g = make_optimizer(c.optimizer, t.G.parameters(), c.lr_g, (c.beta1, c.beta2), fused=True)
    t.opt_d = make_optimizer(c.optimizer, t.D.parameters(), c.lr_d, (c.beta1, c.beta2), fused=True)
    return t


def vectorised(cfg: RunConfig, n: int) -> StackedTrainer:
    reps = []
    for i in range(n):
        c = replace(cfg, train=replace(cfg.train, seed=cfg.train.seed + i))
        reps.append(trainer(c))
    return StackedTrainer(reps)


class Row:
    def __init__(self, name: str, step: Callable[[], None], block: int, flops: float, replicas: int = 1) -> None:
        self.name, self.step, self.block, self.flops, self.replicas = name, step, block, flops, replicas
        self.rates: list[float] = []  # calls per second

    def run(self) -> None:
        t0 = time.perf_counter()
        for _ in range(self.block):
            self.step()
        self.rates.append(self.block / (time.perf_counter() - t0))


def _ddp_worker(rank: int, port: int, cfg: RunConfig, block: int, repeats: int, out: str) -> None:
    import torch.distributed as dist

    from gankit.train.distributed import DistInfo, wrap_trainer

    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    t = trainer(cfg)
    wrap_trainer(t, DistInfo(rank, 2, rank))
    for _ in range(3):
        t.train_step()
    rates = []
    for _ in range(repeats):
        dist.barrier()
        t0 = time.perf_counter()
        for _ in range(block):
            t.train_step()
        rates.append(block / (time.perf_counter() - t0))
    if rank == 0:
        Path(out).write_text(json.dumps(rates))
    dist.destroy_process_group()


def ddp_rates(cfg: RunConfig, block: int, repeats: int) -> list[float]:
    import tempfile

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "rates.json")
        mp.spawn(_ddp_worker, args=(port, cfg, block, repeats, out), nprocs=2, join=True)
        return json.loads(Path(out).read_text())


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--block", type=int, default=10, help="steps per timed block (default model)")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--peak-n", type=int, default=2048)
    ap.add_argument("--small-width", type=int, default=64, help="width and batch of the small-model rows")
    ap.add_argument("--small-seeds", default="8,16,32", help="comma-separated --seeds counts for the small model")
    ap.add_argument("--large-width", type=int, default=1024)
    ap.add_argument("--large-batch", type=int, default=1024)
    ap.add_argument("--large-seeds", type=int, default=4)
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--no-ddp", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = RunConfig()
    flops = step_flops(cfg)
    n = args.peak_n
    a, b = torch.randn(n, n), torch.randn(n, n)
    rows = [Row(f"peak: {n}x{n} fp32 matmul", lambda: torch.mm(a, b), 2, 2.0 * n**3)]
    plain = PlainLoop(cfg)
    rows.append(Row("plain PyTorch loop", lambda: plain.run(1), args.block, flops))
    gk = trainer(cfg)
    rows.append(Row("gankit", gk.train_step, args.block, flops))
    compile_s = None
    if not args.no_compile:
        gc = trainer(apply_overrides(cfg, ["train.compile=true"]))
        t0 = time.perf_counter()
        gc.train_step()  # compiles the three step functions
        gc.train_step()
        compile_s = time.perf_counter() - t0
        rows.append(Row("gankit, train.compile=true", gc.train_step, args.block, flops))
    vt = vectorised(cfg, args.seeds)
    rows.append(Row(f"gankit --seeds {args.seeds} (per replica-step)", vt.train_step, max(1, args.block // 4),
                    flops * args.seeds, args.seeds))
    sw = args.small_width
    small = apply_overrides(cfg, [f"model.g_width={sw}", f"model.d_width={sw}", f"train.batch_size={sw}"])
    sflops = step_flops(small)
    gs = trainer(small)
    rows.append(Row(f"gankit, 3x{sw} MLPs, batch {sw}", gs.train_step, args.block * 4, sflops))
    gsf = trainer_fused_adam(small)
    rows.append(Row(f"gankit, 3x{sw} MLPs, batch {sw}, fused Adam", gsf.train_step, args.block * 4, sflops))
    small_ns = sorted({args.seeds, *(int(k) for k in args.small_seeds.split(",") if k)})
    for k in small_ns:
        vs = vectorised(small, k)
        rows.append(Row(f"gankit --seeds {k}, 3x{sw} MLPs, batch {sw}", vs.train_step, max(1, args.block * 8 // k),
                        sflops * k, k))
    w = args.large_width
    large = apply_overrides(cfg, [f"model.g_width={w}", f"model.d_width={w}", f"train.batch_size={args.large_batch}"])
    lflops = step_flops(large)
    gl = trainer(large)
    rows.append(Row(f"gankit, 3x{w} MLPs, batch {args.large_batch}", gl.train_step, 1, lflops))
    vl = vectorised(large, args.large_seeds)
    rows.append(Row(f"gankit --seeds {args.large_seeds}, 3x{w} MLPs, batch {args.large_batch}", vl.train_step, 1,
                    lflops * args.large_seeds, args.large_seeds))
    for row in rows:  # warm-up
        row.step()
    load_before = os.getloadavg()
    for r in range(args.repeats):
        k = r % len(rows)
        for row in rows[k:] + rows[:k]:
            row.run()
    load_after = os.getloadavg()
    peak = statistics.median(rows[0].rates) * rows[0].flops / 1e9
    table = []
    for row in rows:
        rate = statistics.median(row.rates)
        gflops = rate * row.flops / 1e9
        table.append({"row": row.name, "steps_per_s": rate, "replica_steps_per_s": rate * row.replicas,
                      "gflops": gflops, "fraction_of_peak": gflops / peak})
    if not args.no_ddp:
        rates = ddp_rates(cfg, args.block, args.repeats)
        rate = statistics.median(rates)
        table.append({"row": "gankit DDP, 2 processes (gloo), per-rank batch 256", "steps_per_s": rate,
                      "replica_steps_per_s": rate * 2, "gflops": 2 * rate * flops / 1e9,
                      "fraction_of_peak": 2 * rate * flops / 1e9 / peak})
    by = {t["row"]: t for t in table}
    single = by["gankit"]["steps_per_s"]
    vec_default = next(t for t in table if t["row"].startswith(f"gankit --seeds {args.seeds} (per"))
    ssingle = by[f"gankit, 3x{sw} MLPs, batch {sw}"]["steps_per_s"]
    small_by_n = {k: by[f"gankit --seeds {k}, 3x{sw} MLPs, batch {sw}"]["replica_steps_per_s"] / ssingle
                  for k in small_ns}
    out = {"peak_gflops": peak, "compile_time_s": compile_s, "table": table,
           "seeds_speedup": vec_default["replica_steps_per_s"] / single, "seeds_speedup_small": small_by_n[args.seeds],
           "seeds_speedup_small_by_n": small_by_n,
           "seeds_speedup_small_over_fused_adam": small_by_n[args.seeds] * ssingle
           / by[f"gankit, 3x{sw} MLPs, batch {sw}, fused Adam"]["steps_per_s"],
           "seeds_speedup_bound": 1 / by["gankit"]["fraction_of_peak"],
           "seeds_speedup_small_bound": 1 / by[f"gankit, 3x{sw} MLPs, batch {sw}"]["fraction_of_peak"],
           "gankit_over_plain": single / by["plain PyTorch loop"]["steps_per_s"],
           "load_before": load_before, "load_after": load_after, "repeats": args.repeats, "threads": args.threads}
    if not args.no_ddp:
        out["ddp_scaling"] = table[-1]["replica_steps_per_s"] / single
    if args.json:
        print(json.dumps(out))
    show = sys.stderr if args.json else sys.stdout  # with --json, the table goes to stderr
    print("| row | steps/s | replica-steps/s | GFLOP/s | of peak |\n|---|---:|---:|---:|---:|", file=show)
    for t in table:
        print(f"| {t['row']} | {t['steps_per_s']:.3g} | {t['replica_steps_per_s']:.3g} | {t['gflops']:.3g} | "
              f"{100 * t['fraction_of_peak']:.0f}% |", file=show)
    print(f"\nseeds_speedup {out['seeds_speedup']:.2f}x (bound peak/one run {out['seeds_speedup_bound']:.2f}x); small model "
          + ", ".join(f"--seeds {k} {v:.2f}x" for k, v in small_by_n.items())
          + f" (bound {out['seeds_speedup_small_bound']:.1f}x; --seeds {args.seeds} over one run with fused Adam "
          f"{out['seeds_speedup_small_over_fused_adam']:.2f}x); gankit/plain {out['gankit_over_plain']:.3f}; "
          f"compile time {compile_s if compile_s is None else round(compile_s, 1)} s; "
          + (f"DDP scaling (2 proc, samples/s vs 1) {out['ddp_scaling']:.2f}; " if not args.no_ddp else "")
          + f"load {load_before} -> {load_after}", file=show)
    return out


if __name__ == "__main__":
    main()
