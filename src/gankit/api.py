"""The library front door, shaped like scikit-learn.

>>> from gankit import GAN
>>> gan = GAN(objective="ns", steps=50, progress=False).fit("ring8")   # doctest: +SKIP
>>> x = gan.sample(1000, seed=0)                                       # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .config import RunConfig, apply_overrides
from .data.arrays import ArraySource
from .data.toy import DataSource
from .errors import GankitError
from .metrics.evaluate import evaluate, generate, sampler_kwargs
from .objectives.defaults import with_objective_defaults
from .train.callbacks import History
from .train.run import build, training_extras
from .train.trainer import Trainer

__all__ = ["GAN"]

_TRAIN_KEYS = {f for f in RunConfig().train.__dataclass_fields__}
_MODEL_KEYS = {f for f in RunConfig().model.__dataclass_fields__} - {"name"}


def params_to_overrides(params: dict[str, Any]) -> dict[str, Any]:
    """Keyword parameters of the front-door classes as dotted config keys.

    A ``train`` or ``model`` field name maps to its section (``steps`` → ``train.steps``,
    ``g_width`` → ``model.g_width``); a dotted key passes through; anything else is an error.
    """
    over: dict[str, Any] = {}
    for k, v in params.items():
        if "." in k:
            over[k] = v
        elif k in _TRAIN_KEYS:
            over[f"train.{k}"] = v
        elif k in _MODEL_KEYS:
            over[f"model.{k}"] = v
        else:
            raise GankitError(f"unknown parameter {k!r}; accepted: {', '.join(sorted(_TRAIN_KEYS | _MODEL_KEYS))} "
                              f"or a dotted config key")
    return over


def build_for(data: Any, resolve: Any) -> tuple[RunConfig, Any]:
    """``(cfg, built)`` for a front door's ``fit(data)``: a source name or spec, a DataSource, or an array.

    ``resolve(data_name) -> RunConfig`` is the front door's own config resolution.
    """
    if isinstance(data, str):
        cfg = resolve(data)
        return cfg, build(cfg)
    source = data if isinstance(data, DataSource) else ArraySource(data=data)
    cfg = resolve(getattr(source, "name", "array") or "array")
    return cfg, build(cfg, source)


class GAN:
    """A generative adversarial network with scikit-learn manners.

    Parameters
    ----------
    objective : str
        Registered objective (``gankit list``), e.g. ``"ns"``, ``"minimax"``.
    model : str
        Registered model, e.g. ``"mlp"``, ``"dcgan"``; ``"auto"`` picks dcgan for images, mlp otherwise.
    config : RunConfig, optional
        A full config to start from; keyword arguments override it.
    **params
        Any field of ``train`` (``steps``, ``lr_g``, ``seed``, ...) or ``model``
        (``g_width``, ``latent_dim``, ...), or a dotted key (``"eval.n_samples"``).

    Attributes
    ----------
    generator_, discriminator_ : nn.Module
    history_ : list of dict — the evaluation records
    config_ : RunConfig — the resolved config
    """

    def __init__(self, objective: str = "ns", model: str = "auto", config: RunConfig | None = None,
                 **params: Any) -> None:
        self.objective = objective
        self.model = model
        self.config = config
        self.params = params

    def _resolve(self, data_name: str) -> RunConfig:
        cfg = self.config or RunConfig()
        over: dict[str, Any] = {"objective.name": self.objective, "model.name": self.model, "data.name": data_name}
        over.update(params_to_overrides(self.params))
        cfg = apply_overrides(cfg, over)
        if self.config is not None:
            return cfg
        from .train.presets import apply_image_defaults

        # Image data: the image defaults for every key not passed here; then the objective's defaults
        # (e.g. RMSProp 5e-5, 5 critic steps for wgan) for what was not given.
        cfg = apply_image_defaults(cfg, set(over))
        return with_objective_defaults(cfg, over)

    def fit(self, data: str | DataSource | np.ndarray | Tensor = "ring8") -> GAN:
        """Train on a registered source name, a mixture spec, a :class:`DataSource` or an array (n, dim)."""
        cfg, b = build_for(data, self._resolve)
        source = b.source
        extras, ema = training_extras(cfg, b.G)  # LR schedule, EMA of G (train.lr_schedule, train.ema)
        G_eval = ema.model if ema is not None else b.G
        history = History(cfg.train.eval_every,
                          lambda t: evaluate(G_eval, source, cfg.eval.n_samples, cfg.eval.w1_samples, cfg.eval.seed, b.device,
                                             test=b.eval_source, **sampler_kwargs(cfg.eval)))
        from .train.health import HealthGuard

        # the health guard first (as in `gankit train`): NaN/inf stops (or rolls back, train.on_nan)
        # at the exact step with one clear message instead of returning a broken model
        callbacks: list[Any] = [HealthGuard(cfg.train), *extras, history]
        if cfg.train.progress:
            from .train.callbacks import ProgressBar

            callbacks.append(ProgressBar(history))
        trainer = Trainer(b.G, b.D, b.objective, source, cfg.train, callbacks, device=b.device)
        trainer.fit()
        self.generator_, self.discriminator_, self.objective_ = G_eval, b.D, b.objective
        self.source_, self.config_, self.history_, self.device_ = source, cfg, history.records, b.device
        self.eval_source_ = b.eval_source
        self.n_steps_ = trainer.step
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "generator_"):
            raise GankitError("this GAN is not fitted yet; call fit(data) first")

    def sample(self, n: int, seed: int = 0, polarity: float = 0.0, hpd: float = 1.0, drs: int = 0) -> Tensor:
        """``n`` generated samples (n, *shape); the same seed gives the same samples.

        ``polarity`` (ρ ≠ 0), ``hpd`` (mass < 1) or ``drs`` (steps fitting the density-ratio
        classifier of discriminator rejection sampling; fitted once per step count and kept)
        choose a sampler of :mod:`gankit.sampling`.
        """
        self._check_fitted()
        if polarity != 0 or hpd != 1 or drs:
            from .sampling import check_sampler, fit_ratio, sample

            check_sampler(polarity, self.config_.eval.polarity_pool, hpd, drs)
            ratio = None
            if drs:
                cache = self.__dict__.setdefault("ratios_", {})
                if drs not in cache:
                    cache[drs] = fit_ratio(self.generator_, self.source_, drs, self.config_.eval.seed, self.device_,
                                           bandwidth=self.config_.eval.drs_bandwidth)
                ratio = cache[drs]
            return sample(self.generator_, n, seed, self.device_, polarity=polarity, hpd=hpd, ratio=ratio)
        return generate(self.generator_, n, seed, self.device_)

    @torch.no_grad()
    def score(self, x: Tensor | np.ndarray) -> float:
        """Mean log D(x): the discriminator's log-probability that the rows of ``x`` are real."""
        self._check_fitted()
        x = torch.as_tensor(np.asarray(x), dtype=torch.float32, device=self.device_)
        D = self.discriminator_
        logits = D.single(x) if hasattr(D, "single") else D(x)  # a packed D judges a pack of copies
        return float(-F.softplus(-logits).mean())

    def evaluate(self, n_samples: int = 2500, seed: int = 12345) -> dict[str, float]:
        """Mode coverage (where the source has modes) and exact W1 of fresh samples."""
        self._check_fitted()
        from dataclasses import replace

        from .metrics.evaluate import final_evaluate

        ev = replace(self.config_.eval, n_samples=n_samples, w1_samples=min(n_samples, self.config_.eval.w1_samples), seed=seed)
        return final_evaluate(self.generator_, self.source_, ev, self.device_, test=self.eval_source_)

