"""`gankit report` of a folder written by `gankit train --seeds N`: its seed runs, compared."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gankit.cli import main


def test_report_of_a_seeds_folder_compares_its_seed_runs(tmp_path, capsys, tiny_overrides):
    out = tmp_path / "seeds2"
    sets = [a for kv in tiny_overrides for a in ("--set", kv)]
    assert main(["train", "--seeds", "2", "--out", str(out), "--json", *sets]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert main(["report", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["report"] == str(out / "report.html") and (out / "report.html").is_file()
    (group,) = printed["groups"]
    assert group["runs"] == [str(out / "seed0"), str(out / "seed1")]
    w1 = np.array(summary["metrics"]["w1"]["values"])
    assert group["w1"]["n"] == 2 and group["w1"]["mean"] == pytest.approx(w1.mean(), rel=1e-12)
    assert group["w1"]["std"] == pytest.approx(w1.std(ddof=1), rel=1e-12)
    text = (out / "report.html").read_text()
    assert "Comparison" in text and text.count("<section class='run'>") == 2


def test_a_folder_with_neither_a_run_nor_seed_runs_is_still_refused(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "summary.json").write_text("{}")
    assert main(["report", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert "is not a gankit run directory" in err and len(err.strip().splitlines()) == 1
