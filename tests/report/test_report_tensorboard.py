"""TensorBoard logging: the missing-package error, and (where tensorboard is installed) the event files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from gankit.cli import main
from gankit.config import RunConfig, apply_overrides
from gankit.errors import GankitError
from gankit.report.tensorboard import require_summary_writer
from gankit.run import Run

TINY = ["train.steps=20", "train.eval_every=10", "train.batch_size=64", "model.g_width=16", "model.d_width=16",
        "model.g_depth=1", "model.d_depth=1", "eval.n_samples=300", "eval.w1_samples=100",
        "train.checkpoint_every=0", "train.progress=false"]



def test_missing_tensorboard_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails as if not installed
    with pytest.raises(GankitError, match=r"pip install 'gankit\[tensorboard\]'"):
        require_summary_writer()


def test_cli_flag_without_tensorboard_fails_before_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    out = tmp_path / "run"
    args = ["train", "--tensorboard", "--out", str(out), "--no-progress"] + [a for o in TINY for a in ("--set", o)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "tensorboard" in err and "Traceback" not in err
    assert not out.exists()


def test_event_files_hold_the_history_and_frames(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    cfg = apply_overrides(RunConfig(), TINY + ["train.tensorboard=true"])
    Run(cfg, tmp_path / "run").fit(progress=False)
    acc = EventAccumulator(str(tmp_path / "run" / "tensorboard"), size_guidance={"images": 0, "scalars": 0})
    acc.Reload()
    history = [json.loads(line) for line in (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    w1 = {e.step: e.value for e in acc.Scalars("metrics/w1")}
    assert w1 == pytest.approx({r["step"]: r["w1"] for r in history}, rel=1e-6)
    assert sorted(e.step for e in acc.Scalars("loss/d_loss")) == [10, 20]
    frames = sorted(p.name for p in (tmp_path / "run" / "frames").iterdir())
    assert len(acc.Images("frames")) == len(frames) == 3
