"""The headline of a run is the generator's own; a sampler's numbers and draws stand beside it."""

from __future__ import annotations

import json

from PIL import Image

from gankit.cli import main


def test_a_run_with_a_sampler_headlines_the_generator(tmp_path, capsys, tiny_overrides):
    out = tmp_path / "run"
    sets = [a for kv in [*tiny_overrides, "eval.hpd=0.8", "train.snapshots=false"] for a in ("--set", kv)]
    assert main(["train", "--out", str(out), *sets]) == 0
    lines = capsys.readouterr().out.splitlines()
    metrics = json.loads((out / "metrics.json").read_text())
    last = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()][-1]
    assert metrics["w1"] == last["w1"] and metrics["modes"] == last["modes"]  # every record is the generator's
    hpd = metrics["samplers"]["hpd"]
    assert hpd["mass"] == 0.8 and hpd["w1"] != metrics["w1"]
    head = next(line for line in lines if line.startswith(f"run {out}:"))
    assert f"w1={metrics['w1']:.4g}" in head and f"w1={hpd['w1']:.4g}" not in head
    assert f"  with the sampler hpd: mass=0.8, modes={hpd['modes']:.4g}" in lines[lines.index(head) + 1]
    w, h = Image.open(out / "samples.png").size
    assert w > 1.8 * h  # two panels: the generator's draws, then the sampler's
    page = (out / "report.html").read_text()
    assert "with the sampler hpd" in page and "mass = 0.8" in page


def test_a_run_without_a_sampler_has_one_panel_and_no_samplers_key(tmp_path, capsys, tiny_overrides):
    out = tmp_path / "run"
    sets = [a for kv in [*tiny_overrides, "train.snapshots=false"] for a in ("--set", kv)]
    assert main(["train", "--out", str(out), *sets]) == 0
    assert "with the sampler" not in capsys.readouterr().out
    assert "samplers" not in json.loads((out / "metrics.json").read_text())
    w, h = Image.open(out / "samples.png").size
    assert w < 1.3 * h


def test_eval_prints_the_sampler_below_the_generator(tmp_path, capsys, tiny_overrides):
    out = tmp_path / "run"
    sets = [a for kv in [*tiny_overrides, "train.snapshots=false"] for a in ("--set", kv)]
    assert main(["train", "--out", str(out), "--json", *sets]) == 0
    final = json.loads(capsys.readouterr().out)
    assert main(["eval", str(out), "--hpd", "0.7"]) == 0
    text = capsys.readouterr().out.splitlines()
    w1_lines = [line for line in text if line.strip().startswith("w1:")]
    assert len(w1_lines) == 2 and text.index("with the sampler hpd:") > text.index(w1_lines[0])
    assert float(w1_lines[0].split(":")[1]) == float(f"{final['w1']:.4g}")
