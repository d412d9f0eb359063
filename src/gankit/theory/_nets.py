r"""The small critics of the theory lab: MLPs on standardised inputs, and the output heads
:func:`make_critic` adds where a plain MLP cannot follow ``T* = f'(p/q)``.

* ``"sine"``, ``V = c·sin(u)``: bounded, never saturating (total variation, whose ``T*`` sits
  at ``V = ±∞``); the best response is ``T*`` scaled by ``tanh(c)``, with the same minimiser.
* ``"exp"``, ``V = a − exp(b)``: follows a ``T*`` falling like ``−exp(quadratic)`` (Jeffrey).
* ``"basis"`` / ``"basis-ratio"`` (:class:`BasisCritic`): a log-ratio linear in its
  parameters for the χ² rows, trained by Gauss–Newton (:mod:`gankit.theory._newton`).
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import GankitError

__all__ = ["StandardisedMLP", "SineCritic", "ExpTailCritic", "BasisCritic", "make_critic", "CRITIC_HEADS",
           "BASIS_HEADS"]

#: output heads accepted by :func:`make_critic`
CRITIC_HEADS = ("plain", "quadratic", "sine", "exp", "basis", "basis-ratio")


class StandardisedMLP(nn.Module):
    """``x ↦ net((x − centre)/scale)``: tanh MLP with one raw output per point.

    Parameters
    ----------
    centre, scale : float or Tensor of shape (dim,)
        Standardisation of the inputs (fixed, not trained).
    width, depth : int
        Hidden units per layer and number of hidden layers.
    dim : int
        Input dimension; inputs of shape (n,) are read as (n, 1).
    quadratic : bool
        Add ``w₁·z + w₂·z²`` (``z`` the standardised input, 1-D only, ``w`` starting at 0): a
        log density ratio of Gaussian mixtures grows quadratically in the tails, a tanh MLP not.
    """

    def __init__(self, centre: float | torch.Tensor, scale: float | torch.Tensor, width: int = 64, depth: int = 2,
                 dim: int = 1, quadratic: bool = False) -> None:
        super().__init__()
        self.register_buffer("centre", torch.as_tensor(centre, dtype=torch.float32).reshape(-1))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32).reshape(-1))
        self.dim = dim
        layers: list[nn.Module] = []
        d = dim
        for _ in range(depth):
            layers += [nn.Linear(d, width), nn.Tanh()]
            d = width
        layers.append(nn.Linear(d, 1))
        self.net = nn.Sequential(*layers)
        self.skip = nn.Linear(2, 1, bias=False) if quadratic else None
        if self.skip is not None:
            if dim != 1:
                raise ValueError("quadratic=True needs dim = 1")
            nn.init.zeros_(self.skip.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (n, dim) or (n,) -> (n,)
        x = x.reshape(x.shape[0], self.dim)
        z = (x - self.centre.to(x.dtype)) / self.scale.to(x.dtype)
        out = self.net(z)
        if self.skip is not None:
            out = out + self.skip(torch.cat([z, z * z], dim=1))
        return out.reshape(-1)


class SineCritic(nn.Module):
    """``V(x) = c·sin(u(x))`` with ``u`` a :class:`StandardisedMLP`: raw outputs in ``[−c, c]``."""

    def __init__(self, mlp: StandardisedMLP, c: float = 3.0) -> None:
        super().__init__()
        self.mlp, self.c = mlp, c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c * torch.sin(self.mlp(x))


class ExpTailCritic(nn.Module):
    """``V(x) = a(x) − exp(b(x))`` with ``a`` and ``b`` two :class:`StandardisedMLP` (quadratic skips).

    ``b`` starts near ``b0`` (its output bias), so ``exp(b)`` is small until the data ask for
    it. Two networks: in a shared trunk the huge gradients of ``exp(b)`` drown ``a``'s features.
    """

    def __init__(self, a: StandardisedMLP, b: StandardisedMLP, b0: float = -2.0) -> None:
        super().__init__()
        self.a, self.b = a, b
        with torch.no_grad():
            b.net[-1].bias.fill_(b0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.a(x) - torch.exp(self.b(x))


class BasisCritic(nn.Module):
    r"""A log-ratio critic linear in its parameters: ``u(x) = β·φ(z)``, raw output ``V = link(u)``.

    ``φ(z) = (1, z, z², exp(−(z − c_j)²/(2h²)))`` with ``z`` the standardised input and ``k``
    Gaussian bumps centred evenly over ``span`` (the game's grid), ``h = width·spacing``: the
    log-ratio of a Gaussian mixture and a Gaussian is smooth and quadratic in the tails.
    ``forward`` interpolates ``u`` linearly between the ``grid`` points (the function the game
    sees; large coefficients make the basis itself swing between them) and is ``u = 0``
    (``T = f'(1)``, contributing 0 to ``F``) outside ``span``.

    ``ratio=False``: ``V = u`` (Neyman, ``V* = 2·log(p/q)``). ``ratio=True``: ``V = 2(e^u − 1)``,
    Pearson's ``f'(e^u)`` (``u* = log(p/q)``).
    """

    def __init__(self, centre: float, scale: float, span: tuple[float, float], k: int = 80, width: float = 1.5,
                 ratio: bool = False, grid_points: int = 512) -> None:
        super().__init__()
        lo, hi = (span[0] - centre) / scale, (span[1] - centre) / scale
        self.register_buffer("centre", torch.tensor(float(centre), dtype=torch.float64))
        self.register_buffer("scale", torch.tensor(float(scale), dtype=torch.float64))
        self.register_buffer("bumps", torch.linspace(lo, hi, k, dtype=torch.float64))
        self.h, self.ratio = width * (hi - lo) / (k - 1), ratio
        self.beta = nn.Parameter(torch.zeros(3 + k, dtype=torch.float64))
        self.register_buffer("grid", torch.linspace(span[0], span[1], grid_points, dtype=torch.float64))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``φ`` at ``x``: shape ``(n, 3 + k)``, float64."""
        z = (x.reshape(-1).double() - self.centre) / self.scale
        bumps = torch.exp(-0.5 * ((z[:, None] - self.bumps[None, :]) / self.h) ** 2)
        return torch.cat([torch.ones_like(z)[:, None], z[:, None], (z * z)[:, None], bumps], 1)

    def link(self, u: torch.Tensor) -> torch.Tensor:
        """The raw output ``V`` for log-ratio ``u``."""
        return 2 * torch.expm1(u) if self.ratio else u

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (n, 1) or (n,) -> (n,), float64
        x = x.reshape(-1).double()
        g = self.grid
        ug = self.features(g) @ self.beta
        i = torch.searchsorted(g, x).clamp(1, len(g) - 1)
        w = (x - g[i - 1]) / (g[i] - g[i - 1])
        u = torch.lerp(ug[i - 1], ug[i], w)
        return self.link(torch.where((x >= g[0]) & (x <= g[-1]), u, 0.0))


#: heads that :func:`make_critic` returns as a :class:`BasisCritic` (trained by Gauss–Newton)
BASIS_HEADS = ("basis", "basis-ratio")


def make_critic(head: str, centre: float, scale: float, width: int = 64, depth: int = 2,
                span: tuple[float, float] | None = None, grid_points: int = 512) -> nn.Module:
    """A 1-D critic ``V`` with the output ``head`` (:data:`CRITIC_HEADS`; module doc).

    ``span``, ``grid_points``: the grid the :data:`BASIS_HEADS` live on (required for them).
    """
    if head == "plain":
        return StandardisedMLP(centre, scale, width, depth)
    if head == "quadratic":
        return StandardisedMLP(centre, scale, width, depth, quadratic=True)
    if head == "sine":
        return SineCritic(StandardisedMLP(centre, scale, width, depth))
    if head == "exp":
        return ExpTailCritic(StandardisedMLP(centre, scale, width, depth, quadratic=True),
                             StandardisedMLP(centre, scale, width, depth, quadratic=True))
    if head in BASIS_HEADS:
        if span is None:
            raise GankitError(f"the {head!r} critic needs the span of the grid it lives on")
        return BasisCritic(centre, scale, span, ratio=head == "basis-ratio", grid_points=grid_points)
    raise GankitError(f"unknown critic head {head!r}; known: {', '.join(CRITIC_HEADS)}")
