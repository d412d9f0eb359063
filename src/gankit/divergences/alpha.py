"""The α-divergence family, registered as ``alpha:<α>`` (f-GAN Table 1, Amari's parametrisation)."""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import GankitError
from ..registry import DIVERGENCES
from .fdiv import FGAN, FDivergence, Interval, _inside, _log_softplus, _make, _pos

__all__ = ["alpha_divergence", "ALPHA_RANGE"]

ALPHA_RANGE = "a finite real number other than 0 and 1 (α → 1 is 'kl', α → 0 is 'reverse_kl')"


@functools.lru_cache(maxsize=64)
def alpha_divergence(alpha: float) -> FDivergence:
    r"""The α-divergence (Amari's parametrisation, as in f-GAN Table 1), ``α ∉ {0, 1}``.

    .. math::
        f(u) = \frac{u^α − 1 − α(u − 1)}{α(α − 1)}, \qquad
        f^*(t) = \frac{(1 + (α − 1)t)_+^{α/(α−1)} − 1}{α}.

    Derived from ``f'(u) = (u^{α−1} − 1)/(α − 1)``. The domain of ``f*`` depends on α:

    * ``α > 1``: ``ℝ``; for ``t ≤ −1/(α−1)`` the supremum sits at ``u = 0`` and
      ``f*(t) = −f(0) = −1/α`` (the ``(·)_+``). ``g_f(v) = v``.
    * ``0 < α < 1``: ``t < 1/(1 − α)`` (open); ``α < 0``: ``t ≤ 1/(1 − α)`` (closed,
      ``f*`` = ``−1/α`` at the end). ``g_f(v) = 1/(1 − α) − log(1 + e^{−v})``.

    Special cases: ``α = 2`` is ½·Pearson, ``α = −1`` is ½·Neyman, ``α = ½`` is
    2·(squared Hellinger); the reverse of ``α`` is ``1 − α``.
    """
    a = float(alpha)
    if not math.isfinite(a) or a in (0.0, 1.0):
        raise GankitError(f"α-divergence needs α {ALPHA_RANGE}; got {alpha!r}")
    c = a * (a - 1.0)
    e = a / (a - 1.0)  # exponent of the conjugate
    top = 1.0 / (1.0 - a)

    def f(u: Tensor) -> Tensor:
        return _pos(u, (u**a - 1.0 - a * (u - 1.0)) / c)

    def weighted(lw: Tensor, s: Tensor) -> Tensor:
        near = (torch.expm1(a * s) - a * torch.expm1(s)) / c * torch.exp(lw)
        if a > 0:
            return near
        # α < 0: u^α = e^{αs} grows without bound as s → −∞; keep e^{lw + αs} in log space
        far = (torch.exp(lw + a * s) - torch.exp(lw) * (1.0 + a * torch.expm1(s))) / c
        return torch.where(a * s > 1.0, far, near)

    def conj_s(s: Tensor) -> Tensor:  # f* as a function of s = 1 + (α − 1)t ≥ 0
        pos = s > 0
        s_safe = torch.where(pos, s, torch.ones_like(s))
        return torch.where(pos, torch.expm1(e * torch.log(s_safe)) / a, torch.full_like(s, -1.0 / a))

    if a > 1:
        def conjugate(t: Tensor) -> Tensor:
            return conj_s(1.0 + (a - 1.0) * t)

        domain = Interval()
    else:
        def conjugate(t: Tensor) -> Tensor:
            s = 1.0 + (a - 1.0) * t
            ok = s > 0 if a > 0 else s >= 0
            return _inside(s, ok, conj_s, 1.0)

        def conjugate_activation(v: Tensor) -> Tensor:
            # s = (1 − α) softplus(−v) > 0; f* = (s^{α/(α−1)} − 1)/α in log space
            return torch.expm1(e * (math.log(1.0 - a) + _log_softplus(-v))) / a

        domain = Interval(hi=top, hi_closed=a < 0)

    return _make(
        f"alpha:{a:g}", f"(u^{a:g} − 1 − {a:g}(u − 1))/({c:g})", f"alpha:{1.0 - a:g}", domain,
        f=f, conjugate=conjugate,
        activation=(lambda v: v) if a > 1 else (lambda v: top - F.softplus(-v)),
        conjugate_activation=conjugate if a > 1 else conjugate_activation,
        f_prime=lambda u: torch.expm1((a - 1.0) * torch.log(u)) / (a - 1.0),
        weighted=weighted,
        power=a if (a > 1 or a < 0) else None,
        reference="Amari 1985 / Cichocki & Amari 2010; " + FGAN,
    )


@DIVERGENCES.register_family("alpha", help="α-divergence alpha:<α>, α ∉ {0, 1}; f(u) = (u^α − 1 − α(u − 1))/(α(α − 1))")
def _alpha_from_name(arg: str) -> FDivergence:
    try:
        a = float(arg)
    except ValueError:
        raise GankitError(f"α-divergence 'alpha:<α>' needs α {ALPHA_RANGE}; got {arg!r}") from None
    return alpha_divergence(a)
