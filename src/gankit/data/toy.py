"""Toy distributions: 2-D Gaussian mixtures (ring8, grid25), spiral, moons, 1-D mixtures.

Every source draws from an explicit ``torch.Generator``; mixture sources expose ``centres``
and ``std`` for the mode-coverage metrics. ring8 and grid25 follow PacGAN (DESIGN.md): 8
centres at angles ``2πk/8``, ``k = 0..7`` (``linspace(0, 2π, 8)`` would repeat one), std 0.01;
25 centres on ``{-4,-2,0,2,4}²``, std 0.05.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.special import ndtr
from scipy.stats import norm
from torch import Tensor

from ..errors import GankitError
from ..registry import DATA

__all__ = ["DataSource", "GaussianMixture", "Mixture1D", "parse_mixture", "ring8", "grid25", "make_source"]


class DataSource:
    """A distribution we can draw from. Subclasses set ``name``, ``shape``."""

    name: str = ""
    shape: tuple[int, ...] = (2,)
    #: Mixture centres, ``(modes, dim)``, or ``None`` when the source has no modes.
    centres: Tensor | None = None
    #: Per-coordinate std of each mixture component, or ``None``.
    std: float | None = None

    @property
    def dim(self) -> int:
        return int(np.prod(self.shape))

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:  # (n, *shape)
        raise NotImplementedError


@dataclass
class GaussianMixture(DataSource):
    """Equal-or-weighted mixture of isotropic Gaussians in ``d`` dimensions.

    Parameters
    ----------
    centres : Tensor, shape (modes, dim)
    std : float
        Standard deviation of every component along every axis.
    weights : Tensor, shape (modes,), optional
        Mixture weights (uniform when omitted).
    """

    centres: Tensor  # type: ignore[assignment]
    std: float  # type: ignore[assignment]
    weights: Tensor | None = None
    name: str = "mixture"

    def __post_init__(self) -> None:
        self.centres = torch.as_tensor(self.centres, dtype=torch.float32)
        self.shape = (self.centres.shape[1],)
        if self.weights is None:
            self.weights = torch.full((len(self.centres),), 1.0 / len(self.centres))

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return self.sample_labeled(n, generator)[0]

    def sample_labeled(self, n: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """``n`` samples and the index of the component each came from (the class of a conditional run)."""
        idx = torch.multinomial(self.weights, n, replacement=True, generator=generator)  # (n,)
        noise = torch.randn(n, self.centres.shape[1], generator=generator)  # (n, dim)
        return self.centres[idx] + self.std * noise, idx

    @property
    def n_classes(self) -> int:
        """Classes of a conditional run: the components (mode ``k`` is class ``k``)."""
        return len(self.centres)


def ring8(radius: float = 1.0, std: float = 0.01) -> GaussianMixture:
    """8 Gaussians on a circle of radius 1, std 0.01 (PacGAN)."""
    k = torch.arange(8, dtype=torch.float64)
    angle = 2 * math.pi * k / 8
    centres = radius * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    return GaussianMixture(centres.float(), std, name="ring8")


def grid25(spacing: float = 2.0, std: float = 0.05) -> GaussianMixture:
    """25 Gaussians on the grid {-4,-2,0,2,4}², std 0.05 (PacGAN)."""
    ticks = spacing * torch.arange(-2, 3, dtype=torch.float32)
    gx, gy = torch.meshgrid(ticks, ticks, indexing="ij")
    centres = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)
    return GaussianMixture(centres, std, name="grid25")


@dataclass
class Spiral(DataSource):
    """A 2-D spiral (the swiss roll seen from above), scaled to about [-1.5, 1.5]²."""

    noise: float = 0.02
    name: str = "spiral"

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=generator))  # (n,)
        xy = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1) / (3 * math.pi)
        return xy * 1.5 + self.noise * torch.randn(n, 2, generator=generator)


@dataclass
class Moons(DataSource):
    """Two interleaving half circles (scikit-learn's ``make_moons`` shape), centred."""

    noise: float = 0.05
    name: str = "moons"

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        t = math.pi * torch.rand(n, generator=generator)  # (n,)
        upper = torch.rand(n, generator=generator) < 0.5
        x = torch.where(upper, torch.cos(t), 1 - torch.cos(t))
        y = torch.where(upper, torch.sin(t), 0.5 - torch.sin(t))
        xy = torch.stack([x - 0.5, y - 0.25], dim=1)
        return xy + self.noise * torch.randn(n, 2, generator=generator)


# --------------------------------------------------------------------------- 1-D mixtures

# Possessive quantifiers (``++``, ``*+``, ``?+``): a number is matched one way only, so a failing
# match gives up in time linear in the spec's length instead of trying every split of its digits.
_NUM = r"[-+]?+(?:\d++(?:\.\d*+)?+|\.\d++)(?:[eE][-+]?+\d++)?+"
_TERM = re.compile(rf"\s*+(?:({_NUM})\s*+\*\s*+)?N\s*+\(\s*+({_NUM})\s*+,\s*+({_NUM})\s*+\)\s*+")
SPEC_FORM = "weight*N(mean,std) terms joined by '+', e.g. \"0.3*N(-2,0.5) + 0.7*N(1,1)\""
#: Longest mixture spec accepted, in characters (about 200 terms).
MAX_SPEC_LENGTH = 4096
#: Largest ``|mean|`` and std accepted: beyond it float32 samples and gradients lose the distribution.
MAX_MAGNITUDE = 1e6


@dataclass
class Mixture1D(DataSource):
    """A 1-D Gaussian mixture with exact density, CDF and sampling.

    Parameters
    ----------
    weights, means, stds : array-like, shape (k,)
        Positive weights summing to 1, means, positive standard deviations.

    Examples
    --------
    >>> p = parse_mixture("0.3*N(-2,0.5) + 0.7*N(1,1)")
    >>> round(float(p.pdf(np.array([1.0]))[0]), 4)
    0.2793
    """

    weights: np.ndarray = field(default_factory=lambda: np.ones(1))
    means: np.ndarray = field(default_factory=lambda: np.zeros(1))
    stds: np.ndarray = field(default_factory=lambda: np.ones(1))
    name: str = "N(0,1)"

    def __post_init__(self) -> None:
        self.weights, self.means, self.stds = (np.asarray(v, dtype=np.float64).reshape(-1)
                                               for v in (self.weights, self.means, self.stds))
        if not (len(self.weights) == len(self.means) == len(self.stds) >= 1):
            raise GankitError("a mixture needs as many weights, means and stds, at least one of each")
        if not np.all(np.isfinite(np.concatenate([self.weights, self.means, self.stds]))):
            raise GankitError(f"mixture parameters must be finite numbers; accepted form: {SPEC_FORM}")
        if np.any(self.weights <= 0):
            raise GankitError(f"mixture weights must be positive, got {_clip(str(self.weights.tolist()))}")
        if abs(self.weights.sum() - 1.0) > 1e-6:
            raise GankitError(f"mixture weights must sum to 1, they sum to {self.weights.sum():g}")
        if np.any(self.stds <= 0):
            raise GankitError(f"mixture stds must be positive, got {_clip(str(self.stds.tolist()))}")
        if np.any(np.abs(self.means) > MAX_MAGNITUDE) or np.any(self.stds > MAX_MAGNITUDE):
            big = max(float(np.abs(self.means).max()), float(self.stds.max()))
            raise GankitError(f"mixture means and stds must lie within ±{MAX_MAGNITUDE:g} (float32 training), "
                              f"got a magnitude of {big:g}")
        self.shape = (1,)
        self.centres = torch.as_tensor(self.means, dtype=torch.float32).reshape(-1, 1)
        self.std = float(self.stds.min()) if np.allclose(self.stds, self.stds[0]) else None

    def log_pdf(self, x: np.ndarray) -> np.ndarray:
        """log p(x), computed with log-sum-exp so the tails do not underflow to -inf."""
        x = np.asarray(x, dtype=np.float64)[..., None]  # (..., 1)
        z = (x - self.means) / self.stds
        comp = np.log(self.weights) - 0.5 * z**2 - np.log(self.stds) - 0.5 * math.log(2 * math.pi)
        m = comp.max(axis=-1, keepdims=True)
        return (m + np.log(np.exp(comp - m).sum(axis=-1, keepdims=True)))[..., 0]

    def pdf(self, x: np.ndarray) -> np.ndarray:
        return np.exp(self.log_pdf(x))

    def cdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)[..., None]
        return (self.weights * ndtr((x - self.means) / self.stds)).sum(axis=-1)

    def log_prob(self, x: Tensor) -> Tensor:
        """Exact log-density of a tensor ``x`` of shape (n,) or (n, 1), differentiable."""
        x = x.reshape(-1, 1)
        w = torch.as_tensor(self.weights, dtype=x.dtype, device=x.device)
        mu = torch.as_tensor(self.means, dtype=x.dtype, device=x.device)
        sd = torch.as_tensor(self.stds, dtype=x.dtype, device=x.device)
        comp = torch.log(w) - 0.5 * ((x - mu) / sd) ** 2 - torch.log(sd) - 0.5 * math.log(2 * math.pi)
        return torch.logsumexp(comp, dim=1)

    def support(self, mass: float = 1 - 1e-12) -> tuple[float, float]:
        """An interval holding at least ``mass`` of the probability (component-wise bound)."""
        k = norm.isf((1 - mass) / 2)
        return float((self.means - k * self.stds).min()), float((self.means + k * self.stds).max())

    def mean(self) -> float:
        return float((self.weights * self.means).sum())

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        w = torch.as_tensor(self.weights, dtype=torch.float64)
        idx = torch.multinomial(w, n, replacement=True, generator=generator)  # (n,)
        eps = torch.randn(n, generator=generator, dtype=torch.float64)
        mu = torch.as_tensor(self.means)[idx]
        sd = torch.as_tensor(self.stds)[idx]
        return (mu + sd * eps).float().reshape(n, 1)

    def spec(self) -> str:
        """The spec string; parsing it gives back exactly this mixture."""
        return " + ".join(f"{_num(w)}*N({_num(m)},{_num(s)})" for w, m, s in zip(self.weights, self.means, self.stds))


