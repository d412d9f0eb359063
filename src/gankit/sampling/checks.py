"""Argument checks of the samplers: one clear :class:`~gankit.errors.GankitError` line each."""

from __future__ import annotations

import math

from ..errors import GankitError

__all__ = ["check_polarity", "check_hpd", "check_drs", "check_sampler"]


def check_polarity(rho: float, pool: int) -> None:
    """Raise :class:`GankitError` unless ``rho`` is finite in [−10, 10] and ``pool`` an int in [1, 1000]."""
    if not (isinstance(rho, (int, float)) and math.isfinite(rho) and -10 <= rho <= 10):
        raise GankitError(f"polarity rho must be a finite number in [-10, 10] (0 = plain sampling); got {rho!r}")
    if not (isinstance(pool, int) and 1 <= pool <= 1000):
        raise GankitError(f"polarity pool must be an integer in [1, 1000] (latents drawn per sample kept); got {pool!r}")


def check_hpd(mass: float) -> None:
    """Raise :class:`GankitError` unless ``0 < mass <= 1``."""
    if not (isinstance(mass, (int, float)) and math.isfinite(mass) and 0 < mass <= 1):
        raise GankitError(f"hpd mass must be a number in (0, 1] (the fraction of the generator's samples kept; "
                          f"1 = plain sampling); got {mass!r}")


def check_drs(steps: int, bandwidth: float = 10.0) -> None:
    """Raise :class:`GankitError` unless ``steps`` is an int in [0, 100000] and ``bandwidth`` in (0, 1000]."""
    if not (isinstance(steps, int) and not isinstance(steps, bool) and 0 <= steps <= 100_000):
        raise GankitError(f"drs must be an integer in [0, 100000] (steps fitting the density-ratio classifier; "
                          f"0 = off); got {steps!r}")
    if not (isinstance(bandwidth, (int, float)) and math.isfinite(bandwidth) and 0 < bandwidth <= 1000):
        raise GankitError(f"drs bandwidth must be a number in (0, 1000] (std of the Fourier frequencies on "
                          f"standardised data); got {bandwidth!r}")


def check_sampler(polarity: float, pool: int, hpd: float, drs: int = 0) -> None:
    """:func:`check_polarity`, :func:`check_hpd`, :func:`check_drs`, and at most one sampler switched on."""
    check_polarity(polarity, pool)
    check_hpd(hpd)
    check_drs(drs)
    if (polarity != 0) + (hpd != 1) + (drs != 0) > 1:
        raise GankitError("choose one sampler: polarity (rho != 0), hpd (mass < 1) or drs (steps > 0), not two")
