"""Cost of one training frame (gankit.report.frames) with the default models, 2-D and 1-D.

Run: PYTHONPATH=src python benchmarks/report_frame_cost.py
Prints wall and CPU seconds per frame (first frame builds the figure; the rest update it).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import torch

from gankit.config import RunConfig, apply_overrides
from gankit.report.frames import FrameView
from gankit.run import build


def main() -> None:
    torch.set_num_threads(1)
    out = Path(tempfile.mkdtemp())
    print(f"load average: {os.getloadavg()}")
    for data, latent in (("ring8", 2), ("0.3*N(-2,0.5) + 0.7*N(1,1)", 1)):
        b = build(apply_overrides(RunConfig(), {"data.name": data, "model.latent_dim": latent}))
        view = FrameView(b.source, b.objective)
        walls, cpus = [], []
        for i in range(11):
            t, c = time.perf_counter(), time.process_time()
            view.draw(b.G, b.D, out / f"f{i}.png", title=str(i))
            walls.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
        view.close()
        print(f"{data:28s} first frame {walls[0]:.3f} s wall / {cpus[0]:.3f} s cpu; "
              f"next 10: median {statistics.median(walls[1:]):.3f} s wall / {statistics.median(cpus[1:]):.3f} s cpu")


if __name__ == "__main__":
    main()
