"""Bit-exact resume in process: stop at step s (Ctrl-C path), resume, compare with a run never stopped.

Also: a truncated or corrupt newest checkpoint is reported on stderr and the previous one
is used, and the resumed run still ends bit for bit where the uninterrupted run ends.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from reliab_helpers import assert_same_run, final_state, history, tiny_config

from gankit.run import Run
from gankit.train.checkpoint import CheckpointError, list_checkpoints, load_checkpoint
from gankit.train.trainer import Callback, TrainingInterrupted

torch.set_num_threads(1)


class StopAt(Callback):
    def __init__(self, step: int) -> None:
        self.at = step

    def on_step_end(self, trainer) -> None:
        if trainer.step == self.at:
            trainer.request_stop()


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "run"
    Run(tiny_config(), out).fit(pictures=False)
    return out


def stopped_then_resumed(out: Path, stops: list[int], cfg_overrides: tuple[str, ...] = (), warn=None) -> None:
    cfg = tiny_config(*cfg_overrides)
    first = True
    for s in stops:
        with pytest.raises(TrainingInterrupted):
            Run(cfg, out).fit(resume=not first, callbacks=[StopAt(s)], pictures=False, warn=warn)
        first = False
        assert final_state(out)["step"] == s
    Run(cfg, out).fit(resume=True, pictures=False, warn=warn)


@pytest.mark.parametrize("stops", [[1], [10], [13, 14], [5, 20, 29]])
def test_stop_and_resume_is_bit_exact(reference: Path, tmp_path: Path, stops: list[int]) -> None:
    out = tmp_path / "run"
    stopped_then_resumed(out, stops)
    assert_same_run(reference, out)


def test_checkpoint_holds_config_counters_optimisers_rngs(reference: Path) -> None:
    state = final_state(reference)
    assert state["step"] == 30
    assert "[train]" in state["config"] and "steps = 30" in state["config"]
    assert set(state["rng"]) == {"data", "noise", "torch", "numpy", "python"}
    assert state["opt_g"]["state"] and state["opt_d"]["state"]
    assert state["health"] == {"rollbacks": 0, "low_windows": 0}


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_corrupt_newest_checkpoint_falls_back_and_resumes_exactly(reference: Path, tmp_path: Path, damage: str,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    cfg = tiny_config("train.checkpoint_every=4", "train.keep_checkpoints=3")
    with pytest.raises(TrainingInterrupted):
        Run(cfg, out).fit(callbacks=[StopAt(18)], pictures=False)
    steps = [s for s, _ in list_checkpoints(out / "checkpoints")]
    assert steps == [12, 16, 18]
    newest = out / "checkpoints" / "step_000000018.ckpt"
    raw = newest.read_bytes()
    if damage == "truncate":
        newest.write_bytes(raw[: len(raw) // 2])
    elif damage == "flip":
        i = len(raw) - 100
        newest.write_bytes(raw[:i] + bytes([raw[i] ^ 0x01]) + raw[i + 1:])
    elif damage == "empty":
        newest.write_bytes(b"")
    else:
        newest.write_bytes(b"GANKIT-CKPT 1 " + b"0" * 64 + raw[raw.index(b"\n"):])
    with pytest.raises(CheckpointError):
        load_checkpoint(newest)
    messages: list[str] = []
    # the checkpoint interval may change on resume; keep 4 so the same checkpoints are written
    Run(cfg, out).fit(resume=True, pictures=False, warn=messages.append)
    assert len(messages) == 1 and "step_000000018.ckpt" in messages[0] and "step 16" in messages[0]
    ref_hist = history(reference)
    assert history(out) == ref_hist
    ref, got = final_state(reference), final_state(out)
    for key in ("G", "D", "opt_g", "opt_d"):
        for name in ref[key] if key in ("G", "D") else []:
            assert torch.equal(ref[key][name], got[key][name]), (key, name)


def test_killed_before_first_checkpoint_restarts_from_zero(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    cfg = tiny_config("train.checkpoint_every=100")
    with pytest.raises(TrainingInterrupted):
        Run(cfg, out).fit(callbacks=[StopAt(3)], pictures=False)
    for _, p in list_checkpoints(out / "checkpoints"):
        p.unlink()  # as if killed before the first checkpoint was written
    msgs: list[str] = []
    Run(tiny_config(), out).fit(resume=True, pictures=False, warn=msgs.append)
    assert any("starting it again from step 0" in m for m in msgs)
    assert_same_run(reference, out)


def test_finished_run_missing_metrics_is_completed_not_retrained(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    Run(tiny_config(), out).fit(pictures=False)
    (out / "metrics.json").unlink()  # killed after the last checkpoint, before metrics.json
    Run(tiny_config(), out).fit(resume=True, pictures=False)
    assert (out / "metrics.json").exists()
    assert_same_run(reference, out)


@pytest.mark.parametrize("damage", ["empty", "header", "garbage"])
def test_other_damage_to_the_newest_checkpoint_is_skipped(reference: Path, tmp_path: Path, damage: str) -> None:
    import shutil

    folder = tmp_path / "checkpoints"
    shutil.copytree(reference / "checkpoints", folder)
    newest = list_checkpoints(folder)[-1][1]
    raw = newest.read_bytes()
    newest.write_bytes({"empty": b"", "header": b"GANKIT-CKPT 1 " + b"0" * 64 + raw[raw.index(b"\n"):],
                        "garbage": b"\x00" * 1000}[damage])
    from gankit.train.checkpoint import load_latest

    msgs: list[str] = []
    state = load_latest(folder, warn=msgs.append)
    assert state["step"] == 29 and len(msgs) == 1 and newest.name in msgs[0]


def test_two_corrupt_newest_are_quarantined_and_the_resumed_run_saves(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    cfg = tiny_config("train.checkpoint_every=4", "train.keep_checkpoints=3")
    with pytest.raises(TrainingInterrupted):
        Run(cfg, out).fit(callbacks=[StopAt(18)], pictures=False)
    folder = out / "checkpoints"
    for name in ("step_000000016.ckpt", "step_000000018.ckpt"):
        (folder / name).write_bytes((folder / name).read_bytes()[:200])
    stale = folder / ".step_000000020.ckpt.abc123.tmp"  # left by a save that was killed
    stale.write_bytes(b"partial")
    messages: list[str] = []
    Run(cfg, out).fit(resume=True, pictures=False, warn=messages.append)
    assert len(messages) == 2 and all("renamed it to" in m and "step 12" in m for m in messages)
    assert sorted(p.name for p in folder.glob("*.corrupt")) == ["step_000000016.ckpt.corrupt",
                                                                "step_000000018.ckpt.corrupt"]
    assert not stale.exists()
    assert [s for s, _ in list_checkpoints(folder)] == [24, 28, 30]
    assert history(out) == history(reference)
    ref, got = final_state(reference), final_state(out)
    for name in ref["G"]:
        assert torch.equal(ref["G"][name], got["G"][name]), name


def test_loading_for_sampling_renames_nothing(reference: Path, tmp_path: Path) -> None:
    import shutil

    from gankit.train.checkpoint import load_latest

    folder = tmp_path / "checkpoints"
    shutil.copytree(reference / "checkpoints", folder)
    newest = list_checkpoints(folder)[-1][1]
    newest.write_bytes(b"")
    before = sorted(p.name for p in folder.iterdir())
    assert load_latest(folder, warn=lambda m: None)["step"] == 29
    assert sorted(p.name for p in folder.iterdir()) == before


@pytest.mark.parametrize("has_checkpoint", [True, False])
def test_temp_files_of_a_killed_save_are_removed(tmp_path: Path, has_checkpoint: bool) -> None:
    out = tmp_path / "run"
    cfg = tiny_config("train.checkpoint_every=4")
    with pytest.raises(TrainingInterrupted):
        Run(cfg, out).fit(callbacks=[StopAt(6)], pictures=False)
    folder = out / "checkpoints"
    if not has_checkpoint:  # killed before the first checkpoint was renamed into place
        for _, p in list_checkpoints(folder):
            p.unlink()
    stale = [folder / ".step_000000008.ckpt.k1l2m3.tmp", folder / ".step_000000004.ckpt.x.tmp"]
    for p in stale:
        p.write_bytes(b"partial")
    Run(cfg, out).fit(resume=True, pictures=False, warn=lambda m: None)
    assert not any(p.exists() for p in stale)
    assert not list(folder.glob(".*.tmp"))


@pytest.mark.slow  # (test_penalty checks the counting in a second; this is the whole run)
def test_lazy_r1_resumes_bit_exact(tmp_path: Path) -> None:
    # R1 every 4th D-step: a run stopped at step 7 and resumed penalises the steps an uninterrupted run does
    lazy = ("objective.r1=0.5", "objective.r1_every=4")
    ref = tmp_path / "ref"
    Run(tiny_config(*lazy), ref).fit(pictures=False)
    out = tmp_path / "run"
    stopped_then_resumed(out, [7], lazy)
    assert_same_run(ref, out)
