"""f-GAN fits of a Gaussian: one game (:func:`train_gaussian`) or the best of several starts (:func:`fgan_fit`)."""

from __future__ import annotations

import math
from typing import Any

from ...data.toy import Mixture1D
from ...divergences.fdiv import FDivergence, get_divergence
from ...errors import GankitError
from .._nets import BASIS_HEADS
from .exact import finite_starts, starts
from .game import FGanGame, GameConfig, critic_head

__all__ = ["OVERRIDES", "fgan_fit", "train_gaussian"]

#: per-divergence training defaults that differ from :func:`fgan_fit`'s. Jeffrey plays one
#: game from the off-target start: it contains the mass-covering KL(P‖Q), whose exact
#: optimum is unique on every benchmark target, while its games from the components' starts
#: end with a lagging critic. Its critic lags a moving generator, so it trains 2,500 steps:
#: the longer cosine schedule spends more steps at small learning rates.
OVERRIDES: dict[str, dict[str, Any]] = {"jeffrey": {"explore": 0, "steps": 2500}}


def fgan_fit(div: str | FDivergence, p: Mixture1D, *, steps: int | None = None, explore: int | None = None,
             seed: int = 0, **train: Any) -> tuple[float, float, float]:
    """f-GAN fit of ``N(μ, σ²)`` to ``P`` from several starts; returns ``(μ̂, σ̂, bound)``.

    Mode-seeking divergences (reverse KL, Neyman χ², squared Hellinger on well separated
    modes, ...) have one local minimum per mode of a multimodal ``P``, and a gradient method
    finds the basin it starts in. So, like :func:`~gankit.theory.fgan_fit.exact_fit`, one f-GAN
    game is started from every start of :func:`~gankit.theory.fgan_fit.starts` (the χ² rows:
    only the :func:`~gankit.theory.fgan_fit.finite_starts`) and played for its first
    ``explore`` generator steps; the game whose **bound** there is lowest (f-GAN's own estimate
    of ``D_f(P‖Q)``, by quadrature with its critic refined ``refine`` steps alone — never the
    exact divergence) is played on to ``steps``, critic, optimisers and schedules unchanged.
    ``explore = 0`` (or a one-component ``P``): one game from the off-target start.
    Cost: ``steps + (n_starts − 1)·explore`` steps.

    Parameters
    ----------
    div : str or FDivergence
    p : Mixture1D
        The target.
    steps, explore : int or None
        None: the divergence's :data:`OVERRIDES` entry, else 1500 / 300.
    seed : int
    **train
        :class:`~gankit.theory.fgan_fit.GameConfig` fields for every game (:data:`OVERRIDES` first).
    """
    div = get_divergence(div)
    inits = starts(p)
    kw = {**OVERRIDES.get(div.name, {}), **train}
    if critic_head(div, kw.get("expectation", "grid"), kw.get("head")) in BASIS_HEADS:
        inits = finite_starts(div, p, inits)
    explore = kw.pop("explore", 300) if explore is None else explore
    kw.pop("explore", None)
    steps = kw.pop("steps", 1500) if steps is None else steps
    kw.pop("steps", None)
    config = GameConfig(steps=steps, seed=seed, **kw)
    if explore <= 0 or explore >= steps or len(inits) == 1:
        game = FGanGame(div, p, inits[0], config)
    else:
        games, bounds = [], []
        for x0 in inits:  # one after the other: each game seeds its own critic
            games.append(FGanGame(div, p, x0, config))
            games[-1].play(explore, exploring=True)
            bounds.append(games[-1].probe()[2])
        game = games[min(range(len(games)), key=lambda i: bounds[i] if math.isfinite(bounds[i]) else math.inf)]
        if game.diverged:
            raise GankitError(f"f-GAN training of {div.name} diverged (NaN in mu or sigma) from every start; "
                              "try another --seed or --steps")
    game.play()
    return game.result()


def train_gaussian(div: str | FDivergence, p: Mixture1D, init: tuple[float, float] | None = None,
                   **train: Any) -> tuple[float, float, float]:
    """One f-GAN game of ``N(μ, σ²)`` against ``P`` from ``init``; returns Polyak-averaged ``(μ̂, σ̂, bound)``.

    ``**train``: :class:`~gankit.theory.fgan_fit.GameConfig` fields (defaults after the
    divergence's :data:`OVERRIDES`; ``explore`` does not apply to one game).
    """
    kw = {k: v for k, v in OVERRIDES.get(get_divergence(div).name, {}).items() if k != "explore"}
    game = FGanGame(div, p, init, GameConfig(**{**kw, **train}))
    game.play()
    return game.result()
