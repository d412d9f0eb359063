"""The library front door, shaped like scikit-learn; a thin shell over :class:`gankit.run.Run`.

``GAN()`` resolves its config exactly as ``gankit train`` does (same presets, same layers),
so ``GAN().fit()`` trains what ``gankit train`` trains, ``GAN(objective="wgan")`` what
``gankit train --objective wgan`` trains, and ``GAN.load(d).sample(n, seed=s)`` returns
what ``gankit sample d -n n --seed s`` writes.

>>> from gankit import GAN
>>> gan = GAN(steps=50, progress=False).fit("ring8", out="runs/api")   # doctest: +SKIP
>>> x = gan.sample(1000, seed=0)                                       # doctest: +SKIP
>>> GAN.load("runs/api").sample(1000, seed=0).equal(x)                 # doctest: +SKIP
True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .config import RunConfig
from .data.arrays import ArraySource
from .data.toy import DataSource
from .errors import GankitError
from .run import Run, data_name_for, resolve
from .run.parts import VAE_MODELS

__all__ = ["GAN", "RunEstimator", "params_to_overrides", "fit_data"]

_TRAIN_KEYS = set(RunConfig().train.__dataclass_fields__)
_MODEL_KEYS = set(RunConfig().model.__dataclass_fields__) - {"name"}
_VAE_KEYS = set(RunConfig().vae.__dataclass_fields__)


def params_to_overrides(params: dict[str, Any]) -> dict[str, Any]:
    """Keyword parameters of the front-door classes as dotted config keys.

    A ``train``, ``model`` or ``vae`` field name maps to its section (``steps`` → ``train.steps``,
    ``g_width`` → ``model.g_width``, ``kl_warmup`` → ``vae.kl_warmup``); a dotted key passes through;
    anything else is an error.
    """
    over: dict[str, Any] = {}
    for k, v in params.items():
        if "." in k:
            over[k] = v
        elif k in _TRAIN_KEYS:
            over[f"train.{k}"] = v
        elif k in _MODEL_KEYS:
            over[f"model.{k}"] = v
        elif k in _VAE_KEYS:
            over[f"vae.{k}"] = v
        else:
            known = sorted(_TRAIN_KEYS | _MODEL_KEYS | _VAE_KEYS)
            raise GankitError(f"unknown parameter {k!r}; accepted: {', '.join(known)} "
                              f"or a dotted config key")
    return over


def fit_data(data: Any) -> tuple[str | None, DataSource | None]:
    """``fit(data)``'s argument → ``(data.name, None)`` for a name, spec or path; ``(None, source)`` for data."""
    if data is None or isinstance(data, str):
        return (data_name_for(data) if data is not None else None), None
    source = data if isinstance(data, DataSource) else ArraySource(data=data)
    return None, source


class RunEstimator:
    """What :class:`GAN` and :class:`~gankit.VAE` share: a config resolved as ``gankit train`` resolves
    it, ``fit(data, out=None)`` and ``load(run_dir)`` through one :class:`~gankit.run.Run`, and the
    fitted state ``run_``, ``config_``, ``history_``, ``source_``, ``device_``, ``n_steps_``."""

    preset: str | None
    config: RunConfig | None
    params: dict[str, Any]
    #: whether the estimator trains an auto-encoder (a VAE) rather than a GAN
    autoencoder = False

    def _flags(self, data_name: str | None) -> dict[str, Any]:
        raise NotImplementedError

    def _resolve(self, data_name: str | None) -> RunConfig:
        sets = params_to_overrides(self.params)
        return resolve(self.preset, flags=self._flags(data_name), sets=sets, base=self.config).cfg

    def _check_kind(self, autoencoder: bool, what: str) -> None:
        if autoencoder != self.autoencoder:
            mine, other = ("VAE", "gankit.GAN") if self.autoencoder else ("GAN", "gankit.VAE")
            raise GankitError(f"{what} is not a {mine} (auto-encoders: {', '.join(VAE_MODELS)}); use {other}")

    def _fit(self, data: Any, out: str | Path | None) -> Any:
        name, source = fit_data(data)
        cfg = self._resolve(name)
        self._check_kind(cfg.model.name in VAE_MODELS, f"model {cfg.model.name!r}")
        run = Run(cfg, out, source=source)
        run.fit()
        self._take(run)
        return self

    @classmethod
    def load(cls, run_dir: str | Path) -> Any:
        """A fitted estimator from a run directory (``gankit train --out`` or ``fit(out=)``)."""
        run = Run.load(run_dir)
        est = cls(config=run.cfg)
        est._check_kind(run.parts.is_vae, f"run {str(run_dir)!r}")
        est._take(run)
        return est

    def _take(self, run: Run) -> None:
        p = run.parts
        self.run_, self.config_, self.history_, self.source_, self.device_ = run, run.cfg, run.history, p.source, p.device
        self.n_steps_ = int(run.trainer.step if run.trainer is not None else run.state["step"])

    def _check_fitted(self) -> None:
        if not hasattr(self, "run_"):
            raise GankitError(f"this {type(self).__name__} is not fitted yet; call fit(data) first")


