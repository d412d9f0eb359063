"""Per-objective training defaults, applied to the settings the user did not set.

Each :class:`~gankit.objectives.Objective` may carry ``defaults``, a dict of ``train``
fields (``{"optimizer": "rmsprop", "lr_d": 5e-4, "d_steps": 5}`` for WGAN). Their
place among the layers of a config is set out in :mod:`gankit.run.presets`.

The rule is "explicitly set or not", never "equal to the TrainConfig default or not": a
user who writes ``--set train.lr_d=0.001`` (the TrainConfig default) keeps 0.001 with WGAN.

Example
-------
>>> from gankit.config import RunConfig, apply_overrides
>>> cfg = apply_overrides(RunConfig(), {"objective.name": "wgan"})
>>> t = with_objective_defaults(cfg).train
>>> t.optimizer, t.lr_d, t.d_steps
('rmsprop', 0.0005, 5)
>>> with_objective_defaults(cfg, explicit={"train.d_steps"}).train.d_steps
1
"""

from __future__ import annotations

from collections.abc import Iterable

from ..config import RunConfig, apply_overrides
from ..registry import OBJECTIVES

__all__ = ["with_objective_defaults"]


def with_objective_defaults(cfg: RunConfig, explicit: Iterable[str] = ()) -> RunConfig:
    """``cfg`` with the objective's defaults applied to every key not in ``explicit``.

    Parameters
    ----------
    cfg : RunConfig
    explicit : iterable of str
        Dotted keys the user set (``"train.lr_d"``); a section name (``"train"``) marks
        the whole section as set.

    Returns
    -------
    RunConfig
    """
    explicit = set(explicit)
    defaults = getattr(OBJECTIVES.get(cfg.objective.name)(cfg.objective), "defaults", None) or {}
    dotted = {k if "." in k else f"train.{k}": v for k, v in defaults.items()}  # "lr_d" means "train.lr_d"
    chosen = {k: v for k, v in dotted.items() if k not in explicit and k.split(".", 1)[0] not in explicit}
    return apply_overrides(cfg, chosen) if chosen else cfg

