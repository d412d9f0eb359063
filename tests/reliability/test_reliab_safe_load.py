"""Safe loading: a checkpoint whose pickle would run code is refused, and nothing runs.

The crafted payloads call ``os.system`` or ``open`` through ``__reduce__`` to create a
marker file; every test asserts the marker does not exist afterwards.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
from pathlib import Path

import pytest
import torch
from reliab_helpers import tiny_config

from gankit.cli import main
from gankit.run import Run
from gankit.train.checkpoint import MAGIC, CheckpointError, list_checkpoints, load_checkpoint, load_latest

torch.set_num_threads(1)


class SystemCall:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class OpenCall:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def payloads(marker: Path) -> dict[str, bytes]:
    """Raw pickles and torch.save zip files that would create ``marker`` when unpickled."""
    out = {}
    for name, evil in (("system", SystemCall(marker)), ("open", OpenCall(marker))):
        state = {"step": 5, "G": {}, "D": {}, "opt_g": {}, "opt_d": {}, "rng": {}, "x": evil}
        out[f"pickle-{name}"] = pickle.dumps(state, protocol=2)
        buf = io.BytesIO()
        torch.save(state, buf)
        out[f"torchzip-{name}"] = buf.getvalue()
    return out


def with_header(payload: bytes) -> bytes:
    return MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload


def test_the_payloads_do_run_code_when_unpickled_unsafely(tmp_path: Path) -> None:
    """The control: plain pickle.loads of the crafted bytes does create the marker."""
    marker = tmp_path / "ran"
    pickle.loads(payloads(marker)["pickle-open"])
    assert marker.exists()


@pytest.mark.parametrize("kind", ["pickle-system", "pickle-open", "torchzip-system", "torchzip-open"])
@pytest.mark.parametrize("header", [False, True])
def test_crafted_checkpoint_is_refused_and_runs_nothing(tmp_path: Path, kind: str, header: bool) -> None:
    marker = tmp_path / "ran"
    raw = payloads(marker)[kind]
    path = tmp_path / "step_000000005.ckpt"
    path.write_bytes(with_header(raw) if header else raw)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    msg = str(info.value)
    assert "\n" not in msg
    assert ("refused" in msg) if header else ("not a gankit checkpoint" in msg)
    assert not marker.exists()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("safe") / "run"
    Run(tiny_config("train.steps=6", "train.eval_every=0"), out).fit(pictures=False)
    return out


@pytest.mark.parametrize("command, kind", [("sample", "pickle-system"), ("eval", "torchzip-open"),
                                           ("train", "torchzip-system"), ("train", "pickle-open")])
def test_cli_on_a_run_with_a_crafted_checkpoint_exits_2_in_one_line(
        run_dir: Path, tmp_path: Path, command: str, kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    marker = tmp_path / "ran"
    for _, p in list_checkpoints(run / "checkpoints"):
        p.unlink()
    (run / "checkpoints" / "step_000000006.ckpt").write_bytes(with_header(payloads(marker)[kind]))
    argv = {"sample": ["sample", str(run), "-o", str(tmp_path / "x.npy")],
            "eval": ["eval", str(run)],
            "train": ["train", "--resume", str(run), "--steps", "9", "--no-progress"]}[command]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("gankit: error:") and "refused" in err
    assert not marker.exists()
    assert not (tmp_path / "x.npy").exists()


def test_crafted_newest_is_skipped_for_the_previous_good_one(run_dir: Path, tmp_path: Path) -> None:
    import shutil

    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    marker = tmp_path / "ran"
    (run / "checkpoints" / "step_000000007.ckpt").write_bytes(with_header(payloads(marker)["torchzip-system"]))
    warnings: list[str] = []
    state = load_latest(run / "checkpoints", warn=warnings.append)
    assert state["step"] == 6 and len(warnings) == 1 and "step_000000007.ckpt" in warnings[0]
    assert not marker.exists()
