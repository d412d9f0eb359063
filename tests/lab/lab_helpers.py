"""Shared pieces of the lab tests: a tiny lab, the in-process client, frames read off the stream."""

from __future__ import annotations

import json
import time
from typing import Any

from gankit.lab import LabSession

#: a lab that steps in milliseconds: small MLPs, small batches, small evaluations
TINY = {"model.g_width": 32, "model.d_width": 32, "model.g_depth": 2, "model.d_depth": 2,
        "train.batch_size": 64, "train.eval_every": 100, "eval.n_samples": 500, "eval.w1_samples": 200}


def tiny_lab(tmp_path: Any, **kw: Any) -> LabSession:
    return LabSession(sets=dict(TINY), runs_root=tmp_path / "runs", **kw)


def read_stream(client: Any, frames: int = 2, fps: int = 30) -> list[tuple[str, dict[str, Any], int]]:
    """``(event, data, size in bytes)`` of every message of a stream that ends after ``frames`` frames."""
    out = []
    with client.stream("GET", f"/api/stream?fps={fps}&frames={frames}") as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        text = "".join(r.iter_text())
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines["event"], json.loads(lines["data"]), len(lines["data"].encode())))
    return out


def wait_for(check: Any, timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.05)
    return False
