"""A sweep killed with SIGKILL and run again; the Optuna search; the Ray executor (local Ray)."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sweep_helpers import gankit, read_json, tiny_config

from gankit.train.checkpoint import list_checkpoints

ROOT = Path(__file__).resolve().parents[2]
#: long enough that neither run can finish between the kill and its worker noticing it (400 steps did, once)
KILL_STEPS = 2000


def test_sigkill_of_the_sweep_then_rerun_finishes_without_retraining(tmp_path):
    cfg, out = tiny_config(tmp_path), tmp_path / "sweep"
    argv = [sys.executable, "-m", "gankit", "sweep", "--config", str(cfg), "--out", str(out), "--seeds", "2",
            "--jobs", "2", "--no-pictures", "--no-progress", "--set", f"train.steps={KILL_STEPS}", "--set",
            "train.checkpoint_every=20"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    ckpts = [out / "ring8-ns" / f"seed{s}" / "checkpoints" for s in (0, 1)]
    deadline = time.monotonic() + 240
    while not all(len(list_checkpoints(c)) >= 2 for c in ckpts):  # both runs in flight, checkpointed
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read().decode()[-2000:]
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)  # the sweep only: its workers must notice and stop by themselves
    proc.wait()
    time.sleep(1.5)  # the workers poll for their parent every 0.5 s
    kept = {c: list_checkpoints(c)[-1][0] for c in ckpts}  # the steps the rerun resumes from
    assert all(not (c.parent / "metrics.json").exists() and 40 <= kept[c] < KILL_STEPS for c in ckpts)
    rc, _, err = gankit("sweep", "--config", cfg, "--out", out, "--seeds", "2", "--no-pictures", "--no-progress",
                        "--set", f"train.steps={KILL_STEPS}", "--set", "train.checkpoint_every=20")
    assert rc == 0, err
    assert err.count(": resumed") == 2 and "busy" not in err  # no worker of the killed sweep holds a run
    summary = read_json(out / "summary.json")
    assert summary["sweep"]["finished"] == 2
    for c in ckpts:
        assert read_json(c.parent / "metrics.json")["step"] == KILL_STEPS
        assert read_json(c.parent / "sweep-run.json")["status"] == "resumed"


@pytest.mark.skipif(importlib.util.find_spec("optuna") is None, reason="needs the search extra: pip install 'gankit[search]'")
def test_optuna_search_writes_a_config_that_trains_to_its_score(tmp_path):
    cfg = tiny_config(tmp_path, "\n[search]\nlr_d = {log = [1e-4, 1e-2]}\nd_steps = {int = [1, 3]}\n"
                                '"objective.name" = {choice = ["ns", "hinge"]}\n')
    out = tmp_path / "search"
    argv = ["sweep", "--config", cfg, "--search", "optuna", "--trials", "3", "--metric", "w1", "--direction",
            "minimize", "--out", out, "--no-pictures", "--json"]
    rc, stdout, err = gankit(*argv)
    assert rc == 0, err
    result = json.loads(stdout)
    assert result["trials"] == 3 and (out / "optuna.db").is_file()
    values = result["values"]
    assert result["best"]["value"] == min(values.values())
    best = result["best"]["trial"]
    # each trial is a normal run; its score is its own metrics.json
    assert read_json(out / f"trial-{best}" / "seed0" / "metrics.json")["w1"] == result["best"]["value"]
    params = result["best"]["params"]
    run_cfg = read_json(out / "summary.json")
    assert run_cfg["sweep"]["best"]["params"] == params
    board = (out / "leaderboard.md").read_text()
    assert f"| trial-{best} | train.lr_d={params['train.lr_d']:.4g}, train.d_steps={params['train.d_steps']}," in board
    # the best config, trained again by gankit train, gives the reported score
    rc, stdout, err = gankit("train", "--config", out / "best.toml", "--out", tmp_path / "again", "--json",
                             "--no-progress")
    assert rc == 0, err
    again = json.loads(stdout)
    assert again["w1"] == result["best"]["value"] and again["objective"] == params["objective.name"]
    # run again: the study already holds 3 trials, nothing is trained; --trials 4 adds one (a second worker joins)
    rc, stdout, _ = gankit(*argv)
    assert rc == 0 and json.loads(stdout)["values"] == values
    assert argv[5:7] == ["--trials", "3"]
    rc, stdout, _ = gankit(*argv[:6], "4", *argv[7:])
    assert rc == 0 and len(json.loads(stdout)["values"]) == 4 and (out / "trial-3" / "seed0" / "metrics.json").exists()


@pytest.mark.slow  # a local Ray takes 30-60 s to start on two busy cores
@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="needs the ray extra: pip install 'gankit[ray]'")
def test_ray_executor_gives_the_local_numbers(tmp_path):
    cfg = tiny_config(tmp_path)
    common = ["--config", cfg, "--objective", "ns,hinge", "--no-pictures", "--no-progress", "--json"]
    rc, local, err = gankit("sweep", *common, "--out", tmp_path / "local")
    assert rc == 0, err
    rc, on_ray, err = gankit("sweep", *common, "--out", tmp_path / "ray", "--executor", "ray", "--jobs", "1")
    assert rc == 0, err

    def per_seed(text):
        return {c["name"]: [r["metrics"] for r in c["per_seed"]] for c in json.loads(text)["combinations"]}

    a, b = per_seed(local), per_seed(on_ray)
    assert a.keys() == b.keys() == {"objective-ns", "objective-hinge"}
    for name in a:
        for x, y in zip(a[name], b[name], strict=True):
            assert _results(x) == _results(y)


def _results(metrics):
    """The numbers a run computes (not the seconds it took)."""
    return {k: v for k, v in metrics.items() if k != "time" and not k.endswith("_time")}
