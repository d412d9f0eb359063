"""Data-parallel training with ``torchrun``: DistributedDataParallel, per-rank streams, rank-0 I/O.

``torchrun --nproc_per_node=N -m gankit train ...``: :func:`init_from_env` starts the process
group (``gloo`` on CPU, ``nccl`` on CUDA) and :func:`wrap_trainer` wraps G and D in DDP and
gives rank ``r`` its own data and noise streams (seed offset ``RANK_OFFSET·r``; rank 0 draws
what a single process draws). Only rank 0 evaluates, logs and writes checkpoints; a
checkpoint stores every rank's streams and resumes only under the same world size.
docs/speed.md describes the design and its tests.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP

from ..errors import GankitError
from .trainer import Callback, Trainer

__all__ = ["DistInfo", "RANK_OFFSET", "dist_info", "init_from_env", "wrap_trainer", "RankStates", "Barrier", "DropLogs",
           "check_world_size"]

#: rank r's data and noise seeds are offset by RANK_OFFSET·r
RANK_OFFSET = 1_000_003


@dataclass(frozen=True)
class DistInfo:
    """This process's place in a torchrun job (rank 0 of 1 without torchrun)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def dist_info() -> DistInfo:
    """Rank, world size and local rank from ``torchrun``'s environment variables (1 process if unset)."""
    try:
        return DistInfo(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)),
                        int(os.environ.get("LOCAL_RANK", 0)))
    except ValueError:
        raise GankitError("RANK, WORLD_SIZE and LOCAL_RANK must be integers (set by torchrun)") from None


def init_from_env(device: torch.device) -> tuple[DistInfo, torch.device, bool]:
    """Start the process group when launched by torchrun with more than one process.

    Returns ``(info, device, started)``: on CUDA the device becomes ``cuda:LOCAL_RANK``;
    ``started`` says whether this call created the group (and should destroy it).
    """
    info = dist_info()
    if not info.enabled:
        return info, device, False
    if device.type == "cuda":
        device = torch.device("cuda", info.local_rank)
        torch.cuda.set_device(device)
    if dist.is_initialized():
        return info, device, False
    dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return info, device, True


def check_world_size(state: dict[str, Any], world_size: int) -> None:
    saved = int(state.get("world_size", 1))
    if saved != world_size:
        raise GankitError(f"checkpoint was written by {saved} process(es) but this run has {world_size}; "
                          f"resume with torchrun --nproc_per_node={saved} (or without torchrun if 1)")


def wrap_trainer(trainer: Trainer, info: DistInfo) -> None:
    """Make ``trainer`` data-parallel: DDP wrappers for the steps and per-rank data/noise streams."""
    ids = [trainer.device.index] if trainer.device.type == "cuda" else None
    trainer.G_train = DDP(trainer.G, device_ids=ids)
    trainer.D_train = DDP(trainer.D, device_ids=ids)
    seed = trainer.cfg.seed + RANK_OFFSET * info.rank
    trainer.data_gen.manual_seed(seed)
    trainer.noise_gen.manual_seed(seed + 7919)


def _due(trainer: Trainer, every: int) -> bool:
    return bool(every) and trainer.step % every == 0


class RankStates(Callback):
    """Gathers every rank's data/noise generator states on the checkpoint steps (all ranks)."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.states: list[dict[str, torch.Tensor]] = []

    def gather(self, trainer: Trainer) -> None:
        mine = {"data": trainer.data_gen.get_state(), "noise": trainer.noise_gen.get_state().cpu()}
        out: list[Any] = [None] * dist.get_world_size()
        dist.all_gather_object(out, mine)
        self.states = out

    def on_step_end(self, trainer: Trainer) -> None:
        if _due(trainer, self.every):
            self.gather(trainer)

    on_train_end = gather


class DropLogs(Callback):
    """Ranks other than 0 log nothing: drop their per-step loss tensors (else they pile up)."""

    def on_step_end(self, trainer: Trainer) -> None:
        trainer.pending.clear()


class Barrier(Callback):
    """All ranks wait here after rank 0 wrote a checkpoint."""

    def __init__(self, every: int) -> None:
        self.every = every

    def on_step_end(self, trainer: Trainer) -> None:
        if _due(trainer, self.every):
            dist.barrier()

    def on_train_end(self, trainer: Trainer) -> None:
        dist.barrier()


def restore_rank_states(trainer: Trainer, state: dict[str, Any], info: DistInfo) -> None:
    """After ``load_state_dict``: this rank's own generator states from a distributed checkpoint."""
    ranks = state.get("rng_ranks")
    if ranks:
        trainer.data_gen.set_state(ranks[info.rank]["data"])
        trainer.noise_gen.set_state(ranks[info.rank]["noise"])
