"""Score a generator against its data source with every registered metric that applies.

:func:`evaluate` draws the generator's samples (plain, or through a sampler of
:mod:`gankit.sampling`) and scores them with :func:`score_samples`, which runs every
metric of :data:`gankit.registry.METRICS` whose :meth:`~.base.Metric.applies` accepts the
data (:mod:`.base`): mode coverage on mixtures, exact W1 on low-dimensional vectors, the
image metrics on image data sets. ``gankit list`` lists them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..data.toy import DataSource
from ..objectives.base import Objective
from ..sampling import check_sampler, fitted_ratio, generate, sample
from .base import EvalData, score

__all__ = ["generate", "evaluate", "final_evaluate", "evaluate_discriminator", "sampler_kwargs", "score_samples"]


def sampler_kwargs(eval_cfg: Any) -> dict[str, Any]:
    """The sampler settings of an :class:`~gankit.config.EvalConfig` as keywords of :func:`evaluate`."""
    return {"polarity": eval_cfg.polarity, "polarity_pool": eval_cfg.polarity_pool, "hpd": eval_cfg.hpd}


def final_evaluate(G: nn.Module, source: DataSource, eval_cfg: Any, device: torch.device | str = "cpu",
                   test: DataSource | None = None, drs: int | None = None, ratio_cache: str | Path | None = None,
                   save_ratio: bool = False) -> dict[str, Any]:
    """:func:`evaluate` with every sampler of ``eval_cfg``, discriminator rejection sampling included.

    ``eval.drs`` classifier steps, or ``drs`` where given: a :func:`gankit.sampling.fit_ratio`
    classifier is fitted to ``G`` first, seeded ``eval.seed``; ``drs_time`` reports its seconds.
    ``ratio_cache``: a run's :data:`gankit.io.RATIO_FILE`, reused where it holds this very classifier and written
    with ``save_ratio`` (:func:`gankit.sampling.fitted_ratio`).
    """
    steps = eval_cfg.drs if drs is None else drs
    ratio, extra = None, {}
    if steps:
        check_sampler(eval_cfg.polarity, eval_cfg.polarity_pool, eval_cfg.hpd, steps)
        t0 = time.perf_counter()
        ratio = fitted_ratio(G, source, steps, eval_cfg.seed, device, bandwidth=eval_cfg.drs_bandwidth,
                             cache=ratio_cache, save=save_ratio)
        extra["drs_time"] = round(time.perf_counter() - t0, 3)
    out = evaluate(G, source, eval_cfg.n_samples, eval_cfg.w1_samples, eval_cfg.seed, device, test=test,
                   ratio=ratio, **sampler_kwargs(eval_cfg))
    return {**out, **extra}


def evaluate(G: nn.Module, source: DataSource, n_samples: int = 2500, w1_samples: int = 1000,
             seed: int = 12345, device: torch.device | str = "cpu", test: DataSource | None = None,
             polarity: float = 0.0, polarity_pool: int = 10, hpd: float = 1.0,
             ratio: nn.Module | None = None) -> dict[str, Any]:
    """Every registered metric that applies to ``source``, on ``n_samples`` samples of ``G``.

    Mode coverage uses the ``n_samples`` generated samples; W1 the first ``w1_samples`` of
    them against as many fresh real ones; image data sets (``source.shape`` is (C, H, W))
    get the image metrics of :mod:`.images`. Noise and real draws come from generators
    seeded by ``seed``, never from the training streams. ``test`` is the test split of an
    image data set (the reference of the Fréchet distance).

    With a sampler (``polarity ≠ 0``, ``hpd < 1`` or a density-ratio classifier ``ratio`` for
    discriminator rejection sampling, :mod:`gankit.sampling`) the metrics are
    those of the sampler's samples, and the plain generator's are reported beside them
    under the same names prefixed ``plain_``: the generator itself is never hidden.

    Returns
    -------
    dict
        Metric name → value (:func:`score_samples`).
    """
    if polarity != 0 or hpd != 1 or ratio is not None:
        plain = evaluate(G, source, n_samples, w1_samples, seed, device, test)
        fake = sample(G, n_samples, seed, device, polarity=polarity, polarity_pool=polarity_pool, hpd=hpd, ratio=ratio)
        out = score_samples(fake, source, w1_samples, seed, test)
        out.update({f"plain_{k}": v for k, v in plain.items() if isinstance(v, (int, float))})
        return out
    return score_samples(generate(G, n_samples, seed, device), source, w1_samples, seed, test)


def score_samples(fake: torch.Tensor, source: DataSource, w1_samples: int, seed: int,
                  test: DataSource | None) -> dict[str, Any]:
    """The metrics of :func:`evaluate` for given samples ``fake`` (real draws seeded by ``seed``).

    Runs every metric registered in :data:`gankit.registry.METRICS` that applies to
    ``source`` (:func:`.base.score`).
    """
    return score(fake, EvalData(source, test, seed=seed, w1_samples=w1_samples))


def evaluate_discriminator(objective: Any, D: nn.Module, G: nn.Module, source: DataSource, eval_cfg: Any,
                           device: torch.device | str = "cpu") -> dict[str, float]:
    """``objective.evaluate(D, real, fake)`` on ``eval.w1_samples`` fresh samples of each side.

    Only for objectives that define it (the WGAN critics: ``critic_estimate``,
    ``critic_lipschitz``, ...); noise, data and interpolation come from generators seeded
    by ``eval.seed``, never from the training streams, so evaluating changes no training state.
    """
    if getattr(type(objective), "evaluate", Objective.evaluate) is Objective.evaluate:
        return {}
    n, seed = eval_cfg.w1_samples, eval_cfg.seed
    fake = generate(G, n, seed, device).to(device)
    real = source.sample(n, torch.Generator().manual_seed(seed + 1)).to(device)
    return objective.evaluate(D, real, fake, seed + 2)
