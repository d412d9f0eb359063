"""The run directory under attack: one writer at a time, nothing written before a refusal, no half-made seeds."""

from __future__ import annotations

import os

import pytest

from gankit.cli import main
from gankit.run.lock import LOCK_FILE, RunLock

TINY = ["--steps", "4", "--no-progress", "--set", "train.eval_every=0", "--set", "model.g_width=8",
        "--set", "model.d_width=8", "--set", "train.batch_size=8", "--set", "eval.n_samples=50",
        "--set", "eval.w1_samples=20", "--set", "train.snapshots=false"]


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gankit: error:") and "Traceback" not in err, err
    return lines[0]


def test_a_second_writer_is_refused_at_once(tmp_path, capsys):
    out = tmp_path / "run"
    held = RunLock(out)  # another process training into `out` (flock conflicts across open files)
    try:
        assert main(["train", "--out", str(out), *TINY]) == 2
        assert "in use by another gankit process" in _one_error_line(capsys)
        assert sorted(p.name for p in out.iterdir()) == [LOCK_FILE]  # nothing written by the refused run
    finally:
        held.release()


def test_a_resume_while_the_run_trains_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), *TINY]) == 0
    capsys.readouterr()
    assert not (out / LOCK_FILE).exists()  # released after the run
    held = RunLock(out)
    try:
        assert main(["train", "--resume", str(out), "--steps", "8", "--no-progress"]) == 2
        assert "in use" in _one_error_line(capsys)
    finally:
        held.release()
    assert main(["train", "--resume", str(out), "--steps", "8", "--no-progress"]) == 0


def test_a_refused_precision_writes_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--set", "train.precision=fp16", *TINY]) == 2
    assert "fp16 needs a CUDA device" in _one_error_line(capsys)
    assert not out.exists()


def test_diverged_seeds_exit_3_with_their_last_good_checkpoints(tmp_path, capsys):
    out = tmp_path / "seeds"
    argv = ["train", "--seeds", "2", "--out", str(out), *TINY, "--set", "train.lr_g=1e30", "--set", "train.lr_d=1e30"]
    assert main(argv) == 3
    assert "diverged" in capsys.readouterr().err
    for s in (0, 1):
        assert (out / f"seed{s}" / "config.toml").is_file()
        assert list((out / f"seed{s}" / "checkpoints").glob("step_*.ckpt"))  # resumable, not a bare config
        assert not (out / f"seed{s}" / LOCK_FILE).exists()


@pytest.mark.parametrize("argv", [["--set", "train.steps=0"], ["--objective", "wgangp"],
                                  ["--data", "digits", "--set", "eval.drs=5"]])
def test_refused_configs_leave_no_directory(tmp_path, capsys, argv):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--no-progress", *argv]) == 2
    _one_error_line(capsys)
    assert not out.exists()


def test_an_edited_config_toml_cannot_change_a_resumed_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), *TINY]) == 0
    capsys.readouterr()
    text = (out / "config.toml").read_text()
    (out / "config.toml").write_text(text.replace("lr_d = 0.001", "lr_d = 0.5"))
    assert main(["train", "--resume", str(out), "--steps", "8", "--no-progress"]) == 2
    assert "cannot change train.lr_d" in _one_error_line(capsys)


def test_run_files_are_readable_like_any_file(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), *TINY]) == 0
    umask = os.umask(0o022)
    os.umask(umask)
    for name in ("config.toml", "metrics.json"):  # the mode a plain open() gives, not mkstemp's 0600
        assert (out / name).stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize("edit", ["metrics", "config"])
def test_report_on_a_hand_edited_run_is_one_line(tmp_path, capsys, edit):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), *TINY]) == 0
    if edit == "metrics":
        (out / "metrics.json").write_text('{"step": "abc"}')
    else:  # a TOML date, which no config field takes
        (out / "config.toml").write_text((out / "config.toml").read_text().replace("[data]", "[data]\nwhen = 1979-05-27"))
    capsys.readouterr()
    assert main(["report", str(out), "-o", str(tmp_path / "r.html")]) == 2
    _one_error_line(capsys)
    assert not (tmp_path / "r.html").exists()
