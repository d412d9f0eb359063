import json
import subprocess
import sys

import numpy as np
import pytest

from gankit.cli import main

TINY = ["--set", "train.batch_size=32", "--set", "model.g_width=16", "--set", "model.d_width=16",
        "--set", "model.g_depth=1", "--set", "model.d_depth=1", "--set", "eval.n_samples=200",
        "--set", "eval.w1_samples=100", "--set", "train.eval_every=10", "--no-progress"]


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def trained(tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, _ = run_cli(capsys, "train", "--steps", 20, "--out", out, "--json", *TINY)
    assert code == 0
    return out, json.loads(stdout)


def test_train_json_sample_and_eval(trained, tmp_path, capsys):
    out, final = trained
    assert final["step"] == 20 and {"modes", "high_quality", "reverse_kl", "w1"} <= set(final)
    a, b, c = tmp_path / "a.npy", tmp_path / "b.npy", tmp_path / "c.npy"
    assert run_cli(capsys, "sample", out, "-n", 50, "--seed", 4, "-o", a)[0] == 0
    assert run_cli(capsys, "sample", out, "-n", 50, "--seed", 4, "-o", b)[0] == 0
    assert run_cli(capsys, "sample", out, "-n", 50, "--seed", 5, "-o", c)[0] == 0
    xa, xb, xc = np.load(a), np.load(b), np.load(c)
    assert xa.shape == (50, 2) and np.array_equal(xa, xb) and not np.array_equal(xa, xc)
    code, stdout, _ = run_cli(capsys, "eval", out, "--json")
    ev = json.loads(stdout)
    assert code == 0 and ev["step"] == 20
    # eval of the final checkpoint with the run's eval settings reproduces metrics.json
    assert ev["w1"] == pytest.approx(final["w1"])
    assert ev["modes"] == final["modes"]


def test_print_config_applies_flags_and_overrides(capsys):
    code, out, _ = run_cli(capsys, "train", "--print-config", "--objective", "minimax", "--steps", 9,
                           "--set", "model.g_width=33", "--data", "0.5*N(0,1) + 0.5*N(3,1)")
    assert code == 0
    import tomllib

    cfg = tomllib.loads(out)
    assert cfg["objective"]["name"] == "minimax" and cfg["train"]["steps"] == 9
    assert cfg["model"]["g_width"] == 33 and cfg["data"]["name"] == "0.5*N(0,1) + 0.5*N(3,1)"


def test_config_file_then_flags(tmp_path, capsys):
    p = tmp_path / "c.toml"
    p.write_text('[train]\nsteps = 123\nseed = 4\n[objective]\nname = "minimax"\n')
    code, out, _ = run_cli(capsys, "train", "--config", p, "--seed", 9, "--print-config")
    assert code == 0 and "steps = 123" in out and "seed = 9" in out and 'name = "minimax"' in out


def test_resume_extends_a_run(trained, capsys):
    out, _ = trained
    code, stdout, _ = run_cli(capsys, "train", "--resume", out, "--steps", 30, "--json", "--no-progress")
    assert code == 0 and json.loads(stdout)["step"] == 30


def test_list_shows_every_registry(capsys):
    code, out, _ = run_cli(capsys, "list", "--json")
    listing = json.loads(out)
    assert code == 0
    assert {"ring8", "grid25", "spiral", "moons"} <= set(listing["data"])
    assert {"minimax", "ns"} <= set(listing["objectives"])
    assert "mlp" in listing["models"] and "modes" in listing["metrics"]


@pytest.mark.parametrize(
    "args, needle",
    [
        (["train", "--data", "ring9"], "unknown data source 'ring9'; known:"),
        (["train", "--objective", "wgan-xx"], "unknown objective 'wgan-xx'; known:"),
        (["train", "--model", "resnet"], "unknown model 'resnet'; known:"),
        (["train", "--data", "0.3*N(0,1) + 0.3*N(1,1)"], "sum to 1"),
        (["train", "--set", "train.nope=1"], "unknown config key train.nope"),
        (["train", "--set", "train.steps=ten"], "must be an integer"),
        (["train", "--config", "/nonexistent/x.toml"], "does not exist"),
        (["train", "--steps", "abc"], "invalid int value"),
        (["sample", "/nonexistent/run", "-o", "x.npy"], "does not exist"),
        (["eval", "/nonexistent/run"], "does not exist"),
        (["train", "--resume", "/nonexistent/run"], "does not exist"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, needle, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) if args[0] == "frobnicate" or "abc" in args else _nullcontext() as exc:
        code, _, err = run_cli(capsys, *args)
    if exc is not None and hasattr(exc, "value"):
        code = exc.value.code
        err = capsys.readouterr().err
    assert code == 2
    assert needle in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert not (tmp_path / "runs").exists()  # nothing created for a bad config


class _nullcontext:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def test_run_directory_without_checkpoint(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(capsys, "eval", tmp_path / "empty")
    assert code == 2 and "no checkpoint" in err


def test_console_entry_point_module(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "gankit", "train", "--objective", "nope"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("gankit: error: unknown objective 'nope'")
    assert "Traceback" not in proc.stderr


def test_one_dimensional_mixture_run(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "train", "--data", "0.3*N(-2,0.5) + 0.7*N(1,1)", "--steps", 20,
                           "--out", tmp_path / "r", "--json", *TINY)
    res = json.loads(out)
    assert code == 0 and res["w1"] > 0 and "modes" in res
    assert (tmp_path / "r" / "samples.png").is_file()
