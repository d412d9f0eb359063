"""Input hardening before any work: names resolve, the output can be written, the disk has room."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
import torch
from reliab_helpers import tiny_args

import gankit.io as io_mod
import gankit.run.preflight as preflight
from gankit.cli import main
from gankit.train.checkpoint import list_checkpoints

torch.set_num_threads(1)


def one_line_exit_2(code: int, err: str) -> None:
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and err.startswith("gankit: error:"), err


@pytest.mark.parametrize("flags, words", [
    (["--data", "ring9"], "unknown data source 'ring9'"),
    (["--model", "cnn9"], "unknown model 'cnn9'"),
    (["--objective", "wgan-xx"], "unknown objective 'wgan-xx'"),
    (["--objective", "fgan:nope"], "nope"),
    (["--data", "0.5*N(0,1) + 0.6*N(1,1)"], "sum to 1"),
    (["--set", "data.path=/tmp/x.npy"], "takes no data.path"),
    (["--set", "train.device=cuda:x"], "train.device"),
    (["--set", "train.on_nan=ignore"], "train.on_nan"),
    (["--set", "train.nan_lr_factor=1.5"], "nan_lr_factor"),
    (["--set", "train.health_every=0"], "health_every"),
    (["--set", "model.g_width=1000000000"], "model.g_width"),
])
def test_bad_names_and_values_fail_before_the_run_dir_exists(tmp_path: Path, flags: list[str], words: str,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    code = main(["train", "--out", str(out), "--no-progress", *flags])
    err = capsys.readouterr().err
    one_line_exit_2(code, err)
    assert words in err
    assert not out.exists()
    # --print-config resolves the same way
    code = main(["train", "--print-config", *flags])
    one_line_exit_2(code, capsys.readouterr().err)


@pytest.mark.parametrize("where", ["under-a-file", "is-a-file", "dev-null"])
def test_unwritable_output_is_one_line_exit_2(tmp_path: Path, where: str, capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    out = {"under-a-file": a_file / "run", "is-a-file": a_file, "dev-null": Path("/dev/null/x")}[where]
    code = main(["train", "--out", str(out), "--no-progress", *tiny_args()])
    err = capsys.readouterr().err
    one_line_exit_2(code, err)
    assert "run directory" in err


def test_full_disk_at_the_probe_is_reported_before_training(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    def enospc(path, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(preflight, "atomic_write_bytes", enospc)
    code = main(["train", "--out", str(tmp_path / "run"), "--no-progress", *tiny_args()])
    err = capsys.readouterr().err
    one_line_exit_2(code, err)
    assert "No space left on device" in err
    assert list_checkpoints(tmp_path / "run" / "checkpoints") == []


def test_too_little_free_space_is_reported_before_training(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**9, 10**9 - 1000, 1000))
    code = main(["train", "--out", str(tmp_path / "run"), "--no-progress", *tiny_args()])
    err = capsys.readouterr().err
    one_line_exit_2(code, err)
    assert "not enough free space" in err


def test_disk_full_during_training_keeps_earlier_checkpoints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    import os

    real_fsync = os.fsync
    calls = {"n": 0}

    def fsync(fd: int) -> None:  # the disk fills up while the sixth checkpoint is being written
        name = os.readlink(f"/proc/self/fd/{fd}")
        if ".ckpt." in name and name.endswith(".tmp"):
            calls["n"] += 1
            if calls["n"] > 5:
                raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(io_mod.os, "fsync", fsync)
    out = tmp_path / "run"
    code = main(["train", "--out", str(out), "--no-progress", *tiny_args()])
    err = capsys.readouterr().err
    one_line_exit_2(code, err)
    assert "No space left on device" in err and "intact" in err
    monkeypatch.undo()
    steps = [s for s, _ in list_checkpoints(out / "checkpoints")]
    assert steps == [4, 5] and calls["n"] == 6  # keep_checkpoints=2; the sixth write failed
    assert not [p for p in (out / "checkpoints").iterdir() if p.name.endswith(".tmp")]
    # and the run resumes from there
    code = main(["train", "--resume", str(out), "--no-progress"])
    assert code == 0, capsys.readouterr().err
