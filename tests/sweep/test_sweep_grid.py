"""The plan of a sweep (grid, seeds, folder names) and its refusals of bad input: one line, exit 2, nothing written."""

from __future__ import annotations

import sys

import pytest
from sweep_helpers import gankit, tiny_config

from gankit.errors import GankitError
from gankit.sweep import parse_grid, plan, seed_list, split_values


def test_split_values_keeps_arrays_and_quotes_whole():
    assert split_values("ns,hinge") == ["ns", "hinge"]
    assert split_values('[0.5,0.9],[0.0,0.99]') == ["[0.5,0.9]", "[0.0,0.99]"]
    assert split_values('"a,b",c') == ['"a,b"', "c"]
    assert split_values("N(0,1),0.5*N(-2,0.5) + 0.5*N(2,0.5)") == ["N(0,1)", "0.5*N(-2,0.5) + 0.5*N(2,0.5)"]


def test_grid_seeds_and_names(tmp_path):
    grid = parse_grid(["objective.name=ns,hinge", "data.name=ring8,grid25", "train.steps=7"])
    jobs = plan([], grid, seed_list(2, None, 3), tmp_path)
    assert len(jobs) == 2 * 2 * 2
    # seed-major: every combination gets seed 3 before any gets seed 4
    assert [j.seed for j in jobs] == [3, 3, 3, 3, 4, 4, 4, 4]
    names = sorted({j.combo.name for j in jobs})
    assert names == ["objective-hinge_data-grid25", "objective-hinge_data-ring8", "objective-ns_data-grid25",
                     "objective-ns_data-ring8"]  # the one-valued train.steps is an override, not in the names
    j = next(j for j in jobs if j.combo.name == "objective-hinge_data-grid25" and j.seed == 4)
    assert (j.cfg.objective.name, j.cfg.data.name, j.cfg.train.steps, j.cfg.train.seed) == ("hinge", "grid25", 7, 4)
    assert j.out == tmp_path / "objective-hinge_data-grid25" / "seed4"
    assert j.cfg.model.pack == 2  # the default preset, as `gankit train` resolves it


def test_configs_are_an_axis(tmp_path):
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text("[train]\nlr_d = 0.002\n")
    b.write_text("[train]\nlr_d = 0.003\n")
    jobs = plan([a, b], [], [0], tmp_path / "out")
    assert {j.combo.name: j.cfg.train.lr_d for j in jobs} == {"config-a": 0.002, "config-b": 0.003}


def test_seed_list():
    assert seed_list(None, "1,2,5") == [1, 2, 5]
    assert seed_list(None, None) == [0]
    for bad in [(0, None), (None, "1,x"), (None, "1,1"), (2, "1")]:
        with pytest.raises(GankitError):
            seed_list(*bad)


BAD = [
    (["--set", "train.steps"], "malformed --set"),
    (["--set", "nosection=1,2"], "malformed --set"),
    (["--set", "train.nokey=1,2"], "nokey"),
    (["--set", "objective.name=ns,ns"], "repeats"),
    (["--set", "objective.name=ns", "--set", "objective.name=hinge"], "twice"),
    (["--objective", "ns,nope"], "nope"),
    (["--seeds", "0"], "--seeds"),
    (["--seed-list", "1,a"], "--seed-list"),
    (["--jobs", "0"], "--jobs"),
    (["--steps", "0"], "--steps"),
    (["--preset", "nope"], "preset"),
    (["--search", "optuna"], "[search]"),
]


@pytest.mark.parametrize("argv, named", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, argv, named):
    out = tmp_path / "sweep"
    rc, stdout, err = gankit("sweep", "--out", out, *argv)
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and named in err and "Traceback" not in err
    assert not out.exists()


def test_bad_config_files(tmp_path):
    out = tmp_path / "sweep"
    cfg = tiny_config(tmp_path, "\n[search]\nlr_d = {log = [1e-4, 1e-2]}\n")
    rc, _, err = gankit("sweep", "--config", cfg, "--out", out)  # a [search] table without --search
    assert rc == 2 and "[search]" in err and not out.exists()
    for table, named in [("lr_d = {log = [0, 1]}", "0 < low"), ("d_steps = {int = [3, 1]}", "low < high"),
                         ("name = {choice = ['ns']}", "data.name"), ("lr_d = {uniform = [1, 2]}", "must be one of"),
                         ("nokey = {float = [0, 1]}", "no config key")]:
        cfg.write_text(f"[train]\nsteps = 5\n[search]\n{table}\n")
        rc, _, err = gankit("sweep", "--config", cfg, "--search", "optuna", "--out", out)
        assert rc == 2 and named in err and len(err.strip().splitlines()) == 1, err
        assert not out.exists()
    rc, _, err = gankit("sweep", "--config", tmp_path / "missing.toml", "--out", out)
    assert rc == 2 and "missing.toml" in err and not out.exists()


def test_out_that_is_a_run_or_holds_other_settings(tmp_path):
    cfg = tiny_config(tmp_path)
    run = tmp_path / "run"
    assert gankit("train", "--config", cfg, "--out", run, "--no-progress")[0] == 0
    rc, _, err = gankit("sweep", "--config", cfg, "--out", run)
    assert rc == 2 and "run directory" in err
    out = tmp_path / "sweep"
    assert gankit("sweep", "--config", cfg, "--out", out, "--no-pictures", "--no-progress")[0] == 0
    before = sorted(p.name for p in out.rglob("*"))
    rc, _, err = gankit("sweep", "--config", cfg, "--steps", "30", "--out", out)  # the same folders, other steps
    assert rc == 2 and "train.steps=20" in err and "train.steps=30" in err
    assert sorted(p.name for p in out.rglob("*")) == before


def test_missing_extras_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails as it does without the extra
    monkeypatch.setitem(sys.modules, "optuna", None)
    out = tmp_path / "sweep"
    rc, _, err = gankit("sweep", "--executor", "ray", "--out", out)
    assert rc == 2 and err.strip() == "gankit: error: --executor ray needs Ray: pip install 'gankit[ray]'"
    cfg = tiny_config(tmp_path, "\n[search]\nlr_d = {log = [1e-4, 1e-2]}\n")
    rc, _, err = gankit("sweep", "--config", cfg, "--search", "optuna", "--out", out)
    assert rc == 2 and err.strip() == "gankit: error: --search optuna needs Optuna: pip install 'gankit[search]'"
    assert not out.exists()
