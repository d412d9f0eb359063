"""train.log_every: losses recorded often (one host sync per record), metrics at eval_every, training unchanged."""

from __future__ import annotations

import json

import pytest
import torch

from gankit.cli import main
from gankit.config import RunConfig, apply_overrides
from gankit.report.curves import run_curves_svg
from gankit.report.runs import load_run_record
from gankit.run import Run
from gankit.train.callbacks import History
from gankit.train.checkpoint import load_latest
from gankit.train.trainer import Callback

SMALL = ["train.steps=40", "train.batch_size=32", "model.g_width=16", "model.d_width=16", "model.g_depth=1",
         "model.d_depth=1", "train.eval_every=20", "train.checkpoint_every=20", "train.progress=false",
         "eval.n_samples=200", "eval.w1_samples=100", "train.snapshots=false"]
#: what a record of losses holds beside them
LOSS_ONLY = {"step", "time", "d_loss", "g_loss", "estimate", "r1"}


def history(out):
    return [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]


def fit(out, *extra):
    return Run(apply_overrides(RunConfig(), SMALL + list(extra)), out).fit(progress=False, pictures=False)


def test_losses_every_log_every_metrics_every_eval_every_and_the_same_training(tmp_path):
    every = fit(tmp_path / "every", "train.log_every=1")
    five = fit(tmp_path / "five", "train.log_every=5")
    none = fit(tmp_path / "none", "train.log_every=0")
    h1, h5, h0 = history(tmp_path / "every"), history(tmp_path / "five"), history(tmp_path / "none")
    assert [r["step"] for r in h5] == list(range(5, 41, 5)) and [r["step"] for r in h0] == [20, 40]
    assert [r["step"] for r in h5 if "w1" in r] == [20, 40] and all(set(r) <= LOSS_ONLY for r in h5 if "w1" not in r)
    # each record's losses are the mean of the per-step losses since the record before (log_every=1 logs each step)
    for rec in h5:
        steps = [r for r in h1 if rec["step"] - 5 < r["step"] <= rec["step"]]
        for k in ("d_loss", "g_loss"):
            assert rec[k] == pytest.approx(sum(r[k] for r in steps) / 5, rel=1e-5)
    # logging changes no training step and no evaluation: same weights, same metrics
    weights = [load_latest(tmp_path / name / "checkpoints")["G"] for name in ("every", "five", "none")]
    assert all(torch.equal(weights[0][k], w[k]) for w in weights[1:] for k in weights[0])
    for k in ("modes", "high_quality", "w1", "step"):
        assert every[k] == five[k] == none[k]
    assert [r["w1"] for r in h1 if "w1" in r] == [r["w1"] for r in h0]


def test_no_host_sync_between_records():
    class Seen(Callback):
        def __init__(self):
            self.sizes = []

        def on_step_end(self, trainer):
            self.sizes.append(len(trainer.pending["d_loss"]))
            assert all(t.dim() == 0 for t in trainer.pending["d_loss"])  # 0-d tensors, not floats

    from gankit.run import build
    from gankit.train.trainer import Trainer

    cfg = apply_overrides(RunConfig(), SMALL + ["train.steps=12"])
    parts = build(cfg)
    seen = Seen()
    hist = History(0, None, log_every=4)
    Trainer(parts.G, parts.D, parts.objective, parts.source, cfg.train, [seen, hist]).fit()
    assert seen.sizes == [1, 2, 3, 4] * 3  # seen before the record at every 4th step empties the list
    assert [r["step"] for r in hist.records] == [4, 8, 12]


def test_a_resumed_run_writes_the_history_of_a_straight_run(tmp_path):
    fit(tmp_path / "straight", "train.log_every=5")
    fit(tmp_path / "part", "train.log_every=5", "train.steps=25", "train.checkpoint_every=10")
    cfg = apply_overrides(RunConfig(), SMALL + ["train.log_every=5", "train.checkpoint_every=10"])
    Run(cfg, tmp_path / "part").fit(resume=True, progress=False, pictures=False)
    a, b = history(tmp_path / "straight"), history(tmp_path / "part")
    b = [r for r in b if "event" not in r]
    assert [r["step"] for r in b] == [r["step"] for r in a]
    for ra, rb in zip(a, b, strict=True):  # (the 25-step run evaluated at its end, step 25: extra keys there)
        assert (set(ra) <= set(rb)) and (set(ra) == set(rb) or rb["step"] == 25)
        assert {k: ra[k] for k in ra if k != "time"} == pytest.approx({k: rb[k] for k in ra if k != "time"})


def test_the_docs_300_step_run_has_curves_with_several_points(tmp_path, capsys):
    out = tmp_path / "run"
    tiny = ["model.g_width=16", "model.d_width=16", "eval.n_samples=200", "eval.w1_samples=100"]
    assert main(["train", "--steps", "300", "--out", str(out), "--no-progress",
                 *[a for kv in tiny for a in ("--set", kv)]]) == 0
    capsys.readouterr()
    h = history(out)
    assert [r["step"] for r in h] == [50, 100, 150, 200, 250, 300] and "w1" in h[-1]
    svg = run_curves_svg(load_run_record(out)).decode()
    assert svg.count("<circle") >= 2 * 6  # d_loss and g_loss: one point per record