def _num(x: float) -> str:
    """Short ``%g`` form when it is exact, else the shortest form that round-trips."""
    short = f"{x:g}"
    return short if float(short) == x else repr(float(x))


def _clip(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters for an error line, marked with ``...`` when cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_mixture(spec: str) -> Mixture1D:
    """Parse ``"0.3*N(-2,0.5) + 0.7*N(1,1)"`` into a :class:`Mixture1D`.

    A term without a weight gets weight 1 (so ``"N(0,1)"`` is a plain Gaussian).
    Raises :class:`GankitError` naming the bad term and the accepted form.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise GankitError(f"empty mixture spec; accepted form: {SPEC_FORM}")
    if len(spec) > MAX_SPEC_LENGTH:
        raise GankitError(f"mixture spec of {len(spec)} characters ({_clip(spec)!r}); "
                          f"at most {MAX_SPEC_LENGTH} are accepted")
    weights, means, stds = [], [], []
    # split on '+' that separates terms (not the sign of an exponent or a number)
    terms = re.split(r"(?<=\))\s*\+", spec)
    for term in terms:
        m = _TERM.fullmatch(term)
        if not m:
            raise GankitError(f"malformed mixture term {_clip(term.strip())!r}; accepted form: {SPEC_FORM}")
        w, mu, sd = m.groups()
        weights.append(float(w) if w is not None else 1.0)
        means.append(float(mu))
        stds.append(float(sd))
    src = Mixture1D(np.array(weights), np.array(means), np.array(stds))
    src.name = spec.strip()
    return src


def is_mixture_spec(name: str) -> bool:
    return isinstance(name, str) and "N(" in name.replace(" ", "")


DATA.add("ring8", ring8, help="8 Gaussians on the unit circle, std 0.01 (PacGAN)")
DATA.add("grid25", grid25, help="25 Gaussians on {-4,-2,0,2,4}^2, std 0.05 (PacGAN)")
DATA.add("spiral", Spiral, help="2-D spiral (swiss roll seen from above)")
DATA.add("moons", Moons, help="two interleaving half circles")
DATA.add("mixture1d", lambda: parse_mixture("0.3*N(-2,0.5) + 0.7*N(1,1)"),
         help="1-D Gaussian mixture 0.3*N(-2,0.5)+0.7*N(1,1); any spec 'w*N(m,s) + ...' works as a name")


def make_source(name: str, **kwargs: object) -> DataSource:
    """Build a data source by registered name, or from a 1-D mixture spec."""
    if is_mixture_spec(name):
        return parse_mixture(name)
    return DATA.get(name)(**kwargs)
