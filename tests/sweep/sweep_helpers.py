"""Tiny sweeps for the tests of tests/sweep: a config that trains in about a second, and a CLI runner."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from gankit.cli import main

TINY = """\
[model]
g_width = 16
d_width = 16
g_depth = 1
d_depth = 1

[train]
steps = 20
batch_size = 32
eval_every = 0
checkpoint_every = 10
snapshots = false

[eval]
n_samples = 200
w1_samples = 100
"""


def tiny_config(folder: Path, extra: str = "") -> Path:
    """A TOML config of a one-second run (plus ``extra`` TOML text) in ``folder``."""
    path = folder / "tiny.toml"
    path.write_text(TINY + extra, encoding="utf-8")
    return path


def gankit(*argv: str) -> tuple[int, str, str]:
    """``gankit argv`` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            rc = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse
            rc = exc.code
    return rc, out.getvalue(), err.getvalue()


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))
