"""The samplers from the command line, and the leaderboard's rows for them."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from gankit.cli import main


def run_cli(capsys, *args):
    """(exit status, stdout, stderr) of ``gankit ARGS``."""
    code = main([str(a) for a in args])
    return (code, *capsys.readouterr())


@pytest.fixture
def hpd_run(tmp_path, capsys, tiny_overrides):
    out = tmp_path / "run"
    sets = [a for kv in [*tiny_overrides, "eval.hpd=0.8"] for a in ("--set", kv)]
    code, stdout, _ = run_cli(capsys, "train", "--out", out, "--json", *sets)
    assert code == 0
    return out, json.loads(stdout)


def test_a_run_with_a_sampler_reports_both_and_eval_reproduces_them(hpd_run, reports_both):
    out, final = hpd_run
    reports_both(out, final, {"modes", "high_quality", "reverse_kl", "w1"}, ["--hpd", "1"], "hpd")
    assert final["samplers"]["hpd"]["mass"] == 0.8


def test_sample_uses_the_runs_sampler_unless_told(hpd_run, sample_follows_run):
    out, _ = hpd_run
    assert sample_follows_run(out, ["--hpd", "0.8"], ["--hpd", "1"], 40).shape == (40, 2)


@pytest.mark.parametrize("args, needle", [
    (["--hpd", "0"], "hpd mass must be a number in (0, 1]"),
    (["--polarity", "nan"], "polarity rho must be a finite number"),
    (["--hpd", "0.5", "--polarity", "-1"], "choose one sampler"),
])
def test_bad_sampler_flags_are_one_line_exit_2(hpd_run, capsys, args, needle):
    out, _ = hpd_run
    code, stdout, err = run_cli(capsys, "eval", out, *args)
    assert code == 2 and needle in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def _toy_suite():
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "toy_suite.py"
    spec = importlib.util.spec_from_file_location("toy_suite_for_tests", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_leaderboard_shows_the_generator_the_sampler_and_every_sweep_row():
    ts = _toy_suite()
    runs = [{"row": "best", "data": "ring8", "seed": s, "wall_time": 1.0, "cpu_time": 1.0,
             "modes": 8.0, "high_quality": hq, "reverse_kl": 0.003, "w1": 0.04,
             "samplers": {"hpd": {"mass": 0.8, "modes": 8.0, "high_quality": 0.99, "reverse_kl": 0.001, "w1": 0.05}},
             "sweep": {"hpd 0.9": {"modes": 7.0, "high_quality": 1.0, "reverse_kl": 0.01, "w1": 0.06}}}
            for s, hq in enumerate([0.95, 0.97])]
    rows = {r["row"]: r for r in ts.summarise(runs)}
    assert set(rows) == {"best", "best with the sampler", "best hpd 0.9"}
    assert rows["best"]["high_quality"] == "96.0±1.4%"  # the generator's own
    assert rows["best with the sampler"]["high_quality"] == "99.0±0.0%"
    assert rows["best hpd 0.9"]["modes"] == "7.0±0.0"


def test_leaderboard_reads_older_logs_into_the_same_rows():
    ts = _toy_suite()
    old = [{"row": "best", "data": "ring8", "seed": s, "wall_time": 1.0, "cpu_time": 1.0,
            "modes": 8.0, "high_quality": 0.99, "reverse_kl": 0.001, "w1": 0.05,
            "plain_modes": 8.0, "plain_high_quality": hq, "plain_reverse_kl": 0.003, "plain_w1": 0.04}
           for s, hq in enumerate([0.95, 0.97])]
    rows = {r["row"]: r for r in ts.summarise(old)}
    assert set(rows) == {"best", "best with the sampler"}
    assert rows["best"]["high_quality"] == "96.0±1.4%" and rows["best with the sampler"]["high_quality"] == "99.0±0.0%"
