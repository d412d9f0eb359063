"""A report renders in headless Chromium: every image loads, no console message, a real screenshot.

Needs a Chromium on PATH (``.ci/install-browser.sh`` installs Debian's); skips with the reason
otherwise. Drives the browser with its command line only (``--dump-dom``, ``--screenshot``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gankit.config import RunConfig, apply_overrides
from gankit.report.html import write_report
from gankit.run import Run

BROWSER = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium on PATH; run .ci/install-browser.sh to install it")

TINY = ["train.steps=20", "train.eval_every=10", "train.batch_size=64", "model.g_width=16", "model.d_width=16",
        "model.g_depth=1", "model.d_depth=1", "eval.n_samples=300", "eval.w1_samples=100",
        "train.checkpoint_every=0", "train.progress=false"]


# Runs in the page after load: records every <img>'s state and any error event in a <pre>.
CHECK = """<script>
window.__errs = [];
window.addEventListener('error', e => window.__errs.push(String(e.message || (e.target && e.target.alt))), true);
window.addEventListener('load', () => {
  const imgs = [...document.images];
  const pre = document.createElement('pre');
  pre.id = 'gankit-check';
  pre.textContent = JSON.stringify({imgs: imgs.map(i => [i.alt, i.complete, i.naturalWidth, i.naturalHeight]),
                                    errors: window.__errs});
  document.body.appendChild(pre);
});
</script>"""


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    cmd = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
           f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    Run(apply_overrides(RunConfig(), TINY), root / "run0").fit(progress=False)
    # A second seed of the same config, for the comparison section (a copy: training twice costs CPU).
    shutil.copytree(root / "run0", root / "run1")
    cfg = root / "run1" / "config.toml"
    cfg.write_text(cfg.read_text().replace("seed = 0\n", "seed = 1\n", 1))
    runs = [root / "run0", root / "run1"]
    return write_report(runs, root / "report.html")


def test_images_load_without_console_errors(report: Path, tmp_path: Path) -> None:
    text = report.read_text(encoding="utf-8")
    checked = tmp_path / "checked.html"
    checked.write_text(text.replace("</head>", CHECK + "</head>", 1), encoding="utf-8")
    res = chromium("--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000", "--dump-dom",
                   checked.as_uri(), profile=tmp_path / "profile")
    m = re.search(r'<pre id="gankit-check">(.*?)</pre>', res.stdout, re.S)
    assert m, f"page did not finish loading; stderr tail: {res.stderr[-500:]}"
    state = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    expected = text.count("<img ")
    assert expected == 2 * 3 + 1  # per run: samples, animation, curves; plus the comparison curves
    assert len(state["imgs"]) == expected
    assert all(ok and w > 0 and h > 0 for _, ok, w, h in state["imgs"]), state["imgs"]
    assert state["errors"] == []
    console = [ln for ln in res.stderr.splitlines() if ":CONSOLE" in ln]
    assert console == []


def test_screenshot_shows_the_page(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    res = chromium(f"--screenshot={shot}", "--window-size=1200,2000", "--virtual-time-budget=10000",
                   report.as_uri(), profile=tmp_path / "profile")
    assert shot.exists(), res.stderr[-500:]
    img = np.asarray(Image.open(shot).convert("RGB"))
    assert img.shape == (2000, 1200, 3)
    colours = np.unique(img[::4, ::4].reshape(-1, 3), axis=0)
    assert len(colours) > 200  # text, heatmaps and curves; a blank or error page has a handful
    background = (np.abs(img.astype(int) - img[5, 5]).sum(-1) < 10).mean()
    assert background < 0.9
