"""A sweep's runs: normal run directories, a summary equal to their own metrics.json, reruns that train nothing,
--retry-failed, a run another process holds, and `gankit report` of the sweep folder."""

from __future__ import annotations

import numpy as np
from sweep_helpers import gankit, read_json, tiny_config

from gankit.report.runs import run_dirs_in
from gankit.run import Run, resolve
from gankit.run.lock import RunLock
from gankit.sweep import STATUS_FILE
from gankit.train.checkpoint import list_checkpoints


def _sweep(cfg, out, *extra):
    rc, stdout, err = gankit("sweep", "--config", cfg, "--out", out, "--no-progress", *extra)
    assert rc == 0, err
    return stdout, err


def test_three_runs_summary_equals_their_metrics_and_rerun_trains_nothing(tmp_path):
    cfg, out = tiny_config(tmp_path), tmp_path / "sweep"
    stdout, _ = _sweep(cfg, out, "--objective", "ns,hinge", "--seed-list", "0,2", "--set", "train.d_steps=1")
    runs = sorted(out.glob("*/seed*"))
    assert [str(p.relative_to(out)) for p in runs] == ["objective-hinge/seed0", "objective-hinge/seed2",
                                                       "objective-ns/seed0", "objective-ns/seed2"]
    summary = read_json(out / "summary.json")
    assert summary["sweep"]["finished"] == 4 and summary["sweep"]["planned"] == 4
    for combo in summary["combinations"]:
        own = [read_json(out / combo["name"] / f"seed{s}" / "metrics.json") for s in (0, 2)]
        for key in ("high_quality", "w1", "modes", "wall_time"):
            vals = np.array([m[key] for m in own], dtype=float)
            assert combo["metrics"][key]["mean"] == vals.mean()  # independent reference: numpy
            assert abs(combo["metrics"][key]["std"] - vals.std(ddof=1)) < 1e-12
        assert [r["metrics"]["w1"] for r in sorted(combo["per_seed"], key=lambda r: r["seed"])] == [m["w1"] for m in own]
        assert all(r["threads"] == 1 and r["cpu_time"] > 0 for r in combo["per_seed"])
    board = (out / "leaderboard.md").read_text()
    assert "| objective-ns | ring8 | ns | 2/2 | 0 | 0 |" in board and "objective-hinge/seed2" in board
    # normal run directories: gankit sample/eval read them, and they are the config `gankit train` resolves
    run = Run.load(out / "objective-ns" / "seed2")
    assert run.cfg.train.seed == 2 and run.cfg.model.pack == 2 and run.cfg.train.steps == 20
    assert gankit("eval", out / "objective-ns" / "seed2", "-n", "100")[0] == 0
    # run again: nothing is trained (metrics.json untouched), the summary is the same
    stamps = {p: (p / "metrics.json").stat().st_mtime_ns for p in runs}
    _, err = _sweep(cfg, out, "--objective", "ns,hinge", "--seed-list", "0,2", "--set", "train.d_steps=1")
    assert err.count(": finished") == 4 and "trained" not in err
    assert {p: (p / "metrics.json").stat().st_mtime_ns for p in runs} == stamps
    assert read_json(out / "summary.json")["combinations"] == summary["combinations"]
    # gankit report of the sweep folder: its four runs, grouped by objective
    assert run_dirs_in(out) == sorted(runs)
    rc, stdout, _ = gankit("report", out, "--json")
    groups = {g["group"]: g for g in __import__("json").loads(stdout)["groups"]}
    assert groups["objective.name=ns"]["w1"]["mean"] == next(
        c for c in summary["combinations"] if c["name"] == "objective-ns")["metrics"]["w1"]["mean"]


def test_retry_failed(tmp_path, monkeypatch):
    cfg, out = tiny_config(tmp_path), tmp_path / "sweep"
    real_fit = Run.fit

    def flaky(self, *a, **k):
        if self.cfg.train.seed == 1:
            raise RuntimeError("disk on fire")
        return real_fit(self, *a, **k)

    monkeypatch.setattr(Run, "fit", flaky)
    _, err = _sweep(cfg, out, "--seeds", "2", "--no-pictures")
    assert "seed1: failed: RuntimeError: disk on fire" in err
    failed = out / "ring8-ns" / "seed1"
    status = read_json(failed / STATUS_FILE)
    assert status["status"] == "failed" and "disk on fire" in status["traceback"]
    s = read_json(out / "summary.json")["sweep"]
    assert (s["finished"], s["failed"]) == (1, 1)
    monkeypatch.setattr(Run, "fit", real_fit)
    _, err = _sweep(cfg, out, "--seeds", "2", "--no-pictures")  # without --retry-failed: left failed
    assert "seed1: failed" in err and not (failed / "metrics.json").exists()
    _, err = _sweep(cfg, out, "--seeds", "2", "--no-pictures", "--retry-failed")
    assert "seed1: trained" in err and "seed0: finished" in err
    assert (failed / "metrics.json").exists() and (out / "ring8-ns" / "seed1.failed-1" / STATUS_FILE).exists()
    assert read_json(out / "summary.json")["sweep"]["finished"] == 2
    assert [p.name for p in run_dirs_in(out)] == ["seed0", "seed1"]  # the failed folder is not a run


def test_a_run_held_by_another_sweep_is_left_alone(tmp_path):
    cfg, out = tiny_config(tmp_path), tmp_path / "sweep"
    held = RunLock(out / ".locks" / "ring8-ns" / "seed1")  # what a second sweep holds while it trains seed 1
    try:
        _, err = _sweep(cfg, out, "--seeds", "2", "--no-pictures")
    finally:
        held.release()
    assert "ring8-ns/seed1: busy" in err and not (out / "ring8-ns" / "seed1").exists()
    s = read_json(out / "summary.json")["sweep"]
    assert (s["finished"], s["pending"]) == (1, 1)
    _, err = _sweep(cfg, out, "--seeds", "2", "--no-pictures")
    assert "seed1: trained" in err and read_json(out / "summary.json")["sweep"]["finished"] == 2


def test_a_stopped_run_is_resumed_from_its_checkpoint(tmp_path):
    cfg, out = tiny_config(tmp_path), tmp_path / "sweep"
    run_dir = out / "ring8-ns" / "seed0"
    Run(resolve(None, cfg).cfg, run_dir).fit(progress=False, pictures=False)
    # as a run killed after its checkpoint of step 10: no checkpoint of step 20, no final metrics
    whole = read_json(run_dir / "metrics.json")
    (run_dir / "metrics.json").unlink()
    steps = [s for s, _ in list_checkpoints(run_dir / "checkpoints")]
    assert steps == [10, 20]
    (_, first), (_, last) = list_checkpoints(run_dir / "checkpoints")
    last.unlink()
    stamp = first.stat().st_mtime_ns
    _, err = _sweep(cfg, out, "--no-pictures")
    assert "seed0: resumed" in err
    resumed = read_json(run_dir / "metrics.json")
    assert resumed["step"] == 20 and resumed["w1"] == whole["w1"]  # steps 11-20 again, from the checkpoint's state
    assert read_json(run_dir / STATUS_FILE)["status"] == "resumed"
    assert [s for s, _ in list_checkpoints(run_dir / "checkpoints")] == [10, 20]
    assert first.stat().st_mtime_ns == stamp  # steps 1-10 were not trained again
