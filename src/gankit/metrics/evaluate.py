"""Score a generator against its data source with every metric that applies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..data.toy import DataSource
from ..divergences.wasserstein import w1
from ..registry import METRICS
from .modes import mode_coverage

__all__ = ["generate", "evaluate", "final_evaluate", "evaluate_discriminator", "sampler_kwargs", "score_samples"]


@torch.no_grad()
def generate(G: nn.Module, n: int, seed: int, device: torch.device | str = "cpu", batch: int = 4096) -> torch.Tensor:
    """``n`` samples from ``G`` with noise from a generator seeded ``seed`` (same seed, same samples)."""
    gen = torch.Generator(device="cpu").manual_seed(seed)
    was_training = G.training
    G.eval()
    out = []
    for start in range(0, n, batch):
        m = min(batch, n - start)
        z = torch.randn(m, G.latent_dim, generator=gen).to(device)
        out.append(G(z).float().cpu())
    G.train(was_training)
    return torch.cat(out)


def sampler_kwargs(eval_cfg: Any) -> dict[str, Any]:
    """The sampler settings of an :class:`~gankit.config.EvalConfig` as keywords of :func:`evaluate`."""
    return {"polarity": eval_cfg.polarity, "polarity_pool": eval_cfg.polarity_pool, "hpd": eval_cfg.hpd}


def final_evaluate(G: nn.Module, source: DataSource, eval_cfg: Any, device: torch.device | str = "cpu",
                   test: DataSource | None = None, drs: int | None = None, ratio_cache: str | Path | None = None,
                   save_ratio: bool = False) -> dict[str, Any]:
    """:func:`evaluate` with every sampler of ``eval_cfg``, discriminator rejection sampling included
    (``eval.drs`` classifier steps, or ``drs`` where given: a :func:`gankit.sampling.fit_ratio`
    classifier is fitted to ``G`` first, seeded ``eval.seed``; ``drs_time`` reports its seconds).
    ``ratio_cache``: a run's ``drs.pt``, reused where it holds this very classifier and written
    with ``save_ratio`` (:func:`gankit.sampling.fitted_ratio`)."""
    steps = eval_cfg.drs if drs is None else drs
    ratio, extra = None, {}
    if steps:
        import time

        from ..sampling import check_sampler, fitted_ratio

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
    """Metrics of ``G`` against ``source``: mode coverage where it has modes, and exact W1;
    for images (``source.shape`` is (C, H, W)) the image metrics of :func:`.images.image_metrics`.

    Mode coverage uses ``n_samples`` generated samples; W1 uses ``w1_samples`` generated
    samples against as many fresh real ones. Noise and real draws come from generators
    seeded by ``seed``, never from the training streams. ``test`` is the test split of an
    image data set (the reference of the Fréchet distance).

    With a sampler (``polarity ≠ 0``, ``hpd < 1`` or a density-ratio classifier ``ratio`` for
    discriminator rejection sampling, :mod:`gankit.sampling`) the metrics are
    those of the sampler's samples, and the plain generator's are reported beside them
    under the same names prefixed ``plain_``: the generator itself is never hidden.
    """
    if polarity != 0 or hpd != 1 or ratio is not None:
        from ..sampling import sample

        plain = evaluate(G, source, n_samples, w1_samples, seed, device, test)
        fake = sample(G, n_samples, seed, device, polarity=polarity, polarity_pool=polarity_pool, hpd=hpd, ratio=ratio)
        out = score_samples(fake, source, w1_samples, seed, test)
        out.update({f"plain_{k}": v for k, v in plain.items() if isinstance(v, (int, float))})
        return out
    return score_samples(generate(G, n_samples, seed, device), source, w1_samples, seed, test)


def score_samples(fake: torch.Tensor, source: DataSource, w1_samples: int, seed: int, test: DataSource | None) -> dict[str, Any]:
    """The metrics of :func:`evaluate` for given samples ``fake`` (noise and real draws seeded by ``seed``)."""
    if len(source.shape) == 3 and hasattr(source, "images"):
        from .images import image_metrics

        return image_metrics(fake, source, test, seed=seed)
    out: dict[str, Any] = {}
    std = source.std if source.std is not None else getattr(source, "stds", None)  # per-mode stds (1-D mixtures)
    if source.centres is not None and std is not None and source.shape == (source.centres.shape[1],):
        out.update(mode_coverage(fake, source.centres, torch.as_tensor(std)))
    if source.dim <= 64 or hasattr(source, "log_prob"):
        real = source.sample(w1_samples, torch.Generator().manual_seed(seed + 1))
        out["w1"] = w1(fake[:w1_samples].flatten(1), real.flatten(1))  # images (n, C, H, W): flatten
    return out


def evaluate_discriminator(objective: Any, D: nn.Module, G: nn.Module, source: DataSource, eval_cfg: Any,
                           device: torch.device | str = "cpu") -> dict[str, float]:
    """``objective.evaluate(D, real, fake)`` on ``eval.w1_samples`` fresh samples of each side.

    Only for objectives that define it (the WGAN critics: ``critic_estimate``,
    ``critic_lipschitz``, ...); noise, data and interpolation come from generators seeded
    by ``eval.seed``, never from the training streams, so evaluating changes no training state.
    """
    from ..objectives.base import Objective

    if getattr(type(objective), "evaluate", Objective.evaluate) is Objective.evaluate:
        return {}
    n, seed = eval_cfg.w1_samples, eval_cfg.seed
    fake = generate(G, n, seed, device).to(device)
    real = source.sample(n, torch.Generator().manual_seed(seed + 1)).to(device)
    return objective.evaluate(D, real, fake, seed + 2)


METRICS.add("modes", mode_coverage, help="modes captured / high-quality fraction / reverse KL (PacGAN definitions)")
