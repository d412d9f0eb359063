"""Hostile sizes through the command line: each is refused with one line, exit 2, nothing written.

Deeply nested TOML (``--set``, ``--config``, a checkpoint's config), models too large to hold,
sample counts and seeds past their documented limits, and ``gankit emd`` inputs whose costs
overflow or whose plan path is a directory.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from reliab_helpers import tiny_args

from gankit.cli import main
from gankit.config import RunConfig, apply_overrides, loads_toml
from gankit.errors import GankitError
from gankit.run import Run
from gankit.train.checkpoint import list_checkpoints, load_checkpoint, save_checkpoint

DEEP_ARRAY = "[" * 3000 + "]" * 3000
DEEP_TABLE = "{a=" * 3000 + "1" + "}" * 3000


def refused(capsys: pytest.CaptureFixture[str], argv: list[str], *words: str) -> str:
    """Run the CLI; assert exit 2 and exactly one ``gankit: error:`` line naming ``words``."""
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and len(err.splitlines()) == 1 and err.startswith("gankit: error:"), err[:500]
    for w in words:
        assert w in err, err
    return err


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("limits") / "run"
    args = tiny_args("train.steps=2", "train.eval_every=0", "train.snapshots=false", "eval.n_samples=50")
    assert main(["train", "--out", str(out), "--no-progress", *args]) == 0
    return out


# ------------------------------------------------------------------ nested TOML
@pytest.mark.parametrize("value", [DEEP_ARRAY, DEEP_TABLE])
def test_deep_set_value_is_one_line(tmp_path: Path, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    refused(capsys, ["train", "--out", str(out), "--set", f"train.steps={value}"], "deeper than 32 levels")
    assert not out.exists()


@pytest.mark.parametrize("text", [f"x = {DEEP_ARRAY}\n", f"x = {DEEP_TABLE}\n",
                                  "[train]\nsteps" + ".a" * 3000 + " = 1\n"])
def test_deep_config_file_is_one_line(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, out = tmp_path / "deep.toml", tmp_path / "run"
    cfg.write_text(text)
    refused(capsys, ["train", "--config", str(cfg), "--out", str(out)], "deeper than 32 levels")
    assert not out.exists()


def test_nesting_within_the_limit_and_brackets_in_strings_are_accepted() -> None:
    text = "[train]\nsteps = 5 # " + "[" * 40 + "\n[data]\nname = '" + "[" * 40 + "'\n"
    cfg = loads_toml(text)
    assert (cfg.train.steps, cfg.data.name) == (5, "[" * 40)
    with pytest.raises(GankitError, match=r"^train.steps must be an integer, got \[\[\["):
        loads_toml("[train]\nsteps = " + "[" * 32 + "]" * 32 + "\n")
    with pytest.raises(GankitError, match="deeper than 32 levels"):
        loads_toml("[train]\nsteps = " + "[" * 33 + "]" * 33 + "\n")


def test_deep_checkpoint_config_is_one_line(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    step, path = list_checkpoints(copy / "checkpoints")[-1]
    state = load_checkpoint(path)
    state["config"] = f"x = {DEEP_ARRAY}\n"
    save_checkpoint(copy / "checkpoints", step + 1, state)
    refused(capsys, ["sample", str(copy), "-n", "5", "-o", str(tmp_path / "s.npy")], "deeper than 32 levels")
    assert not (tmp_path / "s.npy").exists()


# ------------------------------------------------------------------ model size
@pytest.mark.parametrize("sets, words", [
    (["model.g_width=65536"], "model.g_width must be in [1, 8192]"),
    (["model.latent_dim=65536"], "model.latent_dim must be in [1, 8192]"),
    (["model.d_depth=256"], "model.d_depth must be in [1, 64]"),
    (["model.g_width=8192", "model.g_depth=6"], "at most 2**28"),
    (["model.d_width=4096", "model.d_depth=64"], "at most 2**28"),
    (["model.channels=100000"], "model.channels must be in [1, 256]"),
    (["model.pack=1000000"], "model.pack must be in [1, 64]"),
])
def test_models_too_large_to_hold_are_one_line(tmp_path: Path, sets: list[str], words: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    refused(capsys, ["train", "--out", str(out), *[a for s in sets for a in ("--set", s)]], words)
    assert not out.exists()


def test_largest_allowed_model_config_is_accepted() -> None:
    cfg = apply_overrides(RunConfig(), ["model.g_width=8192", "model.g_depth=4", "model.latent_dim=8192",
                                        "model.d_width=8192", "model.d_depth=5", "model.channels=256",
                                        "model.pack=64"])
    assert (cfg.model.g_width, cfg.model.d_depth, cfg.model.channels, cfg.model.pack) == (8192, 5, 256, 64)


# ------------------------------------------------------------------ sample counts and seeds
@pytest.mark.parametrize("argv, words", [
    (["sample", "{run}", "-n", "1000000000000", "-o", "{out}"], "-n must be in [1, 10**7]"),
    (["sample", "{run}", "-n", "10", "--seed", str(2**64), "-o", "{out}"], "--seed must be in [0, 2**62]"),
    (["sample", "{run}", "-n", "10", "--seed", "-1", "-o", "{out}"], "--seed must be in [0, 2**62]"),
    (["eval", "{run}", "-n", "1000000000000"], "-n must be in [1, 10**7]"),
    (["eval", "{run}", "--seed", str(2**64)], "--seed must be in [0, 2**62]"),
    (["train", "--out", "{out}", "--seed", str(2**64)], "train.seed must be in [0, 2**62]"),
    (["train", "--out", "{out}", "--set", f"train.seed={2**64}"], "train.seed must be in [0, 2**62]"),
    (["divergence", "--p", "N(0,1)", "--q", "N(1,1)", "--samples", "1000000000000"],
     "--samples must be in [2, 10**7]"),
    (["divergence", "--p", "N(0,1)", "--q", "N(1,1)", "--seed", str(2**64)], "--seed must be in [0, 2**62]"),
    (["classic", "gmm", "--data", "ring8", "--n-train", "100000000000"], "--n-train must be in [1, 10**7]"),
    (["classic", "gmm", "--data", "ring8", "--n-test", "100000000000"], "--n-test must be in [1, 10**7]"),
    (["classic", "gmm", "--data", "ring8", "--samples", "100000000000", "-o", "{out}"],
     "--samples must be in [0, 10**7]"),
    (["classic", "gmm", "--data", "ring8", "--seed", str(2**64)], "--seed must be in [0, 4294967295]"),
    (["classic", "naive-bayes", "--seed", str(2**32)], "--seed must be in [0, 4294967295]"),
    (["classic", "nb-text", "{csv}", "--seed", str(2**64)], "--seed must be in [0, 4294967295]"),
])
def test_counts_and_seeds_past_their_limits_are_one_line(argv: list[str], words: str, run_dir: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "t.csv"
    csv.write_text("label,text\na,hello world\nb,bye now\na,hello there\nb,bye bye\n")
    out = tmp_path / "out.npy"
    args = [a.replace("{run}", str(run_dir)).replace("{out}", str(out)).replace("{csv}", str(csv)) for a in argv]
    refused(capsys, args, words)
    assert not out.exists()


def test_run_sample_refuses_more_than_the_limit(run_dir: Path) -> None:
    run = Run.load(run_dir)
    with pytest.raises(GankitError, match=r"n must be an integer in \[1, 10\*\*7\]"):
        run.sample(10**7 + 1)
    assert run.sample(3, seed=1).shape[0] == 3


# ------------------------------------------------------------------ emd
@pytest.fixture
def points(tmp_path: Path) -> dict[str, Path]:
    arrays = {"a": [[0.0, 0.0], [1.0, 1.0]], "big": [[1e300, -1e300], [-1e300, 1e300]],
              "max": [[1.7e308, -1.7e308], [-1.7e308, 1.7e308]], "line": [1e300, -1e300]}
    files = {}
    for name, value in arrays.items():
        files[name] = tmp_path / f"{name}.npy"
        np.save(files[name], np.array(value))
    return files


@pytest.mark.parametrize("a, b, extra, words", [
    ("a", "big", [], "beyond 1e150"),
    ("a", "max", [], "beyond 1e150"),
    ("line", "line", [], "beyond 1e150"),
    ("a", "a", ["--order", "1e308"], "--order must be a number in [1, 100]"),
    ("a", "a", ["--order", "101"], "--order must be a number in [1, 100]"),
])
def test_emd_costs_past_the_solver_range_are_one_line(points: dict[str, Path], a: str, b: str, extra: list[str],
                                                      words: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    plan = tmp_path / "plan.npy"
    refused(capsys, ["emd", str(points[a]), str(points[b]), "-o", str(plan), *extra], words)
    assert not plan.exists()


def test_emd_plan_naming_a_directory_is_one_line(points: dict[str, Path], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "plan.npy"
    folder.mkdir()
    refused(capsys, ["emd", str(points["a"]), str(points["a"]), "-o", str(folder)], "not a regular file")
    assert list(folder.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{n}.npy" for n in points] + ["plan.npy"])


def test_emd_at_the_limits_still_solves(points: dict[str, Path], tmp_path: Path) -> None:
    x = tmp_path / "x.npy"
    np.save(x, np.array([[0.0], [1e70]]))  # costs up to 1e140 with p = 2: within range
    y = tmp_path / "y.npy"
    np.save(y, np.array([[1e70], [0.0]]))
    assert main(["emd", str(x), str(y), "--order", "2"]) == 0
    assert main(["emd", str(points["a"]), str(points["a"]), "--order", "100"]) == 0