class GAN(RunEstimator):
    """A generative adversarial network with scikit-learn manners.

    Parameters
    ----------
    objective : str, optional
        Registered objective (``gankit list``), e.g. ``"ns"``, ``"wgan-gp"``; default: the preset's.
    model : str, optional
        Registered model, e.g. ``"mlp"``, ``"dcgan"``; default: the preset's (``auto``).
    preset : str, optional
        A preset (``gankit list``); default as ``gankit train``: ``images`` for image data, else ``default``.
    config : RunConfig, optional
        A complete config to train as given (instead of a preset); keyword arguments override it.
    **params
        Any field of ``train`` (``steps``, ``lr_g``, ``seed``, ...) or ``model`` (``g_width``,
        ``latent_dim``, ...), or a dotted key (``"eval.n_samples"``).

    Attributes
    ----------
    generator_, discriminator_ : nn.Module
        The run's generator (the averaged one with ``train.ema``) and discriminator.
    history_ : list of dict
        The records of ``fit`` (``history.jsonl``): mean losses every ``train.log_every`` steps, and the
        metrics (the generator's own; a sampler's under ``samplers``) every ``train.eval_every`` steps.
    config_ : RunConfig
        The resolved config.
    run_ : Run
        The run behind it (``run_.out`` is its directory, or None).
    """

    def __init__(self, objective: str | None = None, model: str | None = None, preset: str | None = None,
                 config: RunConfig | None = None, **params: Any) -> None:
        self.objective, self.model, self.preset, self.config = objective, model, preset, config
        self.params = params

    def _flags(self, data_name: str | None) -> dict[str, Any]:
        return {"objective.name": self.objective, "model.name": self.model, "data.name": data_name}

    def fit(self, data: str | DataSource | np.ndarray | Tensor | None = None, out: str | Path | None = None) -> GAN:
        """Train; returns self.

        Parameters
        ----------
        data : str, DataSource or array (n, dim), optional
            A registered source name, a mixture spec, an image file/folder, a :class:`DataSource`
            or an array; default: the preset's (or ``config``'s) data.
        out : path, optional
            Write a run directory there, as ``gankit train --out`` does (readable by
            ``gankit eval/sample/report`` and :meth:`load`); default: train in memory.
        """
        return self._fit(data, out)

    def _take(self, run: Run) -> None:
        super()._take(run)
        self.generator_, self.discriminator_, self.objective_ = run.parts.G, run.parts.D, run.parts.objective

    def sample(self, n: int, seed: int = 0, polarity: float | None = None, hpd: float | None = None,
               drs: int | None = None, label: int | None = None, labels: Any = None) -> Tensor:
        """``n`` samples (n, *shape); the same seed gives the same samples.

        With no sampler named, the run's own (``eval.polarity``, ``eval.hpd`` or ``eval.drs``;
        none in the ``default`` preset); ``polarity``, ``hpd`` or ``drs`` name one that replaces it
        (:mod:`gankit.sampling`). A conditional model (others refuse both): ``labels`` is one class
        for all ``n`` samples or ``n`` classes, one per sample (each class drawn with ``seed``);
        ``label`` is the same as ``labels`` with one class.
        """
        self._check_fitted()
        if labels is not None and label is not None:
            raise GankitError("give labels= or label=, not both")
        if labels is None or (isinstance(labels, int) and not isinstance(labels, bool)):
            label = labels if labels is not None else label
            return self.run_.sample(n, seed, polarity=polarity, hpd=hpd, drs=drs, label=label)
        classes = _labels_of(labels, n)
        out: Tensor | None = None
        for k in np.unique(classes):
            where = torch.from_numpy(np.flatnonzero(classes == k))
            x = self.run_.sample(len(where), seed, polarity=polarity, hpd=hpd, drs=drs, label=int(k))
            out = x.new_empty((n, *x.shape[1:])) if out is None else out
            out[where] = x
        return out

    @torch.no_grad()
    def score(self, x: Tensor | np.ndarray) -> float:
        """Mean log D(x): the discriminator's log-probability that the rows of ``x`` are real."""
        self._check_fitted()
        x = torch.as_tensor(np.asarray(x), dtype=torch.float32, device=self.device_)
        D = self.discriminator_
        logits = D.single(x) if hasattr(D, "single") else D(x)  # a packed D judges a pack of copies
        return float(-F.softplus(-logits).mean())

    def evaluate(self, n_samples: int | None = None, seed: int | None = None) -> dict[str, float]:
        """The metrics of ``gankit eval`` on fresh samples (default ``eval.n_samples``, ``eval.seed``): the
        generator's own, and the run's sampler's under ``samplers``."""
        self._check_fitted()
        return self.run_.evaluate(n_samples, seed)


def _labels_of(labels: Any, n: int) -> np.ndarray:
    """``labels`` as ``n`` integer classes (a sequence, array or tensor), or one GankitError line."""
    arr = np.asarray(labels.cpu() if isinstance(labels, Tensor) else labels)
    if arr.ndim != 1 or len(arr) != n or not np.issubdtype(arr.dtype, np.integer):
        raise GankitError(f"labels must be one integer class or {n} integer classes (one per sample), "
                          f"got {arr.dtype} of shape {arr.shape}")
    return arr.astype(np.int64)
