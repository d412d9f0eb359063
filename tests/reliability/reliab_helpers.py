"""Shared helpers of the reliability tests: a tiny, fast run config and state comparisons."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from gankit.config import RunConfig, apply_overrides
from gankit.train.checkpoint import load_latest
from gankit.train.trainer import Callback

TINY = [
    "model.g_width=16", "model.d_width=16", "model.g_depth=2", "model.d_depth=2",
    "train.batch_size=32", "train.steps=30", "train.eval_every=10", "train.checkpoint_every=1",
    "train.keep_checkpoints=2", "train.progress=false", "train.health_every=5",
    "eval.n_samples=200", "eval.w1_samples=50",
]


def tiny_config(*overrides: str) -> RunConfig:
    return apply_overrides(RunConfig(), TINY + list(overrides))


def tiny_args(*overrides: str) -> list[str]:
    """The TINY overrides as ``--set`` command-line arguments."""
    out: list[str] = []
    for o in TINY + list(overrides):
        out += ["--set", o]
    return out


def assert_same_tree(a: Any, b: Any, where: str = "state") -> None:
    """Bit-for-bit equality of nested dicts/lists of tensors and plain values."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape, where
        assert torch.equal(a, b), f"{where} differs"
    elif isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{where}: keys {sorted(a)} != {sorted(b)}"
        for k in a:
            assert_same_tree(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same_tree(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def final_state(run_dir: Path) -> dict[str, Any]:
    return load_latest(Path(run_dir) / "checkpoints")


def assert_same_run(a: Path, b: Path) -> None:
    """Same final weights, optimiser states, RNG states and history (wall-clock times aside)."""
    sa, sb = final_state(a), final_state(b)
    assert sa["step"] == sb["step"]
    for key in ("G", "D", "opt_g", "opt_d", "rng", "pending"):
        assert_same_tree(sa[key], sb[key], key)
    assert history(a) == history(b)


def history(run_dir: Path) -> list[dict[str, Any]]:
    lines = (Path(run_dir) / "history.jsonl").read_text().splitlines()
    recs = [json.loads(line) for line in lines]
    for r in recs:
        r.pop("time", None)
    return recs


class Attach(Callback):
    """Hands the trainer to a data source that reads its step (``source.trainer``) when training starts."""

    def __init__(self, source: Any) -> None:
        self.source = source

    def on_train_start(self, trainer) -> None:
        self.source.trainer = trainer
