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

#: per-divergence defaults that differ from :func:`fgan_fit`'s. Jeffrey contains the
#: mass-covering KL(P‖Q) (one optimum): one game from the off-target start, and more steps
#: because its critic lags a moving generator.
OVERRIDES: dict[str, dict[str, Any]] = {"jeffrey": {"explore": 0, "steps": 2500}}


def fgan_fit(div: str | FDivergence, p: Mixture1D, *, steps: int | None = None, explore: int | None = None,
             seed: int = 0, **train: Any) -> tuple[float, float, float]:
    """f-GAN fit of ``N(μ, σ²)`` to ``P`` from several starts; returns ``(μ̂, σ̂, bound)``.

    Mode-seeking divergences have one local minimum per mode of ``P``, so one game starts from
    each of :func:`~gankit.theory.fgan_fit.starts` (χ² rows: only the
    :func:`~gankit.theory.fgan_fit.finite_starts`) and plays ``explore`` generator steps; the
    game with the lowest **bound** there (f-GAN's own estimate of ``D_f``, never the exact
    divergence) plays on to ``steps``. ``explore = 0`` or a one-component ``P``: one game from
    the off-target start.

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
    kw = {"explore": 300, "steps": 1500, **OVERRIDES.get(div.name, {}), **train}
    kw.update({k: v for k, v in (("explore", explore), ("steps", steps)) if v is not None})
    if critic_head(div, kw.get("expectation", "grid"), kw.get("head")) in BASIS_HEADS:
        inits = finite_starts(div, p, inits)
    explore = kw.pop("explore")
    config = GameConfig(seed=seed, **kw)
    if explore <= 0 or explore >= config.steps or len(inits) == 1:
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
    """One f-GAN game from ``init``; returns Polyak-averaged ``(μ̂, σ̂, bound)``.

    ``**train``: :class:`~gankit.theory.fgan_fit.GameConfig` fields (over :data:`OVERRIDES`).
    """
    kw = {k: v for k, v in OVERRIDES.get(get_divergence(div).name, {}).items() if k != "explore"}
    game = FGanGame(div, p, init, GameConfig(**{**kw, **train}))
    game.play()
    return game.result()
