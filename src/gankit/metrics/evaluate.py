"""Score a generator against its data source with every registered metric that applies (``gankit list``)."""

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

__all__ = ["generate", "evaluate", "final_evaluate", "evaluate_discriminator", "sampler_kwargs", "score_samples",
           "sampler_metrics", "sampler_name", "SAMPLERS_KEY"]

#: the key of the sampler's metrics beside the generator's: ``{"samplers": {"hpd": {"mass": 0.8, "modes": ...}}}``
SAMPLERS_KEY = "samplers"


def sampler_kwargs(eval_cfg: Any) -> dict[str, Any]:
    """The sampler settings of an :class:`~gankit.config.EvalConfig` as keywords of :func:`evaluate`."""
    return {"polarity": eval_cfg.polarity, "polarity_pool": eval_cfg.polarity_pool, "hpd": eval_cfg.hpd}


def sampler_name(polarity: float = 0.0, hpd: float = 1.0, drs: int | bool = 0) -> str | None:
    """The name of the sampler these settings choose (``polarity``, ``hpd``, ``drs``), or ``None`` for plain draws."""
    return "drs" if drs else "hpd" if hpd != 1 else "polarity" if polarity != 0 else None


def final_evaluate(G: nn.Module, source: DataSource, eval_cfg: Any, device: torch.device | str = "cpu",
                   test: DataSource | None = None, drs: int | None = None, ratio_cache: str | Path | None = None,
                   save_ratio: bool = False, generator: bool = True) -> dict[str, Any]:
    """:func:`evaluate` with every sampler of ``eval_cfg``, discriminator rejection sampling included.

    With ``drs`` (default ``eval.drs``) classifier steps, the density ratio is
    :func:`gankit.sampling.fitted_ratio` (seeded ``eval.seed``; ``ratio_cache``, ``save_ratio``: its file);
    ``samplers["drs"]`` holds ``classifier_steps`` and ``time`` (the seconds of fitting) beside its metrics.
    ``generator=False`` leaves the generator's own metrics out (only ``samplers``).
    """
    steps = eval_cfg.drs if drs is None else drs
    ratio, extra = None, {}
    if steps:
        check_sampler(eval_cfg.polarity, eval_cfg.polarity_pool, eval_cfg.hpd, steps)
        t0 = time.perf_counter()
        ratio = fitted_ratio(G, source, steps, eval_cfg.seed, device, bandwidth=eval_cfg.drs_bandwidth,
                             cache=ratio_cache, save=save_ratio)
        extra = {"classifier_steps": steps, "time": round(time.perf_counter() - t0, 3)}
    args = (G, source, eval_cfg.n_samples, eval_cfg.w1_samples, eval_cfg.seed, device, test)
    kwargs = {**sampler_kwargs(eval_cfg), "ratio": ratio}
    out = evaluate(*args, **kwargs) if generator else {SAMPLERS_KEY: sampler_metrics(*args, **kwargs)}
    if extra:
        out[SAMPLERS_KEY]["drs"] = {**extra, **out[SAMPLERS_KEY]["drs"]}
    return out


def evaluate(G: nn.Module, source: DataSource, n_samples: int = 2500, w1_samples: int = 1000,
             seed: int = 12345, device: torch.device | str = "cpu", test: DataSource | None = None,
             polarity: float = 0.0, polarity_pool: int = 10, hpd: float = 1.0,
             ratio: nn.Module | None = None) -> dict[str, Any]:
    """Every registered metric that applies to ``source``, on ``n_samples`` samples of ``G``.

    W1 uses the first ``w1_samples`` of them; ``test`` is an image data set's test split.
    Every draw is seeded by ``seed``, never by the training streams. The top-level numbers are
    always the generator's own (plain draws). With a sampler of :func:`gankit.sampling.sample`
    (``polarity``, ``hpd``, ``ratio``) its metrics stand beside them under its name:
    ``out["samplers"]["hpd"]`` (see :func:`sampler_metrics`).
    """
    out = score_samples(generate(G, n_samples, seed, device), source, w1_samples, seed, test)
    samplers = sampler_metrics(G, source, n_samples, w1_samples, seed, device, test, polarity, polarity_pool, hpd,
                               ratio)
    if samplers:
        out[SAMPLERS_KEY] = samplers
    return out


def sampler_metrics(G: nn.Module, source: DataSource, n_samples: int, w1_samples: int, seed: int,
                    device: torch.device | str = "cpu", test: DataSource | None = None, polarity: float = 0.0,
                    polarity_pool: int = 10, hpd: float = 1.0,
                    ratio: nn.Module | None = None) -> dict[str, dict[str, Any]]:
    """``{name: {setting..., metric: value...}}`` of the sampler chosen, or ``{}`` for plain draws.

    The settings stored beside the metrics: ``rho`` and ``pool`` (polarity), ``mass`` (hpd);
    :func:`final_evaluate` adds ``classifier_steps`` and ``time`` for drs.
    """
    name = sampler_name(polarity, hpd, ratio is not None)
    if name is None:
        return {}
    fake = sample(G, n_samples, seed, device, polarity=polarity, polarity_pool=polarity_pool, hpd=hpd, ratio=ratio)
    settings = {"polarity": {"rho": polarity, "pool": polarity_pool}, "hpd": {"mass": hpd}, "drs": {}}[name]
    return {name: {**settings, **score_samples(fake, source, w1_samples, seed, test)}}


def score_samples(fake: torch.Tensor, source: DataSource, w1_samples: int, seed: int,
                  test: DataSource | None) -> dict[str, Any]:
    """The metrics of :func:`evaluate` for given samples ``fake`` (real draws seeded by ``seed``)."""
    return score(fake, EvalData(source, test, seed=seed, w1_samples=w1_samples))


def evaluate_discriminator(objective: Any, D: nn.Module, G: nn.Module, source: DataSource, eval_cfg: Any,
                           device: torch.device | str = "cpu") -> dict[str, float]:
    """``objective.evaluate(D, real, fake)`` on ``eval.w1_samples`` fresh samples of each side, seeded ``eval.seed``.

    Only for objectives that define it (the WGAN critics); ``{}`` for the others.
    """
    if getattr(type(objective), "evaluate", Objective.evaluate) is Objective.evaluate:
        return {}
    n, seed = eval_cfg.w1_samples, eval_cfg.seed
    fake = generate(G, n, seed, device).to(device)
    real = source.sample(n, torch.Generator().manual_seed(seed + 1)).to(device)
    return objective.evaluate(D, real, fake, seed + 2)
