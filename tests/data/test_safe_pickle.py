"""The CIFAR pickle reader: numeric arrays written by numpy's own pickling come back bit for bit; anything else is refused."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from gankit.data.safe_pickle import DTYPE_CODES, safe_pickle_load
from gankit.errors import GankitError


class _ObjectFieldDtype:
    """Pickles as ``numpy.dtype("V8")`` whose state has one object field and flags 0 (no NPY_LIST_PICKLE)."""

    def __reduce__(self):
        return (np.dtype, ("V8", False, True), (3, "|", None, ("a",), {"a": (np.dtype("O"), 0)}, 8, 1, 0))


class _ObjectFieldArray:
    """Pickles as an array of that dtype whose object slot holds the bytes ``AAAAAAAA``."""

    def __reduce__(self):
        return (np.array(0).__reduce__()[0], (np.ndarray, (0,), b"b"), (1, (1,), _ObjectFieldDtype(), False, b"A" * 8))


def _load(tmp_path: Path, blob: bytes) -> object:
    path = tmp_path / "batch.pkl"
    path.write_bytes(blob)
    return safe_pickle_load(path)


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_numeric_arrays_round_trip_bit_for_bit(tmp_path: Path, protocol: int) -> None:
    rng = np.random.default_rng(0)
    arrays = {code: rng.integers(0, 100, (3, 5)).astype(code) for code in sorted(DTYPE_CODES)}
    arrays["big-endian"] = np.arange(6, dtype=">i4").reshape(2, 3)
    arrays["fortran"] = np.asfortranarray(rng.random((4, 3)))
    arrays["empty"] = np.zeros((0, 7), np.uint8)
    obj = {b"arrays": arrays, "scalar": np.float32(1.5), "nested": [(1, "a"), {"k": np.int16(-3)}]}
    got = _load(tmp_path, pickle.dumps(obj, protocol=protocol))
    for name, a in arrays.items():
        b = got[b"arrays"][name]
        assert b.dtype == a.dtype and b.shape == a.shape and np.array_equal(a, b), name
        assert b.flags.writeable
    assert got["scalar"] == np.float32(1.5) and got["scalar"].dtype == np.float32
    assert got["nested"] == [(1, "a"), {"k": -3}] and got["nested"][1]["k"].dtype == np.int16


@pytest.mark.parametrize("value", [np.array(["a", "b"]), np.zeros(2, dtype=[("x", "f4"), ("y", "i4")]),
                                   np.array([1 + 2j]), np.array([None, 1], dtype=object),
                                   np.zeros(2, dtype=np.dtype("u1", metadata={"m": 1}))])
def test_other_dtypes_are_refused(tmp_path: Path, value: np.ndarray) -> None:
    for protocol in (2, 5):
        with pytest.raises(GankitError, match="refusing"):
            _load(tmp_path, pickle.dumps({"data": value}, protocol=protocol))


def test_object_field_dtype_is_refused_before_numpy_sees_it(tmp_path: Path) -> None:
    with pytest.raises(GankitError, match="refusing dtype 'V8'"):
        _load(tmp_path, pickle.dumps({"label_names": _ObjectFieldArray()}, protocol=2))


def test_data_length_must_match_the_shape(tmp_path: Path) -> None:
    blob = pickle.dumps({"data": np.zeros((2, 3), np.uint8)}, protocol=2)
    short = blob.replace(b"(2, 3)"[:0] + b"K\x02K\x03\x86", b"K\x02K\x04\x86")  # declare (2, 4) for 6 bytes
    assert short != blob
    with pytest.raises(GankitError, match="6 bytes for shape"):
        _load(tmp_path, short)


def test_self_referencing_list_is_refused(tmp_path: Path) -> None:
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(GankitError, match="nested more than"):
        _load(tmp_path, pickle.dumps(loop, protocol=2))
