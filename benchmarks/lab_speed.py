"""Training speed of ``gankit lab`` with the page open, against headless ``gankit train`` on the same config.

Headless: ``gankit train --steps N --threads T --json`` in a subprocess; its ``wall_time`` is the
training loop's time (callbacks, evaluations and snapshot frames included, start-up and final
pictures not). Lab: a :class:`gankit.lab.LabSession` on the same preset and steps at ``T``
threads, served by uvicorn in this process, with the page open in headless Chromium (or, without
Chromium, a client reading the frame stream) at ``--fps`` frames per second; steps/s from the
moment it starts playing to step N, frames/s counted as the frames the page received.

Usage::

    PYTHONPATH=src python benchmarks/lab_speed.py                # 600 steps, 1 thread, 10 frames/s
    PYTHONPATH=src python benchmarks/lab_speed.py --steps 1000 --fps 20 --json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import torch


def headless(steps: int, threads: int, out: Path) -> float:
    """Steps per second of ``gankit train`` on the compare preset (MLPs 3×256)."""
    cmd = [sys.executable, "-m", "gankit", "train", "--preset", "compare", "--steps", str(steps), "--threads", str(threads),
           "--json",
           "--no-progress", "--out", str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return steps / float(json.loads(res.stdout)["wall_time"])


def _page(url: str, profile: Path) -> subprocess.Popen | None:
    browser = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
    if browser is None:
        return None
    # with a remote-debugging port headless Chromium keeps the page open until it is killed
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={profile}",
           "--window-size=1200,1150", "--remote-debugging-port=0", url]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stream_client(url: str, stop: threading.Event) -> None:
    import httpx  # the dev extra; only without Chromium

    with httpx.stream("GET", url, timeout=None) as r:
        for _ in r.iter_lines():
            if stop.is_set():
                return


def lab(steps: int, threads: int, fps: int, root: Path, browser: bool = True) -> dict[str, float]:
    """Steps/s and frames/s of the lab with a page open at ``fps``."""
    import uvicorn

    from gankit.lab import LabSession
    from gankit.lab.server import build_app

    torch.set_num_threads(threads)
    session = LabSession(preset="compare", sets={"train.steps": steps}, runs_root=root / "runs").start()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(build_app(session), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    stop = threading.Event()
    page = _page(f"http://127.0.0.1:{port}/?fps={fps}", root / "profile") if browser else None
    if page is None:
        threading.Thread(target=_stream_client, args=(f"http://127.0.0.1:{port}/api/stream?fps={fps}", stop),
                         daemon=True).start()
    end = time.monotonic() + 600
    while session.views.frame_id < 1:  # the page is open and has its first frame (paused: no more until a step)
        if time.monotonic() > end:
            if page is not None:
                page.kill()
            raise SystemExit("the page received no frames in 600 s")
        time.sleep(0.05)
    f0, t0 = session.views.frame_id, time.perf_counter()
    session.playing = True
    while session.step < steps:
        time.sleep(0.02)
    wall = time.perf_counter() - t0
    frames = session.views.frame_id - f0
    stop.set()
    if page is not None:
        page.kill()
    server.should_exit = True
    session.stop()
    return {"steps_per_s": steps / wall, "frames_per_s": frames / wall, "page": "chromium" if page else "stream client"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--fps", type=int, default=10)
    ap.add_argument("--page", choices=("chromium", "stream"), default="chromium",
                    help="what watches: the page in headless Chromium (if installed) or a client reading the stream")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        h = headless(args.steps, args.threads, root / "headless")
        result = lab(args.steps, args.threads, args.fps, root, browser=args.page == "chromium")
    result.update(headless_steps_per_s=h, ratio=result["steps_per_s"] / h, steps=args.steps, threads=args.threads,
                  fps_asked=args.fps, cpus=os.cpu_count())
    if args.json:
        print(json.dumps(result))
    else:
        print(f"headless gankit train: {h:.1f} steps/s; lab with the page open ({result['page']}, {args.fps} "
              f"frames/s asked): {result['steps_per_s']:.1f} steps/s ({100 * result['ratio']:.0f} % of headless), "
              f"{result['frames_per_s']:.1f} frames/s; {args.steps} steps, {args.threads} thread(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
