"""A pickle reader that rebuilds plain numeric numpy arrays from checked bytes, and nothing else.

CIFAR batches are pickles. A pickle can call any global it names, so :class:`SafeUnpickler`
answers ``find_class`` from a fixed list, and none of the answers is numpy's own
constructor: ``numpy.dtype``, ``_reconstruct``, ``_frombuffer`` and ``scalar`` resolve to
stand-ins that record what the file says. A dtype is accepted only as a plain numeric code
(:data:`DTYPE_CODES`) with a byte order; its pickled state may hold nothing else (no fields,
no sub-array, no flags that numpy would trust). An array is then built with
``np.frombuffer`` from its bytes once their length matches the shape. A structured dtype
with an object field, whose raw bytes numpy would copy into object pointers, is refused
before numpy sees it.
"""

from __future__ import annotations

import math
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GankitError

__all__ = ["DTYPE_CODES", "SafeUnpickler", "safe_pickle_load"]

#: The dtype codes a pickle may name: booleans, integers and floats of the usual sizes.
DTYPE_CODES = frozenset({"b1", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8"})
_BYTEORDERS = ("<", ">", "|", "=")
_MAX_DEPTH = 64  # nesting of dicts/lists/tuples in the loaded object


def _refuse(why: str) -> pickle.UnpicklingError:
    return pickle.UnpicklingError(f"refusing {why}: only numeric numpy arrays ({', '.join(sorted(DTYPE_CODES))}), "
                                  "dicts, lists, strings and numbers may be loaded")


def _text(value: Any) -> str:
    """A pickled string: ``str``, or ``bytes`` from a Python 2 pickle read with ``encoding="bytes"``."""
    if isinstance(value, bytes):
        return value.decode("latin1")
    if isinstance(value, str):
        return value
    raise _refuse(f"a {type(value).__name__} where a dtype string belongs")


class _DtypeSpec:
    """What a pickle says about a dtype: a checked code and byte order, never numpy state."""

    __slots__ = ("code", "byteorder")

    def __init__(self, code: str) -> None:
        self.code, self.byteorder = code, "="

    def __setstate__(self, state: Any) -> None:
        # numpy's state: (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata])
        if not isinstance(state, tuple) or len(state) not in (8, 9) or state[0] not in (3, 4):
            raise _refuse("a dtype state numpy does not write for a plain dtype")
        byteorder = _text(state[1])
        if byteorder not in _BYTEORDERS or state[2:5] != (None, None, None) or (len(state) == 9 and state[8]):
            raise _refuse("a structured, sub-array or annotated dtype")
        self.byteorder = byteorder

    def dtype(self) -> np.dtype:
        dt = np.dtype(self.code)
        return dt.newbyteorder(self.byteorder) if self.byteorder in ("<", ">") else dt


def _make_dtype(code: Any, align: Any = False, copy: Any = True) -> _DtypeSpec:
    """Stands in for ``numpy.dtype(code, align, copy)``."""
    code = _text(code)
    if code not in DTYPE_CODES:
        raise _refuse(f"dtype {code[:20]!r}")
    return _DtypeSpec(code)


def _build_array(raw: Any, spec: Any, shape: Any, fortran: bool) -> np.ndarray:
    """An array of ``spec``'s dtype and ``shape`` from exactly as many bytes as they need."""
    if not isinstance(spec, _DtypeSpec):
        raise _refuse("an array without a plain dtype")
    if isinstance(raw, pickle.PickleBuffer):
        raw = raw.raw()
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise _refuse(f"array data given as {type(raw).__name__}")
    if not (isinstance(shape, tuple) and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)):
        raise _refuse(f"array shape {str(shape)[:40]}")
    dt = spec.dtype()
    if math.prod(shape) * dt.itemsize != len(raw):
        raise _refuse(f"array data of {len(raw)} bytes for shape {shape} of {dt.name}")
    return np.frombuffer(raw, dtype=dt).reshape(shape, order="F" if fortran else "C").copy()


class _ArraySpec:
    """Stands in for the empty array ``_reconstruct`` makes; its state builds the real one."""

    __slots__ = ("array",)

    def __init__(self) -> None:
        self.array: np.ndarray | None = None

    def __setstate__(self, state: Any) -> None:
        # ndarray state: (version, shape, dtype, is_fortran, data) or (shape, dtype, is_fortran, data)
        if isinstance(state, tuple) and len(state) == 5:
            state = state[1:]
        if not (isinstance(state, tuple) and len(state) == 4 and isinstance(state[2], bool)):
            raise _refuse("an array state numpy does not write")
        shape, spec, fortran, raw = state
        self.array = _build_array(raw, spec, shape, fortran)


class _NdarrayName:
    """What ``numpy.ndarray`` resolves to: only a marker for ``_reconstruct``'s first argument."""

    __slots__ = ()


_NDARRAY = _NdarrayName()


def _reconstruct(cls: Any, shape: Any = None, typecode: Any = None) -> _ArraySpec:
    if cls is not _NDARRAY:
        raise _refuse("_reconstruct of anything but numpy.ndarray")
    return _ArraySpec()


def _frombuffer(buf: Any, spec: Any, shape: Any, order: Any) -> np.ndarray:
    return _build_array(buf, spec, shape, _text(order) == "F")


def _scalar(spec: Any, data: Any = None) -> Any:
    return _build_array(data, spec, (), False)[()]


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    """``_codecs.encode`` restricted to the latin-1 round trip pickle uses for bytes."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"refusing _codecs.encode with encoding {str(encoding)[:20]!r}")
    return text.encode("latin1")


def _empty_bytes(*args: Any) -> bytes:
    """``bytes()``, which protocol-2 pickles use for ``b""``; ``bytes(n)`` would allocate n bytes."""
    if args:
        raise _refuse("bytes() with arguments")
    return b""


def _allowed_globals() -> dict[tuple[str, str], Any]:
    """The only globals a pickle may name, each answered by a checking stand-in."""
    allowed: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): _NDARRAY,
        ("numpy", "dtype"): _make_dtype,
        ("_codecs", "encode"): _latin1_encode,  # bytes pickled by Python 3 at protocol < 3
        ("__builtin__", "bytes"): _empty_bytes,  # b"" pickled by Python 3 at protocol < 3
        ("builtins", "bytes"): _empty_bytes,
    }
    for mod in ("numpy.core", "numpy._core"):
        allowed[(f"{mod}.multiarray", "_reconstruct")] = _reconstruct
        allowed[(f"{mod}.multiarray", "scalar")] = _scalar
        allowed[(f"{mod}.numeric", "_frombuffer")] = _frombuffer
    return allowed


def _resolve(obj: Any, depth: int = 0) -> Any:
    """Replace the stand-ins in a loaded object by the arrays and dtypes they checked."""
    if depth > _MAX_DEPTH:
        raise _refuse(f"an object nested more than {_MAX_DEPTH} deep")
    if isinstance(obj, _ArraySpec):
        if obj.array is None:
            raise _refuse("an array without data")
        return obj.array
    if isinstance(obj, _DtypeSpec):
        return obj.dtype()
    if isinstance(obj, _NdarrayName):
        raise _refuse("numpy.ndarray outside an array")
    if isinstance(obj, dict):
        return {_resolve(k, depth + 1): _resolve(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        items = [_resolve(v, depth + 1) for v in obj]
        return items if isinstance(obj, list) else tuple(items)
    return obj


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that can rebuild plain numeric numpy arrays, dicts, lists, strings and numbers.

    ``find_class`` is the only way a pickle reaches a callable; it answers from a fixed
    allow-list of checking stand-ins (see the module docstring) and refuses every other
    global — ``os.system``, ``builtins.eval``, ``subprocess.Popen`` … — before anything is
    called. Use :meth:`load_checked`, which swaps the stand-ins for real arrays.
    """

    _ALLOWED = _allowed_globals()

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing global {module[:60]}.{name[:60]}: only numpy arrays may be loaded") from None

    def load_checked(self) -> Any:
        """Load the pickle and return it with every array built from its checked bytes."""
        return _resolve(self.load())


def safe_pickle_load(path: str | os.PathLike[str]) -> Any:
    """Load a pickle with :class:`SafeUnpickler`; any failure becomes a GankitError naming the file.

    Python 2 pickles (the CIFAR files) are read with ``encoding="bytes"``.
    """
    path = Path(path)
    if not path.is_file():
        raise GankitError(f"pickle file {str(path)!r} does not exist")
    try:
        with open(path, "rb") as f:
            return SafeUnpickler(f, encoding="bytes").load_checked()
    except pickle.UnpicklingError as exc:
        raise GankitError(f"refusing to load {str(path)!r}: {exc}") from None
    except (OSError, EOFError, ValueError, TypeError, IndexError, KeyError, AttributeError, OverflowError,
            MemoryError, RecursionError) as exc:
        raise GankitError(f"cannot read pickle {str(path)!r}: {type(exc).__name__}: {str(exc)[:200]}") from None
