r"""Exact earth mover's (Wasserstein) distance between two weighted point sets.

For points :math:`x_1..x_n`, :math:`y_1..y_m` in :math:`\mathbb{R}^d` with weights
:math:`a, b \ge 0` of equal total mass, the optimal transport cost is

.. math::

    B_p(a, b) = \min_{\gamma \ge 0,\ \gamma 1 = a,\ \gamma^\top 1 = b}
                \sum_{ij} \gamma_{ij} \lVert x_i - y_j \rVert^p ,
    \qquad W_p = B_p^{1/p} .

:func:`emd` returns both: ``cost`` is :math:`B_p` (= :math:`W_p^p`) and ``distance`` is
:math:`W_p`; for ``p = 1`` they coincide. The ground metric is Euclidean.

Two exact solvers of POT sit behind :func:`emd`:

* ``d = 1``: ``ot.emd_1d``, the north-west-corner rule on sorted points (both quantile
  functions matched), :math:`O((n + m)\log(n + m))`; this plan is optimal for every
  convex cost, so for every ``p >= 1``.
* ``d > 1``: the network simplex ``ot.emd`` on the dense ``(n, m)`` cost matrix;
  refused beyond ``max_size`` entries, where :func:`sliced_wasserstein` (POT's
  ``ot.sliced_wasserstein_distance``) is the estimate.

The cost matrix comes from :func:`scipy.spatial.distance.cdist`, not ``ot.dist``: POT's
Euclidean distance uses the expansion ``|x|^2 + |y|^2 - 2 x.y``, which loses the small
distances between nearby points with large coordinates (two points ``1.4e-6`` apart at
``1e4`` come out ``2.4e-4`` apart).

Reference: Villani, *Optimal Transport: Old and New* (2009); Peyré & Cuturi,
*Computational Optimal Transport* (2019), ch. 2-3 (1-D case: remark 2.30).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import ot
import scipy.sparse
import torch
from numpy.typing import ArrayLike
from scipy.spatial.distance import cdist
from torch import Tensor

from ..errors import GankitError
from ._points import as_points, as_weights, matched_masses

__all__ = ["DEFAULT_MAX_SIZE", "EMDResult", "SlicedResult", "emd", "sliced_wasserstein", "w1", "wasserstein_tensor"]

#: Largest ``n * m`` (cost-matrix entries) the exact LP solver accepts: 2.5e7 float64
#: entries are 200 MB for the cost matrix and as much again for the plan.
DEFAULT_MAX_SIZE = 25_000_000
#: entries of one (n + m, directions) block of :func:`sliced_wasserstein`: 512 kB, small blocks sort fastest
_SLICE_ENTRIES = 1 << 16

Method = Literal["auto", "exact-1d", "lp"]


@dataclass(frozen=True)
class EMDResult:
    """Result of :func:`emd`; always this type, whatever was asked for.

    Attributes
    ----------
    cost : float
        Optimal transport cost :math:`B_p = \\sum_{ij} \\gamma_{ij} \\lVert x_i - y_j\\rVert^p`
        (that is :math:`W_p^p`).
    distance : float
        :math:`W_p = B_p^{1/p}`.
    p : float
        Exponent of the ground cost.
    n_nonzero : int
        Number of nonzero entries of the optimal plan (at most ``n + m - 1``).
    n, m : int
        Number of source and target points.
    method : str
        ``"exact-1d"`` (sorted quantile matching) or ``"lp"`` (network simplex).
    plan : ndarray of shape (n, m), scipy.sparse.coo_array of shape (n, m), or None
        The optimal plan :math:`\\gamma`, only when ``return_plan=True``.
    """

    cost: float
    distance: float
    p: float
    n_nonzero: int
    n: int
    m: int
    method: str
    plan: np.ndarray | scipy.sparse.coo_array | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class SlicedResult:
    """Result of :func:`sliced_wasserstein`.

    Attributes
    ----------
    distance : float
        Sliced estimate :math:`SW_p = (\\operatorname{mean}_k W_p^p(\\theta_k))^{1/p}`.
    std_error : float
        Standard error of ``distance`` across projections (delta method).
    cost : float
        Mean over projections of the 1-D cost :math:`W_p^p(\\theta_k)`.
    cost_std_error : float
        Standard error of ``cost``: sample std across projections / sqrt(n_projections).
    spread : float
        Sample standard deviation of the per-projection costs.
    p : float
        Exponent of the ground cost.
    n_projections : int
        Number of random directions used.
    """

    distance: float
    std_error: float
    cost: float
    cost_std_error: float
    spread: float
    p: float
    n_projections: int


def emd(
    x: ArrayLike | Tensor,
    y: ArrayLike | Tensor,
    a: ArrayLike | Tensor | None = None,
    b: ArrayLike | Tensor | None = None,
    p: float = 1,
    normalize: bool = False,
    max_size: int = DEFAULT_MAX_SIZE,
    return_plan: bool = False,
    sparse: bool = False,
    method: Method = "auto",
) -> EMDResult:
    """Exact earth mover's distance between weighted point sets.

    Parameters
    ----------
    x : array_like or Tensor of shape (n, d) or (n,)
        Source points; a 1-D array means ``d = 1``.
    y : array_like or Tensor of shape (m, d) or (m,)
        Target points, same ``d``.
    a : array_like of shape (n,), optional
        Source weights (non-negative, finite, positive total); default ``1/n`` each.
    b : array_like of shape (m,), optional
        Target weights; default ``1/m`` each.
    p : float, default 1
        Ground cost ``||x - y||^p``, ``p >= 1``.
    normalize : bool, default False
        Rescale ``a`` and ``b`` to total mass 1. Without it, unequal totals are an error.
    max_size : int, default 25_000_000
        Largest ``n * m`` the LP solver (and a dense plan) may use.
    return_plan : bool, default False
        Also return the optimal plan ``gamma`` of shape (n, m).
    sparse : bool, default False
        Return the plan as a ``scipy.sparse.coo_array`` instead of a dense array.
    method : {"auto", "exact-1d", "lp"}, default "auto"
        ``"auto"`` uses the sorted 1-D solver when ``d = 1`` and the LP otherwise.

    Returns
    -------
    EMDResult
        ``cost`` (= W_p^p), ``distance`` (= W_p), ``n_nonzero``, ``plan`` (or None), ...

    Raises
    ------
    GankitError
        Empty, non-finite or mismatched inputs, bad weights, unequal masses, ``p < 1``,
        or a problem beyond ``max_size``.

    Examples
    --------
    >>> r = emd([0.0, 1.0], [2.0, 3.0])
    >>> r.cost, r.distance, r.n_nonzero
    (2.0, 2.0, 2)
    >>> emd([[0.0, 0.0]], [[3.0, 4.0]], p=2).distance
    5.0
    """
    p = _check_p(p)
    xs, ys = as_points(x, "x"), as_points(y, "y")
    if xs.shape[1] != ys.shape[1]:
        raise GankitError(f"x and y must have the same dimension, got x {xs.shape} and y {ys.shape}")
    n, m = len(xs), len(ys)
    wa, wb = matched_masses(as_weights(a, n, "a"), as_weights(b, m, "b"), normalize)
    if method not in ("auto", "exact-1d", "lp"):
        raise GankitError(f"unknown EMD method {method!r}; known: auto, exact-1d, lp")
    if method == "exact-1d" and xs.shape[1] != 1:
        raise GankitError(f"method 'exact-1d' needs 1-D points, got dimension {xs.shape[1]}")
    if method == "exact-1d" or (method == "auto" and xs.shape[1] == 1):
        if return_plan and not sparse and n * m > max_size:
            raise GankitError(
                f"a dense {n}x{m} plan exceeds max_size={max_size:.3g} entries; "
                "ask for a sparse plan (sparse=True, or a .npz plan file)"
            )
        rows, cols, mass = _plan_1d(xs[:, 0], ys[:, 0], wa, wb)
        cost = float(np.sum(mass * np.abs(xs[rows, 0] - ys[cols, 0]) ** p))
        plan = scipy.sparse.coo_array((mass, (rows, cols)), shape=(n, m)) if return_plan else None
        if plan is not None and not sparse:
            plan = plan.toarray()  # (i, j) pairs are distinct: the walk is monotone
        return _result(cost, p, len(mass), n, m, "exact-1d", plan)

    if n * m > max_size:
        raise GankitError(
            f"exact EMD of {n}x{m} points needs a {n * m:.3g}-entry cost matrix, beyond "
            f"max_size={max_size:.3g}; subsample, raise max_size, or use sliced_wasserstein"
        )
    cost_matrix = cdist(xs, ys, metric="euclidean")  # (n, m)
    if p != 1:
        cost_matrix **= p
    gamma, log = ot.emd(wa, wb, cost_matrix, numItermax=max(100_000, 50 * n * m), log=True)
    if log["warning"] is not None:
        raise RuntimeError(f"network simplex did not reach the optimum: {log['warning']}")
    cost = float(np.sum(gamma * cost_matrix))
    n_nonzero = int(np.count_nonzero(gamma))
    plan = None
    if return_plan:
        plan = scipy.sparse.coo_array(gamma) if sparse else gamma
    return _result(cost, p, n_nonzero, n, m, "lp", plan)


def sliced_wasserstein(
    x: ArrayLike | Tensor,
    y: ArrayLike | Tensor,
    a: ArrayLike | Tensor | None = None,
    b: ArrayLike | Tensor | None = None,
    p: float = 1,
    n_projections: int = 200,
    seed: int = 0,
    normalize: bool = False,
) -> SlicedResult:
    """Sliced Wasserstein estimate: average exact 1-D costs over random directions.

    :math:`SW_p^p = E_\\theta[W_p^p(\\theta^\\top x, \\theta^\\top y)]` with
    :math:`\\theta` uniform on the unit sphere; :math:`SW_p \\le W_p`, with equality in 1-D.
    Cost is ``O(K (n + m) log(n + m))`` for ``K = n_projections``, so it scales to sets
    far beyond the exact solver.

    Parameters
    ----------
    x : array_like or Tensor of shape (n, d) or (n,)
    y : array_like or Tensor of shape (m, d) or (m,)
    a, b : array_like of shape (n,) and (m,), optional
        Weights, as in :func:`emd`.
    p : float, default 1
    n_projections : int, default 200
        Number ``K >= 1`` of random directions.
    seed : int, default 0
        Seed of the directions (``numpy.random.default_rng``).
    normalize : bool, default False
        As in :func:`emd`.

    Returns
    -------
    SlicedResult
        ``distance`` (SW_p), its ``std_error`` across projections, and the spread.

    Examples
    --------
    >>> r = sliced_wasserstein([0.0, 1.0], [2.0, 3.0], n_projections=4)
    >>> r.distance, r.std_error
    (2.0, 0.0)
    """
    p = _check_p(p)
    xs, ys = as_points(x, "x"), as_points(y, "y")
    if xs.shape[1] != ys.shape[1]:
        raise GankitError(f"x and y must have the same dimension, got x {xs.shape} and y {ys.shape}")
    if (
        isinstance(n_projections, bool)
        or not isinstance(n_projections, int | np.integer)
        or n_projections < 1
    ):
        raise GankitError(f"n_projections must be a positive integer, got {n_projections!r}")
    wa, wb = matched_masses(as_weights(a, len(xs), "a"), as_weights(b, len(ys), "b"), normalize)
    theta = np.random.default_rng(seed).standard_normal((xs.shape[1], int(n_projections)))  # (d, K)
    theta /= np.linalg.norm(theta, axis=0, keepdims=True)
    # POT sorts the projections in one (n + m, K) array: blocks of directions bound the memory
    step = max(1, _SLICE_ENTRIES // (len(xs) + len(ys)))
    costs = np.concatenate([
        ot.sliced_wasserstein_distance(xs, ys, wa, wb, p=p, projections=theta[:, k:k + step], log=True)[1][
            "projected_emds"] for k in range(0, theta.shape[1], step)])  # (K,) 1-D costs W_p^p
    k_ = len(costs)
    cost = max(float(costs.mean()), 0.0)
    spread = float(costs.std(ddof=1)) if k_ > 1 else 0.0
    cost_se = spread / np.sqrt(k_)
    distance = cost ** (1.0 / p)
    # delta method: d(c^(1/p))/dc = c^(1/p - 1) / p
    dist_se = cost_se * cost ** (1.0 / p - 1.0) / p if cost > 0 else 0.0
    return SlicedResult(distance, float(dist_se), cost, float(cost_se), spread, p, k_)


def w1(
    samples_a: ArrayLike | Tensor, samples_b: ArrayLike | Tensor, max_size: int = DEFAULT_MAX_SIZE
) -> float:
    """Exact W1 between two equally weighted sample sets.

    Parameters
    ----------
    samples_a : array_like or Tensor of shape (n, d) or (n,)
    samples_b : array_like or Tensor of shape (m, d) or (m,)
    max_size : int, default 25_000_000
        As in :func:`emd`.

    Returns
    -------
    float
        :math:`W_1` of the two empirical measures (each of mass 1).

    Examples
    --------
    >>> w1([0.0, 1.0, 2.0], [0.5, 1.5, 2.5])
    0.5
    """
    return emd(samples_a, samples_b, p=1, max_size=max_size).distance


def wasserstein_tensor(x: Tensor, y: Tensor, p: float = 1, max_size: int = DEFAULT_MAX_SIZE) -> Tensor:
    """Exact :math:`W_p` of two equally weighted tensors of samples, as a 0-d tensor.

    Samples are flattened to vectors; the result has ``x``'s dtype and device. It is a
    measurement, not a loss: no gradient flows through it (use a critic for that).

    Parameters
    ----------
    x : Tensor of shape (n, ...)
    y : Tensor of shape (m, ...), same trailing size as ``x``
    p : float, default 1
    max_size : int, default 25_000_000

    Returns
    -------
    Tensor of shape ()

    Examples
    --------
    >>> d = wasserstein_tensor(torch.zeros(4, 2), torch.ones(4, 2), p=2)
    >>> d.dtype, round(float(d), 6)
    (torch.float32, 1.414214)
    """
    if not isinstance(x, Tensor) or not isinstance(y, Tensor):
        raise GankitError(
            f"wasserstein_tensor needs torch tensors, got {type(x).__name__} and {type(y).__name__}"
        )
    dist = emd(_flat(x), _flat(y), p=p, max_size=max_size).distance
    dtype = x.dtype if x.dtype.is_floating_point else torch.get_default_dtype()
    return torch.tensor(dist, dtype=dtype, device=x.device)


def _flat(t: Any) -> Any:
    if isinstance(t, Tensor) and t.dim() > 2:
        return t.reshape(t.shape[0], -1)
    return t


def _check_p(p: Any) -> float:
    try:
        pf = float(p)
    except (TypeError, ValueError):
        raise GankitError(f"p must be a number >= 1, got {p!r}") from None
    if isinstance(p, bool) or not np.isfinite(pf) or pf < 1:
        raise GankitError(f"p must be a finite number >= 1, got {p!r}")
    return pf


def _result(cost: float, p: float, n_nonzero: int, n: int, m: int, method: str, plan: Any) -> EMDResult:
    cost = max(cost, 0.0)
    return EMDResult(cost, cost ** (1.0 / p), p, int(n_nonzero), n, m, method, plan)


def _plan_1d(x: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, ...]:
    """POT's north-west-corner plan on sorted points (``ot.emd_1d``): ``rows, cols, mass``.

    Entries below ``1e-13`` of the total mass are rounding residue of the walk (e.g. 0.3
    minus three times 0.1) and are dropped, so ``n_nonzero`` counts real transports.
    """
    plan = ot.emd_1d(x, y, a, b, metric="cityblock", dense=False, check_marginals=False)
    keep = plan.data > 1e-13 * a.sum()
    return plan.row[keep], plan.col[keep], plan.data[keep]
