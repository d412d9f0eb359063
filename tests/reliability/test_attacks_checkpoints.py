"""Hostile checkpoints: a valid header and hash around wrong types, or a generator of NaN.

Each case runs the CLI (``--resume`` and ``sample``) and expects exactly one stderr line
``gankit: error: ...``, exit 2, no traceback, and nothing written.
"""

from __future__ import annotations

import hashlib
import io
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from reliab_helpers import tiny_config

from gankit.cli import main
from gankit.run import Run
from gankit.train.checkpoint import MAGIC, list_checkpoints, load_checkpoint

torch.set_num_threads(1)


def _nan_generator(s: dict[str, Any]) -> None:
    for model in (s["G"], s["G_ema"]["model"]):
        next(iter(model.values())).fill_(math.nan)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(s: dict[str, Any]) -> None:
        *outer, last = path.split(".")
        for key in outer:
            s = s[key]
        s[last] = value
    return edit


ATTACKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "health-str": _set("health", "x"),
    "health-count-str": _set("health.rollbacks", "3"),
    "history_last-int": _set("history_last", 5),
    "history_last-list": _set("history_last", "[1, 2]"),
    "G_ema-empty": _set("G_ema", {}),
    "G_ema-model-list": _set("G_ema.model", [1, 2]),
    "config-int": _set("config", 5),
    "numpy-keys-list": _set("rng.numpy.keys", [0] * 624),
    "numpy-keys-short": _set("rng.numpy.keys", torch.zeros(3, dtype=torch.int64)),
    "numpy-name-tensor": _set("rng.numpy.name", torch.zeros(2)),
    "python-rng-str": _set("rng.python", "abc"),
    "torch-rng-float": _set("rng.torch", torch.zeros(8)),
    "pending-str": _set("pending", "x"),
    "world_size-zero": _set("world_size", 0),
    "step-negative": _set("step", -1),
    "G-tensor": _set("G", torch.zeros(3)),
    "opt-groups-str": _set("opt_d.param_groups", "x"),
}


def _write(path: Path, state: dict[str, Any]) -> None:
    buf = io.BytesIO()
    torch.save(state, buf)
    payload = buf.getvalue()
    path.write_bytes(MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("attacks") / "run"
    cfg = tiny_config("train.steps=6", "train.checkpoint_every=3", "train.keep_checkpoints=1", "train.eval_every=3",
                      "train.ema=0.9")
    Run(cfg, out).fit(pictures=False)
    (out / "metrics.json").unlink()  # so that --resume would continue it
    return out


def _crafted(clean_run: Path, tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    out = tmp_path / "run"
    shutil.copytree(clean_run, out)
    (_, path), = list_checkpoints(out / "checkpoints")
    state = load_checkpoint(path)
    state["step"] = 3
    edit(state)
    _write(path, state)
    return out


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gankit: error:"), err
    return lines[0]


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_type_confused_checkpoint_is_refused_in_one_line(clean_run: Path, tmp_path: Path, name: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = _crafted(clean_run, tmp_path, ATTACKS[name])
    before = _tree(tmp_path)
    assert main(["train", "--resume", str(out), "--no-progress"]) == 2
    line = _one_error_line(capsys)
    assert "not a gankit training state" in line
    assert main(["sample", str(out), "-n", "5", "--out", str(tmp_path / "x.npy")]) == 2
    assert _one_error_line(capsys) == line
    assert _tree(tmp_path) == before


@pytest.mark.parametrize("command", ["sample", "eval"])
def test_nan_generator_is_never_sampled(clean_run: Path, tmp_path: Path, command: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = _crafted(clean_run, tmp_path, _nan_generator)
    before = _tree(tmp_path)
    args = ["-n", "5", "--out", str(tmp_path / "x.npy")] if command == "sample" else ["-n", "50"]
    assert main([command, str(out), *args]) == 2
    line = _one_error_line(capsys)
    assert "non-finite weights" in line and "step 3" in line
    assert _tree(tmp_path) == before
