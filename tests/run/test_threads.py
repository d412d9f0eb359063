"""--threads / train.threads: applied at the start of a run or command, recorded in metrics.json."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gankit.cli import main
from gankit.config import DEFAULT_THREADS, RunConfig, apply_overrides
from gankit.errors import GankitError
from gankit.run import Run
from gankit.run.threads import resolve_threads, set_threads, threads

TINY = ["train.steps=10", "train.batch_size=32", "model.g_width=16", "model.d_width=16", "model.g_depth=1",
        "model.d_depth=1", "train.eval_every=0", "train.progress=false", "eval.n_samples=100", "eval.w1_samples=50",
        "train.snapshots=false"]


def test_a_run_applies_its_threads_records_them_and_restores_the_callers():
    seen = []
    from gankit.train.trainer import Callback

    class Count(Callback):
        def on_step_end(self, trainer):
            seen.append(torch.get_num_threads())

    torch.set_num_threads(2)
    try:
        final = Run(apply_overrides(RunConfig(), TINY), None).fit(callbacks=[Count()])
        assert final["threads"] == DEFAULT_THREADS == 1 and set(seen) == {1}
        assert torch.get_num_threads() == 2  # the caller's count (an API user's notebook) is restored
        seen.clear()
        torch.set_num_threads(1)
        final = Run(apply_overrides(RunConfig(), TINY + ["train.threads=2"]), None).fit(callbacks=[Count()])
        assert final["threads"] == 2 and set(seen) == {2} and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(1)


def test_train_flag_config_and_json(tmp_path, capsys):
    out = tmp_path / "run"
    sets = [a for kv in TINY for a in ("--set", kv)]
    assert main(["train", "--out", str(out), "--threads", "2", "--json", *sets]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["threads"] == 2 == json.loads((out / "metrics.json").read_text())["threads"]
    assert "threads = 2" in (out / "config.toml").read_text()
    assert torch.get_num_threads() == 1
    # sample and eval: --threads, else the run's train.threads; same seed, same samples at any count
    paths = [tmp_path / f"{t}.npy" for t in ("a", "b")]
    assert main(["sample", str(out), "-n", "50", "-o", str(paths[0]), "--threads", "1"]) == 0
    assert main(["sample", str(out), "-n", "50", "-o", str(paths[1])]) == 0
    assert np.array_equal(np.load(paths[0]), np.load(paths[1]))
    capsys.readouterr()
    assert main(["eval", str(out), "--threads", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["w1"] == pytest.approx(printed["w1"])


@pytest.mark.parametrize("argv, needle", [
    (["train", "--threads", "-1"], "train.threads must be in [0, 1024]"),
    (["train", "--set", "train.threads=2000"], "train.threads must be in [0, 1024]"),
    (["sample", "RUN", "-o", "x.npy", "--threads", "-3"], "--threads must be an integer in [0, 1024]"),
    (["eval", "RUN", "--threads", "5000"], "--threads must be an integer in [0, 1024]"),
])
def test_bad_thread_counts_are_one_line_exit_2(tmp_path, capsys, argv, needle):
    argv = [str(tmp_path / "nothing") if a == "RUN" else a for a in argv]
    code = main(argv + (["--out", str(tmp_path / "out"), "--steps", "1"] if argv[0] == "train" else []))
    err = capsys.readouterr().err
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_the_shared_helper():
    assert resolve_threads(None) == resolve_threads(0) == DEFAULT_THREADS and resolve_threads(3) == 3
    for bad in (-1, 1025, 1.5, True, "2"):
        with pytest.raises(GankitError, match="--threads must be an integer"):
            resolve_threads(bad)
    try:
        assert set_threads(2) == 2 and torch.get_num_threads() == 2
        with threads(None) as n:
            assert n == 1 and torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)
