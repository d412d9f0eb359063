"""`gankit report`: self-contained HTML, comparison across seeds (mean ± std), bad input."""

from __future__ import annotations

import base64
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gankit.cli import main
from gankit.config import RunConfig, apply_overrides, dumps_toml
from gankit.report import html as report_html
from gankit.run import Run

TINY = ["train.steps=30", "train.eval_every=15", "train.batch_size=64", "model.g_width=16", "model.d_width=16",
        "model.g_depth=1", "model.d_depth=1", "eval.n_samples=300", "eval.w1_samples=100",
        "train.checkpoint_every=0", "train.progress=false", "train.snapshots=false"]



def fake_run(folder: Path, overrides: list[str], metrics: dict[str, float] | None, steps: int = 100) -> Path:
    """A run directory as `gankit train` writes it, with given final metrics (None: unfinished)."""
    folder.mkdir(parents=True)
    cfg = apply_overrides(RunConfig(), overrides + [f"train.steps={steps}"])
    (folder / "config.toml").write_text(dumps_toml(cfg))
    rng = np.random.default_rng(abs(hash(str(folder))) % 2**32)
    recs = [{"step": s, "d_loss": float(rng.random()), "g_loss": float(rng.random()), "w1": float(rng.random())}
            for s in (50, 100)]
    if metrics is not None:
        recs[-1].update(metrics)
    (folder / "history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    if metrics is not None:
        (folder / "metrics.json").write_text(json.dumps({**recs[-1], "data": cfg.data.name, "seed": cfg.train.seed}))
    return folder


def images_of(text: str) -> list[tuple[str, tuple[int, int]]]:
    """(format, size) of every embedded image; each must decode (PNG/GIF by Pillow, SVG as XML)."""
    out = []
    for src in re.findall(r'<img src="([^"]+)"', text):
        assert src.startswith("data:image/"), src[:40]
        data = base64.b64decode(src.split(",", 1)[1])
        if src.startswith("data:image/svg+xml;base64,"):
            root = ET.fromstring(data)
            assert root.tag.endswith("svg") and len(root) > 5
            out.append(("SVG", (int(root.get("width")), int(root.get("height")))))
        else:
            im = Image.open(io.BytesIO(data))
            im.load()
            out.append((im.format, im.size))
    return out


def test_comparison_mean_std_matches_numpy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    values: dict[str, list[dict[str, float]]] = {"ns": [], "minimax": []}
    dirs = []
    for obj in values:
        for seed in range(5):
            m = {"modes": float(rng.integers(3, 9)), "high_quality": float(rng.random()), "w1": float(rng.random())}
            values[obj].append(m)
            dirs.append(str(fake_run(tmp_path / f"{obj}-{seed}", [f"objective.name={obj}", f"train.seed={seed}"], m)))
    out = tmp_path / "cmp.html"
    assert main(["report", *dirs, "-o", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    groups = {g["group"]: g for g in summary["groups"]}
    assert set(groups) == {"objective.name=ns", "objective.name=minimax"}
    text = out.read_text()
    for obj, ms in values.items():
        g = groups[f"objective.name={obj}"]
        for key in ("modes", "high_quality", "w1"):
            xs = np.array([m[key] for m in ms])
            assert g[key]["n"] == 5
            assert g[key]["mean"] == pytest.approx(xs.mean(), rel=1e-12)
            assert g[key]["std"] == pytest.approx(xs.std(ddof=1), rel=1e-12)
            assert f"{xs.mean():.4g} ± {xs.std(ddof=1):.4g}" in text
    assert text.count("<section class='run'>") == 10


def test_real_runs_five_seeds_two_objectives_in_one_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dirs = []
    finals: dict[str, list[float]] = {"ns": [], "minimax": []}
    for obj in finals:
        for seed in range(5):
            cfg = apply_overrides(RunConfig(), TINY + [f"objective.name={obj}", f"train.seed={seed}"])
            final = Run(cfg, tmp_path / f"{obj}-{seed}").fit(progress=False, pictures=False)
            finals[obj].append(final["w1"])
            dirs.append(str(tmp_path / f"{obj}-{seed}"))
    out = tmp_path / "report.html"
    assert main(["report", *dirs, "-o", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert len(summary["groups"]) == 2 and summary["unfinished"] == []
    for g in summary["groups"]:
        xs = np.array(finals[g["group"].split("=")[1]])
        assert g["w1"]["n"] == 5 and g["w1"]["mean"] == pytest.approx(xs.mean(), rel=1e-9)
        assert g["w1"]["std"] == pytest.approx(xs.std(ddof=1), rel=1e-9)
    text = out.read_text()
    assert "Comparison" in text and text.count(" ± ") >= 2 * 4  # 2 groups × (modes, HQ, reverse KL, W1)
    imgs = images_of(text)
    assert len(imgs) == 1 + 10  # overlaid curves + one curves figure per run
    assert all(size[0] > 100 and size[1] > 100 for _, size in imgs)


def test_page_is_self_contained(tmp_path: Path) -> None:
    cfg = apply_overrides(RunConfig(), [o for o in TINY if "snapshots" not in o])
    Run(cfg, tmp_path / "run").fit(progress=False)
    text = (tmp_path / "run" / "report.html").read_text()
    assert "<script" not in text.lower()
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', text)
    assert "@import" not in text and "url(" not in text
    kinds = sorted(fmt for fmt, _ in images_of(text))
    assert kinds == ["GIF", "PNG", "SVG"]  # animation, final samples, curves
    for word in ("ring8", "modes captured", "high-quality fraction", "earth mover", "[train]"):
        assert word in text
    assert text.index("Pictures") < text.index("Curves over training") < text.index("Config")


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    rc = main(args)
    return rc, capsys.readouterr().err


def test_not_a_run_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    for bad in (tmp_path / "empty", tmp_path / "missing"):
        rc, err = run_cli(["report", str(bad), "-o", str(tmp_path / "r.html")], capsys)
        assert rc == 2 and err.count("\n") == 1 and str(bad) in err and "Traceback" not in err
    assert not (tmp_path / "r.html").exists()


def test_bad_output_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = fake_run(tmp_path / "a", [], {"w1": 0.5})
    rc, err = run_cli(["report", str(run), "-o", str(tmp_path / "no" / "r.html")], capsys)
    assert rc == 2 and "does not exist" in err
    rc, err = run_cli(["report", str(run), "-o", str(tmp_path / "r.txt")], capsys)
    assert rc == 2 and ".html" in err


def test_unfinished_run_is_marked_and_left_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    done = [fake_run(tmp_path / f"s{s}", [f"train.seed={s}"], {"w1": 0.1 * (s + 1)}) for s in range(2)]
    running = fake_run(tmp_path / "s9", ["train.seed=9"], None)
    with open(running / "history.jsonl", "a") as fh:
        fh.write('{"step": 150, "w1"')  # a line being written
    out = tmp_path / "r.html"
    assert main(["report", *map(str, done), str(running), "-o", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["unfinished"] == [str(running)]
    assert summary["groups"][0]["w1"]["n"] == 2
    assert summary["groups"][0]["w1"]["mean"] == pytest.approx(0.15)
    text = out.read_text()
    assert "Unfinished run" in text and "Left out of the comparison" in text


def test_different_data_sources_get_marked_sections(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = fake_run(tmp_path / "a", ["data.name=ring8"], {"w1": 0.1})
    b = fake_run(tmp_path / "b", ["data.name=grid25"], {"w1": 0.2, "fid": 12.5})
    out = tmp_path / "r.html"
    assert main(["report", str(a), str(b), "-o", str(out)]) == 0
    text = out.read_text()
    assert "Different data sources" in text and "Data: ring8" in text and "Data: grid25" in text
    assert "fid = 12.5" in text  # a metric the report does not know is still shown


def test_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = fake_run(tmp_path / "a", [], {"w1": 0.5})
    out = tmp_path / "r.html"
    out.write_text("old report")

    def boom(*args: object, **kwargs: object) -> str:
        raise RuntimeError("render failed")

    monkeypatch.setattr(report_html, "render_report", boom)
    with pytest.raises(RuntimeError):
        report_html.write_report([run], out)
    assert out.read_text() == "old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "r.html"]


def test_curve_bands_and_ticks() -> None:
    from gankit.report.curves import _mean_std, nice_ticks

    rng = np.random.default_rng(1)
    vals = rng.normal(size=(5, 7))
    vals[2, 3] = np.nan  # a seed without a value at one step
    mean, std = _mean_std(vals)
    assert np.allclose(mean, np.nanmean(vals, axis=0), rtol=1e-12)
    assert np.allclose(std, np.nanstd(vals, axis=0, ddof=1), rtol=1e-12)
    assert nice_ticks(0.0, 1.0) == [0.0, 0.5, 1.0]
    assert nice_ticks(-1.37, -0.95) == [-1.2, -1.0]  # step 0.2: the first of 0.1, 0.2, 0.5 above 0.42/4
    assert nice_ticks(15, 30, 3) == [15, 20, 25, 30]


def test_hostile_names_and_config_text_are_escaped(tmp_path: Path) -> None:
    from html.parser import HTMLParser

    evil = "<img src=x onerror=alert(1)>&'\""
    runs = [fake_run(tmp_path / evil, ["train.seed=1"], {"w1": 0.5}), fake_run(tmp_path / "b", [], {"w1": 0.4})]
    with open(runs[0] / "config.toml", "a") as fh:
        fh.write("# </pre><script>alert('x')</script>\n")
    out = report_html.write_report(runs, tmp_path / "r.html", title=evil)
    text = out.read_text()

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[str] = []
            self.pre = ""
            self._in_pre = False

        def handle_starttag(self, tag, attrs):
            self.tags.append(tag)
            self._in_pre = self._in_pre or tag == "pre"

        def handle_endtag(self, tag):
            self._in_pre = self._in_pre and tag != "pre"

        def handle_data(self, data):
            self.pre += data if self._in_pre else ""

    parsed = Tags()
    parsed.feed(text)
    assert "script" not in parsed.tags
    assert parsed.tags.count("img") == len(images_of(text))  # only the report's own pictures
    assert "</pre><script>alert('x')</script>" in parsed.pre  # shown as text, verbatim
    assert text.count("&lt;img src=x onerror=alert(1)&gt;&amp;") >= 3  # title, heading, links
