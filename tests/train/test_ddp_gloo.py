"""DDP on CPU (gloo, 2 processes): identical weights on both ranks, rank-0 run directory, resume."""

from __future__ import annotations

import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from gankit.config import RunConfig, apply_overrides
from gankit.errors import GankitError
from gankit.run import Run
from gankit.train.checkpoint import list_checkpoints, load_latest

OVR = ["train.batch_size=32", "train.eval_every=0", "train.checkpoint_every=10", "model.g_width=16",
       "model.d_width=16", "model.g_depth=1", "model.d_depth=1", "eval.n_samples=100", "eval.w1_samples=50",
       "train.progress=false"]


def _worker(rank: int, port: int, out: str) -> None:
    torch.set_num_threads(1)
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    dist.init_process_group("gloo")
    import gankit.run.session as run
    from gankit.train.trainer import Callback

    class Keep(Callback):  # this rank's live weights at the end (not rank 0's checkpoint)
        def __init__(self, name: str) -> None:
            self.name = name

        def on_train_end(self, trainer):
            torch.save({"G": trainer.G.state_dict(), "D": trainer.D.state_dict()},
                       os.path.join(out, f"{self.name}{rank}.pt"))

    def trainer_with(name: str):
        class T(Trainer):  # every rank (user callbacks run on rank 0 only)
            def __init__(self, *a, **k):
                super().__init__(*a, **k)
                self.callbacks.append(Keep(name))

        return T

    Trainer = run.Trainer
    try:
        cfg = apply_overrides(RunConfig(), OVR + ["train.steps=20"])
        final = Run(cfg, os.path.join(out, "run")).fit(pictures=False)
        assert (final == {}) == (rank != 0)
        # resume under the same world size, 20 -> 30 steps
        cfg = apply_overrides(cfg, ["train.steps=30"])
        run.Trainer = trainer_with("resumed")
        Run(cfg, os.path.join(out, "run")).fit(resume=True, pictures=False)
        # the same 30 steps without interruption
        run.Trainer = trainer_with("straight")
        Run(cfg, os.path.join(out, "straight")).fit(pictures=False)
    finally:
        run.Trainer = Trainer
        dist.destroy_process_group()


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_two_ranks_identical_and_resume(tmp_path, monkeypatch):
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(k, raising=False)
    # fork: the children inherit the imported modules (CPU only, no CUDA state to inherit)
    mp.start_processes(_worker, args=(_port(), str(tmp_path)), nprocs=2, join=True, start_method="fork")
    run = tmp_path / "run"
    # rank 0 wrote the run directory's contract files (frames/ may come with them)
    assert {"checkpoints", "config.toml", "history.jsonl", "metrics.json"} <= {p.name for p in run.iterdir()}
    assert [s for s, _ in list_checkpoints(run / "checkpoints")] == [10, 20, 30]
    state = load_latest(run / "checkpoints")
    assert state["world_size"] == 2 and len(state["rng_ranks"]) == 2
    assert not torch.equal(state["rng_ranks"][0]["data"], state["rng_ranks"][1]["data"])  # own streams
    r0, r1 = torch.load(tmp_path / "resumed0.pt"), torch.load(tmp_path / "resumed1.pt")
    s0 = torch.load(tmp_path / "straight0.pt")
    for net in ("G", "D"):
        for k in r0[net]:
            assert torch.equal(r0[net][k], r1[net][k]), (net, k)  # both ranks hold the same weights
            assert torch.equal(r0[net][k], state[net][k]), (net, k)  # rank 0 saved them
            assert torch.allclose(r0[net][k], s0[net][k], atol=1e-6), (net, k)  # resume == no interruption
    # a different world size is refused
    cfg = apply_overrides(RunConfig(), OVR + ["train.steps=40"])
    with pytest.raises(GankitError, match="written by 2 process"):
        Run(cfg, run).fit(resume=True, pictures=False)


@pytest.mark.slow
def test_torchrun_cli(tmp_path):
    """The real launcher: ``torchrun --nproc_per_node=2 -m gankit train``, then ``--resume`` (~1 min)."""
    import json
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env["OMP_NUM_THREADS"] = "1"
    base = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "-m", "gankit", "train", "--json"]
    out = tmp_path / "run"
    small = [a for o in OVR for a in ("--set", o)]
    r = subprocess.run(base + small + ["--steps", "20", "--out", str(out)], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1])["world_size"] == 2  # rank 0 prints, rank 1 is silent
    r = subprocess.run(base + ["--resume", str(out), "--steps", "30"], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1])["step"] == 30
