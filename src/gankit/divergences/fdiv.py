r"""f-divergences as small records: ``f``, its conjugate ``f*``, the output activation ``g_f``.

``D_f(P‖Q) = ∫ q(x) f(p(x)/q(x)) dx`` with ``f`` convex on ``[0, ∞)`` (Csiszár 1963; Ali &
Silvey 1966). f-GAN (Nowozin, Cseke & Tomioka 2016, Tables 1–2) trains with the Fenchel
bound ``D_f ≥ sup_T E_P[T] − E_Q[f*(T)]``, ``f*(t) = sup_u (u t − f(u))``, where
``T = g_f(V)`` maps the raw discriminator output ``V`` into ``dom f*``.

=================  ===================================  ==============================  ========================
name               f(u)                                 f*(t), dom f*                   g_f(v)
=================  ===================================  ==============================  ========================
kl                 u log u                              exp(t − 1), ℝ                   v
reverse_kl         −log u                               −1 − log(−t), t < 0             −exp(−v)
pearson            (u − 1)²                             t²/4 + t (t ≥ −2), −1, ℝ        v
neyman             (1 − u)²/u                           2 − 2√(1 − t), t ≤ 1            1 − exp(−v)
hellinger          (√u − 1)²                            t/(1 − t), t < 1                1 − exp(−v)
jeffrey            (u − 1) log u                        W + 1/W + t − 2, ℝ              v
js                 ½[u log u − (u+1) log((u+1)/2)]      −½ log(2 − e^{2t}), t < ½log2   ½(log 2 − log(1+e^{−v}))
gan                u log u − (u+1) log(u+1)             −log(1 − e^t), t < 0            −log(1 + e^{−v})
total_variation    ½|u − 1|                             max(t, −½), t ≤ ½               ½ tanh(v)
alpha:<α>          (u^α − 1 − α(u − 1))/(α(α − 1))      see :mod:`gankit.divergences.alpha`
=================  ===================================  ==============================  ========================

Jeffrey's ``W = W₀(e^{1−t})`` is the Wright omega ``ω(1 − t)`` (:func:`wright_omega`, never
overflows). Departures from the paper's Table 1, all checked by ``tests/divergences/test_fdiv.py``
against a numeric Legendre transform:

* **pearson**: ``f*(t) = −1`` for ``t < −2``: over ratios ``u ≥ 0`` the supremum sits at
  ``u = 0`` there (the table's ``t²/4 + t`` takes ``u ∈ ℝ``). Same maximiser
  ``T* = f'(p/q) ≥ −2``, a tighter bound, and ``f** = f``.
* **total_variation**: ``f*(t) = −½`` for ``t < −½`` (the table's ``t`` on ``|t| ≤ ½``): over
  ``u ≥ 0`` the supremum of ``tu − ½|u − 1|`` sits at ``u = 0`` there, so ``dom f* = (−∞, ½]``.
  The activation ``½ tanh`` stays inside ``(−½, ½)``, where both agree: training is unchanged.
* **js**: the paper's ``f`` generates twice its own ``D_JS``; we halve it (``f*`` and ``g_f``
  rescaled) so that ``D_JS ∈ [0, log 2]`` and ``D_GAN = 2·D_JS − log 4`` exactly.
* **gan** is the one row with ``f(1) ≠ 0``: ``f(1) = −log 4``, so ``D_GAN(P‖P) = −log 4``.

Every function accepts a ``torch.Tensor`` (differentiable, dtype and device kept) or a NumPy
array / float (float64, returned as NumPy). Outside ``dom f*`` the conjugate is ``+inf``, and
``f(u) = +inf`` for ``u < 0``.

Example
-------
>>> import torch
>>> from gankit.divergences import get_divergence
>>> kl = get_divergence("kl")
>>> float(kl.conjugate_activation(torch.tensor(1.0)))
1.0
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import GankitError
from ..registry import DIVERGENCES

__all__ = ["FDivergence", "Interval", "get_divergence", "divergence_names", "wright_omega",
           "KL", "REVERSE_KL", "PEARSON", "NEYMAN", "HELLINGER", "JEFFREY", "JS", "GAN", "TOTAL_VARIATION"]

ArrayLike = Any  # Tensor | np.ndarray | float
LOG2 = math.log(2.0)
FGAN = "Nowozin, Cseke & Tomioka, f-GAN, NeurIPS 2016, Table 1 and Table 2"


def _array_fn(fn: Callable[..., Tensor]) -> Callable[..., ArrayLike]:
    """Let a torch function take NumPy arrays / floats too (float64 in, NumPy out)."""

    @functools.wraps(fn)
    def wrapper(*args: ArrayLike) -> ArrayLike:
        if any(isinstance(a, Tensor) for a in args):
            return fn(*args)
        out = fn(*(torch.as_tensor(np.asarray(a, dtype=np.float64)) for a in args)).numpy()
        return float(out) if out.ndim == 0 and all(np.isscalar(a) for a in args) else out

    return wrapper


@dataclass(frozen=True)
class Interval:
    """The domain of a conjugate ``f*``: an interval with open or closed ends.

    ``Interval(-inf, 0.0, hi_closed=False)`` is ``(-∞, 0)``.
    """

    lo: float = -math.inf
    hi: float = math.inf
    lo_closed: bool = False
    hi_closed: bool = False

    def contains(self, t: ArrayLike, closure: bool = False) -> ArrayLike:
        """Elementwise ``t ∈ dom`` (``closure=True``: in the closed interval).

        An activation onto an open end saturates onto it in floating point for large ``|v|``,
        which is why the losses use :attr:`FDivergence.conjugate_activation` instead.
        """
        lo_ok = (t >= self.lo) if (closure or self.lo_closed) else (t > self.lo)
        hi_ok = (t <= self.hi) if (closure or self.hi_closed) else (t < self.hi)
        return lo_ok & hi_ok

    def __str__(self) -> str:
        lo = "[" if self.lo_closed else "("
        hi = "]" if self.hi_closed else ")"
        return f"{lo}{self.lo:g}, {self.hi:g}{hi}"


@dataclass(frozen=True)
class FDivergence:
    """One f-divergence: generator, conjugate, activation, and what the maths needs.

    Attributes
    ----------
    name : str
        Registry name (``"kl"``, ``"alpha:0.5"``).
    f : u -> f(u)
        The convex generator on ``u ≥ 0`` (``+inf`` for ``u < 0``); every callable takes any shape.
    conjugate : t -> f*(t)
        Fenchel conjugate ``sup_u (u t − f(u))``; ``+inf`` outside :attr:`domain`.
    activation : v -> g_f(v)
        Maps a raw discriminator output onto ``dom f*`` (f-GAN Table 2).
    conjugate_activation : v -> f*(g_f(v))
        Computed from ``v`` directly: finite, with finite gradients, for every ``v`` in
        ``[-50, 50]`` (the losses use this).
    f_prime : u -> f'(u)
        The optimal critic is ``T*(x) = f'(p(x)/q(x))``.
    weighted : (log_w, s) -> e^{log_w} f(e^s)
        For ``s ≤ 0``, without overflow; the exact quadrature integrates ``q f(p/q)`` with it.
    reverse : str
        The divergence generated by ``f̃(w) = w f(1/w)``: ``D_f(P‖Q) = D_f̃(Q‖P)``.
    domain : Interval
        ``dom f*``.
    f_at_1 : float
        ``f(1)``: 0 for every row but ``gan`` (``−log 4``).
    power : float or None
        ``α`` when ``D_f`` contains ``∫ p^α q^{1−α}`` with ``α ∉ [0, 1]`` (may be infinite
        between Gaussian mixtures).
    formula, reference : str
    """

    name: str
    f: Callable[..., ArrayLike]
    conjugate: Callable[..., ArrayLike]
    activation: Callable[..., ArrayLike]
    conjugate_activation: Callable[..., ArrayLike]
    f_prime: Callable[..., ArrayLike]
    weighted: Callable[..., ArrayLike]
    reverse: str
    domain: Interval
    formula: str
    reference: str = FGAN
    f_at_1: float = 0.0
    power: float | None = None

    def __repr__(self) -> str:
        return f"FDivergence({self.name!r}: f(u) = {self.formula}, dom f* = {self.domain})"


def _pos(u: Tensor, value: Tensor) -> Tensor:
    """``value`` where ``u ≥ 0``, ``+inf`` where ``u < 0`` (outside dom f)."""
    return torch.where(u >= 0, value, torch.full_like(value, math.inf))


def _inside(t: Tensor, ok: Tensor, value: Callable[[Tensor], Tensor], safe: float) -> Tensor:
    """``value(t)`` on ``ok`` and ``+inf`` elsewhere, with NaN-free gradients."""
    t_safe = torch.where(ok, t, torch.full_like(t, safe))
    return torch.where(ok, value(t_safe), torch.full_like(t, math.inf))


def _log_softplus(x: Tensor) -> Tensor:
    """``log(log(1 + e^x))`` without underflow for very negative ``x``."""
    far = x < -20.0
    x_safe = torch.where(far, torch.zeros_like(x), x)
    return torch.where(far, x - 0.5 * torch.exp(x), torch.log(F.softplus(x_safe)))


def _log_wright_omega(x: Tensor, iterations: int = 8) -> Tensor:
    """``log ω(x)``, the root ``y`` of ``e^y + y = x`` (see :func:`wright_omega`)."""
    with torch.no_grad():
        y = torch.where(x < 1.0, x, torch.log(torch.clamp(x, min=1.0)))  # start right of the root
        for _ in range(iterations):
            y = y - (torch.exp(y) + y - x) / (torch.exp(y) + 1.0)
    return y - (torch.exp(y) + y - x) / (torch.exp(y) + 1.0)  # carries the gradient


def wright_omega(x: Tensor, iterations: int = 8) -> Tensor:
    r"""Wright omega ``ω(x)``: the solution ``w`` of ``w + log w = x`` (``ω(x) = W₀(e^x)``).

    Newton's method on ``y = log w`` (``e^y + y − x`` is convex and increasing, so it
    converges from any start), then one differentiable step so that autograd gives
    ``dω/dx = ω/(1 + ω)``. Matches ``scipy.special.wrightomega`` to float64 precision.

    Parameters
    ----------
    x : Tensor, any shape
    """
    return torch.exp(_log_wright_omega(x, iterations))


# ----------------------------------------------------------------------------- the rows


def _make(name: str, formula: str, reverse: str, domain: Interval, **fns: Callable[..., Tensor]) -> FDivergence:
    extra = {k: fns.pop(k) for k in ("f_at_1", "power", "reference") if k in fns}
    return FDivergence(name=name, formula=formula, reverse=reverse, domain=domain,
                       **{k: _array_fn(v) for k, v in fns.items()}, **extra)


def _xlogx(u: Tensor) -> Tensor:
    return torch.xlogy(u, u)


KL = _make(
    "kl", "u log u", "reverse_kl", Interval(),
    f=lambda u: _pos(u, _xlogx(u)),
    conjugate=lambda t: torch.exp(t - 1.0),
    activation=lambda v: v,
    conjugate_activation=lambda v: torch.exp(v - 1.0),
    f_prime=lambda u: 1.0 + torch.log(u),
    weighted=lambda lw, s: torch.exp(lw + s) * s,
)

REVERSE_KL = _make(
    "reverse_kl", "−log u", "kl", Interval(hi=0.0),
    f=lambda u: _pos(u, -torch.log(u)),
    conjugate=lambda t: _inside(t, t < 0, lambda t: -1.0 - torch.log(-t), -1.0),
    activation=lambda v: -torch.exp(-v),
    conjugate_activation=lambda v: v - 1.0,  # −1 − log(e^{−v})
    f_prime=lambda u: -1.0 / u,
    weighted=lambda lw, s: -torch.exp(lw) * s,
)

PEARSON = _make(
    "pearson", "(u − 1)²", "neyman", Interval(),
    f=lambda u: _pos(u, (u - 1.0) ** 2),
    conjugate=lambda t: torch.relu(1.0 + 0.5 * t) ** 2 - 1.0,  # t²/4 + t for t ≥ −2, else −1
    activation=lambda v: v,
    conjugate_activation=lambda v: torch.relu(1.0 + 0.5 * v) ** 2 - 1.0,
    f_prime=lambda u: 2.0 * (u - 1.0),
    weighted=lambda lw, s: torch.exp(lw) * torch.expm1(s) ** 2,
    power=2.0,
)

NEYMAN = _make(
    "neyman", "(1 − u)²/u", "pearson", Interval(hi=1.0, hi_closed=True),
    f=lambda u: _pos(u, (1.0 - u) ** 2 / u),
    conjugate=lambda t: _inside(t, t <= 1, lambda t: 2.0 - 2.0 * torch.sqrt(1.0 - t), 0.0),
    activation=lambda v: -torch.expm1(-v),
    conjugate_activation=lambda v: -2.0 * torch.expm1(-0.5 * v),  # 2 − 2 e^{−v/2}
    f_prime=lambda u: 1.0 - u**-2,
    weighted=lambda lw, s: torch.exp(lw - s) * torch.expm1(s) ** 2,  # q²/p, kept in log space
    power=-1.0,
)

HELLINGER = _make(
    "hellinger", "(√u − 1)²", "hellinger", Interval(hi=1.0),
    f=lambda u: _pos(u, (torch.sqrt(u) - 1.0) ** 2),
    conjugate=lambda t: _inside(t, t < 1, lambda t: t / (1.0 - t), 0.0),
    activation=lambda v: -torch.expm1(-v),
    conjugate_activation=lambda v: torch.expm1(v),  # t/(1 − t) with 1 − t = e^{−v}
    f_prime=lambda u: 1.0 - torch.rsqrt(u),
    weighted=lambda lw, s: torch.exp(lw) * torch.expm1(0.5 * s) ** 2,
)


def _jeffrey_conjugate(t: Tensor) -> Tensor:
    # f*(t) = W + 1/W + t − 2 with W + log W = 1 − t is e^{−y} − y − 1 (y = log W): no
    # cancellation between W ≈ −t and t for very negative t, no 1/W² overflow backwards.
    y = _log_wright_omega(1.0 - t)
    return torch.exp(-y) - y - 1.0


JEFFREY = _make(
    "jeffrey", "(u − 1) log u", "jeffrey", Interval(),
    f=lambda u: _pos(u, (u - 1.0) * torch.log(u)),
    conjugate=_jeffrey_conjugate,
    activation=lambda v: v,
    conjugate_activation=_jeffrey_conjugate,
    f_prime=lambda u: torch.log(u) + 1.0 - 1.0 / u,
    weighted=lambda lw, s: torch.exp(lw) * torch.expm1(s) * s,
)

JS = _make(
    "js", "½[u log u − (u + 1) log((u + 1)/2)]", "js", Interval(hi=0.5 * LOG2),
    f=lambda u: _pos(u, 0.5 * (_xlogx(u) - (u + 1.0) * (torch.log1p(u) - LOG2))),
    conjugate=lambda t: _inside(t, t < 0.5 * LOG2,
                                lambda t: -0.5 * (LOG2 + torch.log(-torch.expm1(2.0 * t - LOG2))), 0.0),
    activation=lambda v: 0.5 * (LOG2 - F.softplus(-v)),
    conjugate_activation=lambda v: 0.5 * (F.softplus(v) - LOG2),
    f_prime=lambda u: 0.5 * (LOG2 + torch.log(u) - torch.log1p(u)),
    weighted=lambda lw, s: 0.5 * torch.exp(lw) * (s * torch.exp(s) - (1.0 + torch.exp(s)) * (F.softplus(s) - LOG2)),
)

GAN = _make(
    "gan", "u log u − (u + 1) log(u + 1)", "gan", Interval(hi=0.0),
    f=lambda u: _pos(u, _xlogx(u) - torch.xlogy(u + 1.0, u + 1.0)),
    conjugate=lambda t: _inside(t, t < 0, lambda t: -torch.log(-torch.expm1(t)), -1.0),
    activation=lambda v: F.logsigmoid(v),
    conjugate_activation=lambda v: F.softplus(v),  # −log(1 − σ(v))
    f_prime=lambda u: torch.log(u) - torch.log1p(u),
    weighted=lambda lw, s: torch.exp(lw) * (s * torch.exp(s) - (1.0 + torch.exp(s)) * F.softplus(s)),
    f_at_1=-math.log(4.0),
)

TOTAL_VARIATION = _make(
    "total_variation", "½|u − 1|", "total_variation", Interval(hi=0.5, hi_closed=True),
    f=lambda u: _pos(u, 0.5 * torch.abs(u - 1.0)),
    conjugate=lambda t: _inside(t, t <= 0.5, lambda t: torch.clamp(t, min=-0.5), 0.0),  # max(t, −½): u* = 0 below −½
    activation=lambda v: 0.5 * torch.tanh(v),
    conjugate_activation=lambda v: 0.5 * torch.tanh(v),
    f_prime=lambda u: 0.5 * torch.sign(u - 1.0),  # a subgradient at u = 1
    weighted=lambda lw, s: -0.5 * torch.exp(lw) * torch.expm1(s),
)


# ----------------------------------------------------------------------------- registry

ROWS = [KL, REVERSE_KL, PEARSON, NEYMAN, HELLINGER, JEFFREY, JS, GAN, TOTAL_VARIATION]
_HELP = {
    "kl": "Kullback–Leibler KL(P‖Q), f(u) = u log u",
    "reverse_kl": "reverse KL, KL(Q‖P), f(u) = −log u",
    "pearson": "Pearson χ², f(u) = (u − 1)²",
    "neyman": "Neyman χ², f(u) = (1 − u)²/u",
    "hellinger": "squared Hellinger ∫(√p − √q)², f(u) = (√u − 1)²",
    "jeffrey": "Jeffrey (symmetrised KL), f(u) = (u − 1) log u",
    "js": "Jensen–Shannon (in [0, log 2]), f(u) = ½[u log u − (u+1) log((u+1)/2)]",
    "gan": "original GAN, = 2·JS − log 4, f(u) = u log u − (u+1) log(u+1) (f(1) = −log 4)",
    "total_variation": "total variation ½∫|p − q|, f(u) = ½|u − 1|",
}
for _row in ROWS:
    DIVERGENCES.add(_row.name, _row, help=_HELP[_row.name])


def get_divergence(div: str | FDivergence) -> FDivergence:
    """Resolve a name (``"kl"``, ``"alpha:0.5"``) or pass a record through.

    Raises :class:`~gankit.errors.GankitError` listing the known names.
    """
    if isinstance(div, FDivergence):
        return div
    obj = DIVERGENCES.get(div)
    if not isinstance(obj, FDivergence):
        raise GankitError(f"{div!r} is not an f-divergence; known: {DIVERGENCES.known()}")
    return obj


def divergence_names() -> list[str]:
    """Registered f-divergence names (families excluded)."""
    return [e.name for e in DIVERGENCES.entries() if not e.family and isinstance(e.obj, FDivergence)]
