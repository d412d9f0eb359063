"""Crash safety: ``kill -9`` a real ``python -m gankit train`` at random moments, resume, compare bit for bit.

The uninterrupted reference is trained in process with the same config; the killed run is
resumed with ``gankit train --resume`` (possibly several times) and must end with exactly
the same weights, optimiser states, RNG states and history.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from reliab_helpers import assert_same_run, tiny_args, tiny_config

from gankit.run import Run
from gankit.train.checkpoint import list_checkpoints

torch.set_num_threads(1)
SRC = str(Path(__file__).resolve().parents[2] / "src")
KILL_RUN = ("train.steps=60", "train.eval_every=20")


def _env() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = SRC + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _train_cmd(out: Path) -> list[str]:
    # --preset plain: RunConfig()'s defaults, as in the in-process reference
    return [sys.executable, "-m", "gankit", "train", "--preset", "plain", "--out", str(out), "--no-progress",
            *tiny_args(*KILL_RUN)]


def _kill_at_random(cmd: list[str], out: Path, rng: random.Random, timeout: float = 120.0) -> int | None:
    """Start ``cmd``; SIGKILL it once its newest checkpoint reaches a random step (plus a random delay).

    Returns the newest checkpoint step seen at the kill, or None when the run finished first.
    """
    target = rng.randrange(0, 60)
    delay = rng.uniform(0.0, 0.05)
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t0 = time.monotonic()
    try:
        while proc.poll() is None and time.monotonic() - t0 < timeout:
            found = list_checkpoints(out / "checkpoints")
            if found and found[-1][0] >= target:
                time.sleep(delay)
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return found[-1][0]
            time.sleep(0.002)
        if proc.poll() is None:
            proc.kill()
            pytest.fail("training subprocess did not finish in time")
        assert proc.returncode == 0, proc.stderr.read().decode()
        return None
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stderr.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "run"
    Run(tiny_config(*KILL_RUN), out).fit(pictures=False)
    return out


def _trial(reference: Path, out: Path, seed: int, kills: int, inprocess_resume: bool = False) -> list[int | None]:
    rng = random.Random(seed)
    seen = [_kill_at_random(_train_cmd(out), out, rng)]
    resume = [sys.executable, "-m", "gankit", "train", "--resume", str(out), "--no-progress"]
    for _ in range(kills):
        if (out / "metrics.json").exists():  # killed after the run had finished (while drawing pictures)
            seen[-1] = None
        if seen[-1] is None or len(seen) == kills:
            break
        seen.append(_kill_at_random(resume, out, rng))
    if seen[-1] is not None and inprocess_resume:  # saves a second interpreter start in the default suite
        from gankit.cli import main

        assert main(resume[3:]) == 0
    elif seen[-1] is not None:
        done = subprocess.run(resume, env=_env(), capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    assert_same_run(reference, out)
    print(f"kills at checkpoint steps {seen}")  # shown with -s
    return seen


def test_sigkill_then_resume_is_bit_exact(reference: Path, tmp_path: Path) -> None:
    seen = _trial(reference, tmp_path / "run", seed=1, kills=1, inprocess_resume=True)
    assert seen[0] is not None, "the run finished before the kill; the test did not test anything"


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(2, 8))
def test_sigkill_many_times_then_resume_is_bit_exact(reference: Path, tmp_path: Path, seed: int,
                                                     request: pytest.FixtureRequest) -> None:
    # the project's addopts do not deselect slow tests: run these only when -m names them
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("slow (about a minute each on 2 busy cores): run with -m slow")
    _trial(reference, tmp_path / "run", seed=seed, kills=3)
