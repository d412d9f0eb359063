"""`gankit report` says above its comparison when runs on one data set used different image feature networks."""

from __future__ import annotations

import json
from pathlib import Path

from gankit.cli import main
from gankit.config import RunConfig, apply_overrides, dumps_toml


def _run(folder: Path, seed: int, net: str, provenance: str) -> Path:
    folder.mkdir(parents=True)
    cfg = apply_overrides(RunConfig(), ["data.name=digits", f"train.seed={seed}", "train.steps=100"])
    (folder / "config.toml").write_text(dumps_toml(cfg))
    rec = {"step": 100, "d_loss": 1.0, "g_loss": 1.0, "frechet_distance": 10.0 + seed, "feature_net": net,
           "feature_net_provenance": provenance}
    (folder / "history.jsonl").write_text(json.dumps(rec) + "\n")
    (folder / "metrics.json").write_text(json.dumps({**rec, "data": "digits", "seed": seed}))
    return folder


def test_different_feature_nets_are_flagged(tmp_path, capsys):
    a = _run(tmp_path / "a", 0, "2a3bc6078549a780", "shipped")
    b = _run(tmp_path / "b", 1, "2a3bc6078549a780", "shipped")
    c = _run(tmp_path / "c", 2, "d6b802ae428a3011", "local")
    out = tmp_path / "r.html"
    assert main(["report", str(a), str(b), "-o", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["feature_nets"] is None
    assert "Different feature networks" not in out.read_text()
    assert main(["report", str(a), str(b), str(c), "-o", str(out), "--json"]) == 0
    note = json.loads(capsys.readouterr().out)["feature_nets"]
    assert "d6b802ae428a3011 (local) in c" in note and "2a3bc6078549a780 (shipped) in a, b" in note
    page = out.read_text()
    assert "Different feature networks" in page and "not comparable" in page
    assert page.index("Different feature networks") < page.index("<table")  # in the comparison's header
