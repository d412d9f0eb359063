"""Files in, JSON-ready numbers out: the library side of ``gankit emd A B``.

Point-set file formats accepted by :func:`load_points`:

``.npy``
    A numeric array of shape (n, d) or (n,); equal weights.
``.npz``
    An array ``points`` of shape (n, d) or (n,), and optionally ``weights`` of shape (n,).
``.csv`` (or ``.txt``)
    One point per row, comma-separated numbers; blank lines and lines starting with
    ``#`` are skipped. An optional first line of column names (any non-numeric entry
    makes it a header) may name one column ``weight`` (or ``weights``, any case): that
    column holds the point weights and the others the coordinates.

Example CSV with weights::

    x,y,weight
    0.0,0.0,0.5
    1.0,2.0,0.5
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse

from ..data.image_formats import NUMPY_LOAD_ERRORS
from ..errors import GankitError
from ..io import atomic_write_bytes
from ._points import as_points, as_weights
from .wasserstein import DEFAULT_MAX_SIZE, emd

__all__ = ["PointSet", "load_points", "emd_command", "POINT_FORMATS", "MAX_P", "MAX_COST"]

POINT_FORMATS = (".npy", ".npz", ".csv", ".txt")
_WEIGHT_NAMES = ("weight", "weights")
#: largest exponent p of the ground cost ||x - y||^p
MAX_P = 100
#: largest ground cost between two points (the network simplex loses feasibility near 1e154)
MAX_COST = 1e150


@dataclass(frozen=True)
class PointSet:
    """Points read from a file.

    Attributes
    ----------
    points : ndarray of shape (n, d)
    weights : ndarray of shape (n,) or None
        ``None`` means equal weights.
    path : str
    """

    points: np.ndarray = field(repr=False)
    weights: np.ndarray | None = field(repr=False)
    path: str

    @property
    def n(self) -> int:
        return int(self.points.shape[0])

    @property
    def dim(self) -> int:
        return int(self.points.shape[1])


def load_points(path: str | os.PathLike[str]) -> PointSet:
    """Read a point set (and optional weights) from ``.npy``, ``.npz`` or ``.csv``.

    Parameters
    ----------
    path : str or PathLike
        File in one of the formats described in this module's docstring.

    Returns
    -------
    PointSet
        ``points`` (n, d) (1-D files give d = 1), ``weights`` (n,) or None. Missing, empty,
        unreadable or non-numeric files, NaN/inf values and bad weights raise GankitError.

    Examples
    --------
    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "a.csv")
    >>> _ = open(f, "w").write("x,weight\\n0.0,1\\n2.0,3\\n")
    >>> ps = load_points(f)
    >>> ps.points.shape, ps.weights.tolist()
    ((2, 1), [1.0, 3.0])
    """
    p = Path(path)
    if not p.exists():
        raise GankitError(f"point file not found: {p}")
    if not p.is_file():
        raise GankitError(f"point file is not a regular file: {p}")
    suffix = p.suffix.lower()
    if suffix not in POINT_FORMATS:
        raise GankitError(f"unsupported point file {p.name!r}; accepted: {', '.join(POINT_FORMATS)}")
    if p.stat().st_size == 0:
        raise GankitError(f"point file is empty: {p}")
    points, weights = _read_numpy(p) if suffix in (".npy", ".npz") else _read_csv(p)
    pts = as_points(points, f"points in {p}")
    w = None if weights is None else as_weights(weights, len(pts), f"weights in {p}")
    return PointSet(pts, w, str(p))


def emd_command(a_path: str | os.PathLike[str], b_path: str | os.PathLike[str], p: float = 1,
                plan_path: str | os.PathLike[str] | None = None, normalize: bool = False,
                max_size: int = DEFAULT_MAX_SIZE) -> dict[str, Any]:
    """Exact EMD between the point sets in two files, as a JSON-ready dict.

    Parameters
    ----------
    a_path, b_path : str or PathLike
        Point files (see :func:`load_points`).
    p : float, default 1
        Ground cost ``||x - y||^p``.
    plan_path : str or PathLike, optional
        Where to write the optimal plan, atomically: ``.npy`` dense (n, m), ``.npz`` sparse COO
        (``scipy.sparse.load_npz``).
    normalize : bool, default False
        Rescale both weight sets to mass 1 (needed when their totals differ).
    max_size : int, default 25_000_000
        Largest ``n * m`` the exact solver (or a dense plan) may use.

    Returns
    -------
    dict
        ``cost`` (W_p^p), ``distance`` (W_p), ``n_nonzero``, ``n``, ``m``, ``p``, ``dim``,
        ``method`` and ``plan`` (the path written, or None).

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> d = tempfile.mkdtemp()
    >>> np.save(os.path.join(d, "a.npy"), np.array([0.0, 1.0]))
    >>> np.save(os.path.join(d, "b.npy"), np.array([2.0, 3.0]))
    >>> emd_command(os.path.join(d, "a.npy"), os.path.join(d, "b.npy"))["cost"]
    2.0
    """
    if not isinstance(p, (int, float)) or not 1 <= p <= MAX_P:
        raise GankitError(f"p must be a number in [1, {MAX_P}], got {p}")
    sa, sb = load_points(a_path), load_points(b_path)
    if sa.dim != sb.dim:
        raise GankitError(f"{sa.path} has points of dimension {sa.dim} but {sb.path} has dimension {sb.dim}")
    _check_cost_range(sa, sb, p)
    sparse = plan_path is not None and _check_plan_path(Path(plan_path))
    r = emd(sa.points, sb.points, sa.weights, sb.weights, p=p, normalize=normalize, max_size=max_size,
            return_plan=plan_path is not None, sparse=sparse)
    if plan_path is not None:
        buf = io.BytesIO()
        if sparse:
            scipy.sparse.save_npz(buf, scipy.sparse.coo_array(r.plan))
        else:
            np.save(buf, r.plan, allow_pickle=False)
        try:
            atomic_write_bytes(plan_path, buf.getvalue())
        except OSError as exc:
            raise GankitError(f"cannot write the plan file {str(plan_path)!r}: {exc.strerror or exc}") from None
    return {"cost": r.cost, "distance": r.distance, "n_nonzero": r.n_nonzero, "n": r.n, "m": r.m, "p": r.p,
            "dim": sa.dim, "method": r.method, "plan": None if plan_path is None else str(plan_path)}


def _check_plan_path(path: Path) -> bool:
    """Refuse a plan path that cannot take the plan; whether the plan is sparse (``.npz``)."""
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".npz"):
        raise GankitError(f"plan file must end in .npy (dense) or .npz (sparse), got {str(path)!r}")
    if path.exists() and not path.is_file():
        raise GankitError(f"plan file {str(path)!r} exists and is not a regular file (a directory?); "
                          f"give a new file name ending in .npy or .npz")
    if not path.parent.is_dir():
        raise GankitError(f"directory for the plan file does not exist: {path.parent}")
    return suffix == ".npz"


def _check_cost_range(sa: PointSet, sb: PointSet, p: float) -> None:
    """Refuse points whose ground costs ``||x - y||^p`` could pass :data:`MAX_COST`.

    The largest distance is bounded by the diagonal of both sets' bounding box, measured in
    logarithms so that coordinates near the float64 limit do not overflow.
    """
    both = np.concatenate([sa.points, sb.points])
    with np.errstate(over="ignore"):
        span = both.max(axis=0) - both.min(axis=0)  # (d,)
    top = float(span.max())
    if top == 0:
        return
    log_diag = math.log(top) + 0.5 * math.log(float(np.sum((span / top) ** 2))) if math.isfinite(top) else math.inf
    if p * log_diag > math.log(MAX_COST):
        raise GankitError(f"the points of {sa.path} and {sb.path} span up to {top:.3g} in a coordinate; with "
                          f"p = {p:g} the ground costs ||x - y||^p reach {_power_of_ten(p * log_diag)}, beyond "
                          f"1e150: rescale the points or lower p")


def _power_of_ten(log_value: float) -> str:
    return "inf" if not math.isfinite(log_value) else f"1e{log_value / math.log(10):.0f}"


def _read_numpy(p: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """Points (and weights) of a ``.npy`` array or a ``.npz`` archive, whichever the file holds."""
    try:
        loaded = np.load(p, allow_pickle=False)
        if isinstance(loaded, np.ndarray):
            return loaded, None
        with loaded as z:
            if "points" not in z.files:
                raise GankitError(f"{p} has no array named 'points' (found: {', '.join(z.files) or 'none'})")
            return z["points"], (z["weights"] if "weights" in z.files else None)
    except GankitError:
        raise
    except NUMPY_LOAD_ERRORS as exc:
        kind = "a .npy array" if p.suffix.lower() == ".npy" else "a .npz archive"
        raise GankitError(f"cannot read {p} as {kind}: {exc}") from None


def _read_csv(p: Path) -> tuple[np.ndarray, np.ndarray | None]:
    try:
        with p.open(newline="", encoding="utf-8") as fh:
            rows = [(k + 1, r) for k, r in enumerate(csv.reader(fh))]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise GankitError(f"cannot read {p} as CSV: {exc}") from None
    rows = [(k, [c.strip() for c in r]) for k, r in rows if r and any(c.strip() for c in r)]
    rows = [(k, r) for k, r in rows if not r[0].startswith("#")]
    if not rows:
        raise GankitError(f"point file has no data rows: {p}")
    weight_col = None
    first = rows[0][1]
    if not all(_is_number(c) for c in first):
        hits = [i for i, c in enumerate(first) if c.lower() in _WEIGHT_NAMES]
        if len(hits) > 1:
            raise GankitError(f"{p} header has more than one weight column")
        weight_col = hits[0] if hits else None
        rows = rows[1:]
        if not rows:
            raise GankitError(f"point file has a header but no data rows: {p}")
    width = len(first)
    for line, cells in rows:
        if len(cells) != width:
            raise GankitError(f"{p} line {line}: {len(cells)} columns, expected {width}")
        bad = next((cell for cell in cells if not _is_number(cell)), None)
        if bad is not None:
            raise GankitError(f"{p} line {line}: {bad!r} is not a number")
    data = np.array([[float(cell) for cell in cells] for _, cells in rows])
    if weight_col is None:
        return data, None
    if width == 1:
        raise GankitError(f"{p} has a weight column but no coordinate columns")
    return np.delete(data, weight_col, axis=1), data[:, weight_col]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True

