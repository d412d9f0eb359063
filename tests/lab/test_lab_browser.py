"""The lab in a real browser: headless Chromium loads the page from a live server, training shows on the
canvas (two screenshots differ), the page changes the objective and pauses.

Needs Chromium (``.ci/install-browser.sh``) and the lab extra; skips with the reason otherwise. Drives the
browser by its command line only: the page's URL asks for the actions (``?objective=hinge&pause_after=4``)
and ``?frames=N`` ends its stream, so that ``--virtual-time-budget`` runs out. With ``GANKIT_LAB_SHOTS=DIR``
the screenshots are kept in DIR (docs/lab.md's pictures: ``GANKIT_LAB_SHOTS=docs``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

BROWSER = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium on PATH; run .ci/install-browser.sh to install it")
uvicorn = pytest.importorskip("uvicorn", reason="the lab extra is not installed: pip install gankit[lab]")

from lab_helpers import TINY, wait_for  # noqa: E402

from gankit.lab import LabSession  # noqa: E402
from gankit.lab.server import build_app  # noqa: E402

SHOTS = os.environ.get("GANKIT_LAB_SHOTS")
CANVAS = (slice(53, 613), slice(14, 574))  # the main canvas in a 1200-wide window (rows, columns)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    # the docs' pictures show the default preset's networks; the test alone trains small ones (fast)
    lab = LabSession(sets=None if SHOTS else dict(TINY), runs_root="runs" if SHOTS else tmp_path_factory.mktemp("runs"))
    lab.playing = True
    lab.start()
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(build_app(lab), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_for(lambda: server.started, timeout=60), "the server did not start"
    yield lab, f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(10)
    lab.stop()


def chromium(url: str, *args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    cmd = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
           f"--user-data-dir={profile}", "--window-size=1200,1150", "--virtual-time-budget=30000", *args, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def shot(url: str, path: Path, profile: Path) -> np.ndarray:
    res = chromium(url, f"--screenshot={path}", profile=profile)
    assert path.exists(), res.stderr[-500:]
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(SHOTS) / path.name)
    return np.asarray(Image.open(path).convert("RGB")).astype(int)


def test_training_shows_on_the_canvas(live, tmp_path):
    lab, url = live
    first = shot(url + "?frames=5", tmp_path / "lab-ring8-early.png", tmp_path / "p1")
    step = lab.step
    more = 700 if SHOTS else 20  # the docs' picture: ring8 after some hundred steps
    assert wait_for(lambda: lab.step >= step + more, timeout=60 + more / 2)
    second = shot(url + "?frames=5", tmp_path / "lab-ring8.png", tmp_path / "p2")
    a, b = first[CANVAS], second[CANVAS]
    assert len(np.unique(a.reshape(-1, 3)[::7], axis=0)) > 100  # heatmap, points, arrows: not a blank canvas
    changed = (np.abs(a - b).sum(-1) > 30).mean()
    assert changed > 0.01, changed  # the generator moved: training is live


def test_page_changes_the_objective_and_pauses(live, tmp_path):
    lab, url = live
    res = chromium(url + "?objective=hinge&pause_after=4&frames=8", "--dump-dom", profile=tmp_path / "p3")
    assert wait_for(lambda: not lab.playing, timeout=30), res.stderr[-500:]
    assert lab.game.cfg.objective.name == "hinge"
    dom = res.stdout
    assert "objective.name: ns → hinge" in dom  # the page says what changed
    assert "hinge ·" in dom and "TV(P,Q)" in dom  # the theory panel follows the new objective
    paused = lab.step
    time.sleep(0.5)
    assert lab.step == paused
    if SHOTS:  # the docs' other pictures: the paused hinge game, then a 1-D mixture with D and D*
        shot(url + "?frames=3", tmp_path / "lab-hinge-paused.png", tmp_path / "p4")
        shot(url + "?data=0.3*N(-2,0.5)%2B0.7*N(1,1)&objective=ns&autoplay=1&frames=40&fps=10",
             tmp_path / "lab-mixture1d.png", tmp_path / "p5")
