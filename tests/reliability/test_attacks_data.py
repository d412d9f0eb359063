"""Hostile data files and data specs: each gives one ``gankit: error:`` line, exit 2, nothing written.

Every hostile file is built here from bytes; nothing in this file runs it except through
the command line. The CIFAR batch whose dtype carries an object field corrupts memory when
numpy trusts it, so those cases run the command in a subprocess: a segfault (rc 139) fails
the test instead of killing pytest.
"""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from gankit.cli import main

# --------------------------------------------------------------------------- hostile bytes


def _global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _text(value: str) -> bytes:
    raw = value.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def _int(n: int) -> bytes:
    return b"J" + struct.pack("<i", n)


def _dtype(code: str, state: bytes) -> bytes:
    """``numpy.dtype(code, False, True)`` with ``state`` applied by BUILD (pickle opcodes)."""
    return _global("numpy", "dtype") + _text(code) + b"\x89\x88\x87R(" + state + b"tb"


def object_field_batch(key: str = "data") -> bytes:
    """A pickled dict ``{key: array}`` naming only numpy.dtype, numpy.ndarray and _reconstruct.

    The array has a structured dtype ``V8`` with one object field and flags 0 (no
    NPY_LIST_PICKLE), so numpy's ``__setstate__`` copies the 8 data bytes ``AAAAAAAA``
    into an object pointer; reading the field dereferences 0x4141414141414141.
    """
    obj = _dtype("O8", _int(3) + _text("|") + b"NNN" + _int(-1) + _int(-1) + _int(63))
    fields = b"}" + _text("a") + b"(" + obj + _int(0) + b"ts"
    record = _dtype("V8", _int(3) + _text("|") + b"N(" + _text("a") + b"t" + fields + _int(8) + _int(1) + _int(0))
    array = (_global("numpy.core.multiarray", "_reconstruct") + _global("numpy", "ndarray") + _int(0) + b"\x85"
             + b"C\x01b\x87R(" + _int(1) + _int(1) + b"\x85" + record + b"\x89C\x08" + b"A" * 8 + b"tb")
    return b"\x80\x03}" + _text(key) + array + b"s."


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(width: int, height: int, extra: bytes = b"") -> bytes:
    """A gray PNG whose header declares ``width`` x ``height``, ``extra`` chunks before its (short) data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80" * min(width, 64) for _ in range(min(height, 4)))
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + extra + _chunk(b"IDAT", zlib.compress(rows))
            + _chunk(b"IEND", b""))


def text_chunk(kind: bytes, n: int) -> bytes:
    """A zTXt or iTXt chunk of ~50 KB that inflates to ``n`` bytes."""
    head = b"Comment\x00\x00" if kind == b"zTXt" else b"Comment\x00\x01\x00\x00\x00"
    return _chunk(kind, head + zlib.compress(b"A" * n, 9))


# --------------------------------------------------------------------------- checks


def assert_refused(code: int, err: str, out: Path, *words: str) -> None:
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("gankit: error:"), err
    assert "Traceback" not in err
    assert not out.exists(), sorted(p.name for p in out.rglob("*"))
    for word in words:
        assert word in lines[0], lines[0]


def run_cli(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


def run_subprocess(argv: list[str], cwd: Path) -> tuple[int, str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "gankit", *argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)
    return proc.returncode, proc.stderr


# --------------------------------------------------------------------------- CIFAR: object-field dtype


@pytest.mark.parametrize(("command", "hostile"), [("train", "batches.meta"), ("gmm", "data_batch_1")])
def test_object_field_cifar_pickle_is_refused_without_crash(tmp_path: Path, command: str, hostile: str) -> None:
    """``batches.meta``'s label names are read element by element: without the check this is rc 139."""
    data = tmp_path / "cifar"
    data.mkdir()
    good = {b"data": np.zeros((4, 3 * 8 * 8), np.uint8), b"labels": [0, 1, 2, 3]}
    (data / "data_batch_1").write_bytes(pickle.dumps(good, protocol=2))
    (data / hostile).write_bytes(object_field_batch("label_names" if hostile == "batches.meta" else "data"))
    out = tmp_path / "out"
    argv = (["train", "--data", str(data), "--out", str(out)] if command == "train"
            else ["classic", "gmm", "--data", f"images:{data}", "--samples", "4", "-o", str(out / "s.npy")])
    code, err = run_subprocess(argv, tmp_path)
    assert code not in (-11, 139), f"segfault: {err[-500:]}"
    assert_refused(code, err, out, hostile, "dtype")


# --------------------------------------------------------------------------- PNG bombs


@pytest.mark.parametrize("case", ["30000x30000", "5000x5000", "zTXt", "iTXt"])
def test_png_bombs_are_refused_before_decoding(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    folder = tmp_path / "pngs"
    folder.mkdir()
    if "x" in case:
        w, h = (int(v) for v in case.split("x"))
        blob = png_bytes(w, h)
    else:
        blob = png_bytes(8, 8, text_chunk(case.encode(), 50_000_000))
    (folder / "a.png").write_bytes(blob)
    out = tmp_path / "out"
    start = time.perf_counter()
    code, err = run_cli(capsys, ["train", "--data", str(folder), "--out", str(out)])
    assert time.perf_counter() - start < 10
    assert_refused(code, err, out, "a.png", "4096x4096")


# --------------------------------------------------------------------------- mixture specs


def test_long_mixture_spec_fails_fast_with_a_short_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    spec = "N(" + "1" * 20_000
    start = time.perf_counter()
    code, err = run_cli(capsys, ["train", "--data", spec, "--out", str(out)])
    assert time.perf_counter() - start < 2.0
    assert_refused(code, err, out, "4096")
    assert len(err) < 400


@pytest.mark.parametrize("spec", ["N(1e300,1)", "N(0,1e300)", "0.5*N(0,1) + 0.5*N(-2e6,1)"])
def test_mixture_beyond_float32_range_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 spec: str) -> None:
    out = tmp_path / "out"
    code, err = run_cli(capsys, ["train", "--data", spec, "--out", str(out)])
    assert_refused(code, err, out, "1e+06")


# --------------------------------------------------------------------------- array files


def test_complex_npy_images_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    x = (np.random.default_rng(0).random((20, 1, 8, 8)) * (1 + 1j)).astype(np.complex64)
    np.save(tmp_path / "c.npy", x)
    out = tmp_path / "out"
    code, err = run_cli(capsys, ["train", "--data", str(tmp_path / "c.npy"), "--out", str(out)])
    assert_refused(code, err, out, "complex64", "floats")


def test_npz_with_mismatched_split_shapes_is_refused_before_training(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "m.npz", x_train=rng.integers(0, 256, (40, 8, 8), dtype=np.uint8),
             x_test=rng.integers(0, 256, (10, 9, 9), dtype=np.uint8))
    out = tmp_path / "out"
    code, err = run_cli(capsys, ["train", "--data", str(tmp_path / "m.npz"), "--out", str(out)])
    assert_refused(code, err, out, "x_train", "(8, 8)", "(9, 9)")
