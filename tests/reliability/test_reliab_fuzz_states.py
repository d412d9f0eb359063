"""Property-based attacks on checkpoint STATES (valid header and hash, wrong contents) and on image files.

A checkpoint whose hash matches but whose entries have the wrong types, shapes or values must be
refused with one line by ``gankit sample`` (never a traceback, never NaN samples); a mutated PNG in
an image folder must be refused with one line by ``gankit train --data`` or read.
"""

from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from reliab_helpers import tiny_config
from test_reliab_fuzz import TMP, assert_clean, fuzz, run_cli

from gankit.run import Run
from gankit.train.checkpoint import MAGIC

junk = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8), st.binary(max_size=8), st.lists(st.integers(0, 3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(0, 3), max_size=2),
    st.sampled_from([torch.zeros(0), torch.full((2, 2), float("nan")), torch.ones(3, dtype=torch.int64),
                     torch.zeros(2, dtype=torch.uint8), torch.ones(1, 1, 1)]),
)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("states") / "run"
    Run(tiny_config("train.steps=2", "train.eval_every=0", "train.ema=0.9"), out).fit(pictures=False)
    return out


def _paths(state: dict, prefix: tuple = ()) -> list[tuple]:
    """Every key path of a nested state (dicts only), so one entry anywhere can be replaced."""
    out = []
    for k, v in state.items():
        out.append((*prefix, k))
        if isinstance(v, dict):
            out += _paths(v, (*prefix, k))
    return out


@fuzz(120)
@given(st.data())
def test_fuzz_type_confused_checkpoint_states(run_dir: Path, data: st.DataObject) -> None:
    (ckpt,) = sorted((run_dir / "checkpoints").glob("step_*.ckpt"))[-1:]
    state = torch.load(io.BytesIO(ckpt.read_bytes().split(b"\n", 1)[1]), weights_only=True)
    path = data.draw(st.sampled_from(_paths(state)))
    node = state
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = data.draw(junk)
    case = TMP / "states" / "run"
    shutil.rmtree(case.parent, ignore_errors=True)
    shutil.copytree(run_dir, case)
    for old in (case / "checkpoints").glob("step_*.ckpt"):
        old.unlink()
    buf = io.BytesIO()
    torch.save(state, buf)
    payload = buf.getvalue()
    (case / "checkpoints" / ckpt.name).write_bytes(MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n"
                                                   + payload)
    code, _, err = run_cli(["sample", str(case), "-n", "5", "-o", str(case / "x.npy")])
    assert_clean(code, err)
    if code == 0:  # accepted: the samples are numbers
        assert np.isfinite(np.load(case / "x.npy")).all()


def _png(side: int = 8) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.arange(side * side, dtype=np.uint8).reshape(side, side)).save(buf, format="PNG")
    return buf.getvalue()


@fuzz(60)
@given(st.lists(st.tuples(st.integers(0, len(_png()) - 1), st.integers(0, 255)), min_size=1, max_size=6),
       st.sampled_from(["flip", "width", "height"]), st.integers(0, 2**32 - 1))
def test_fuzz_mutated_png_folders(flips: list[tuple[int, int]], field: str, dim: int) -> None:
    b = bytearray(_png())
    if field == "flip":
        for i, v in flips:
            b[i] = v
    else:  # the IHDR width (offset 16) or height (20), big-endian, with the chunk's CRC left stale
        b[16 if field == "width" else 20:(16 if field == "width" else 20) + 4] = dim.to_bytes(4, "big")
    folder = TMP / "pngs"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "a").mkdir(parents=True)
    (folder / "a" / "x.png").write_bytes(bytes(b))
    out = TMP / "png-run"
    shutil.rmtree(out, ignore_errors=True)
    code, _, err = run_cli(["train", "--data", str(folder), "--steps", "1", "--no-progress", "--out", str(out),
                            "--set", "model.channels=4", "--set", "eval.n_samples=4", "--set", "train.eval_every=0"])
    assert code in (0, 2), err
    assert_clean(code, err)
    if code == 2:
        assert not out.exists()
