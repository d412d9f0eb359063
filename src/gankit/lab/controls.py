"""The lab's controls: every message from the page is untrusted input, checked here before it acts.

:func:`parse_message` turns one JSON object from the page into an :class:`Action` or raises
:class:`~gankit.errors.GankitError` with one line saying what is wrong and what is accepted.
Config keys are checked twice: here against the lab's own ranges (so a slider cannot ask for a
million-wide network), then by :func:`gankit.config.apply_overrides` against the config's types.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

from .. import objectives  # noqa: F401  (registers the objectives)
from ..data import toy  # noqa: F401  (registers the toy sources)
from ..data.toy import is_mixture_spec, parse_mixture
from ..divergences.fdiv import divergence_names
from ..errors import GankitError
from ..registry import DATA, OBJECTIVES

__all__ = ["Action", "parse_message", "LIVE_KEYS", "CONTROL_KEYS", "MAX_POINTS", "MAX_BODY", "lab_data_sources",
           "lab_objectives", "check_fps"]

#: the largest request body the server reads (bytes)
MAX_BODY = 64 * 1024
#: the most points one drawing may hold (each becomes a Gaussian component of the data)
MAX_POINTS = 500
#: how far from the origin a drawn point may lie
MAX_COORD = 50.0
ACTIONS = ("play", "pause", "step", "reset", "set", "draw", "save")

#: control name -> (config key(s), kind, lo, hi); kind: float, int, bool or a tuple of allowed strings
CONTROLS: dict[str, tuple[tuple[str, ...], Any, float, float]] = {
    "lr_d": (("train.lr_d",), float, 1e-6, 1.0),
    "lr_g": (("train.lr_g",), float, 1e-6, 1.0),
    "d_steps": (("train.d_steps",), int, 1, 50),
    "batch_size": (("train.batch_size",), int, 1, 4096),
    "steps": (("train.steps",), int, 1, 10**6),
    "width": (("model.g_width", "model.d_width"), int, 4, 1024),
    "depth": (("model.g_depth", "model.d_depth"), int, 1, 8),
    "seed": (("train.seed",), int, 0, 2**31 - 1),
    "pack": (("model.pack",), int, 1, 8),
    "r1": (("objective.r1",), float, 0.0, 100.0),
    "gp_weight": (("objective.gp_weight",), float, 0.0, 100.0),
    "ema": (("train.ema",), float, 0.0, 0.9999),
    "spectral_norm": (("model.spectral_norm",), bool, 0, 1),
    "lr_schedule": (("train.lr_schedule",), ("constant", "linear", "cosine"), 0, 0),
    "optimizer": (("train.optimizer",), ("adam", "rmsprop", "sgd"), 0, 0),
    "objective": (("objective.name",), str, 0, 64),
    "data": (("data.name",), str, 0, 300),
}
CONTROL_KEYS = tuple(CONTROLS)
#: controls applied to the running trainer at the next step, keeping its weights and optimiser state
LIVE_KEYS = ("lr_d", "lr_g", "d_steps", "batch_size", "steps")


@dataclass
class Action:
    """One checked message: ``kind`` (play, pause, step, reset, set, draw, save) and its arguments."""

    kind: str
    #: ``set``: config key -> value (already in range)
    values: dict[str, Any] = field(default_factory=dict)
    #: ``draw``: the points, (n, 2) as lists; ``step``: how many steps
    points: list[list[float]] = field(default_factory=list)
    count: int = 1
    #: ``save``: the run directory
    path: str = ""


@functools.lru_cache(maxsize=1)
def lab_data_sources() -> tuple[str, ...]:
    """Registered data sources with 1-D or 2-D samples (the ones the lab can draw)."""
    names = []
    for entry in DATA.entries():
        if entry.family:  # files (images:PATH, idx:PATH)
            continue
        src = entry.obj()
        if len(src.shape) == 1 and src.shape[0] in (1, 2):
            names.append(entry.name)
    return tuple(names)


def lab_objectives() -> list[str]:
    """Every registered objective, the f-GAN family spelled out once per divergence."""
    return [e.name for e in OBJECTIVES.entries() if not e.family] + [f"fgan:{d}" for d in divergence_names()]


def check_fps(value: Any) -> float:
    """The frame rate the page asked for, in [0.5, 30]."""
    return _number("fps", value, float, 0.5, 30.0)


def _number(name: str, value: Any, kind: Any, lo: float, hi: float) -> Any:
    if kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        if not ok and isinstance(value, float) and value.is_integer():
            value, ok = int(value), True
    else:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not lo <= value <= hi:
        what = "an integer" if kind is int else "a number"
        raise GankitError(f"{name} must be {what} in [{lo:g}, {hi:g}], got {_show(value)}")
    return kind(value)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _control(name: str, value: Any) -> dict[str, Any]:
    keys, kind, lo, hi = CONTROLS[name]
    if kind is bool:
        if not isinstance(value, bool):
            raise GankitError(f"{name} must be true or false, got {_show(value)}")
        out: Any = value
    elif isinstance(kind, tuple):
        if value not in kind:
            raise GankitError(f"{name} must be one of {', '.join(kind)}, got {_show(value)}")
        out = value
    elif kind is str:
        if not isinstance(value, str) or not value.strip() or len(value) > hi:
            raise GankitError(f"{name} must be a name of at most {hi:g} characters, got {_show(value)}")
        out = _check_name(name, value.strip())
    else:
        out = _number(name, value, kind, lo, hi)
    return {k: out for k in keys}


def _check_name(name: str, value: str) -> str:
    if name == "objective":
        OBJECTIVES.get(value)  # one line for an unknown name, with the known ones; fgan:<div> checks <div>
        return value
    if is_mixture_spec(value):
        parse_mixture(value)  # one line for a malformed spec
        return value
    if value not in lab_data_sources():
        raise GankitError(f"data must be one of {', '.join(lab_data_sources())} or a 1-D mixture spec like "
                          f"'0.3*N(-2,0.5) + 0.7*N(1,1)', got {_show(value)}")
    return value


def _points(value: Any) -> list[list[float]]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_POINTS:
        raise GankitError(f"points must be a list of 1 to {MAX_POINTS} [x, y] pairs")
    out = []
    for p in value:
        if (not isinstance(p, list) or len(p) != 2
                or not all(isinstance(c, (int, float)) and not isinstance(c, bool) and math.isfinite(c)
                           and abs(c) <= MAX_COORD for c in p)):
            raise GankitError(f"each point must be [x, y] with finite numbers within ±{MAX_COORD:g}, got {_show(p)}")
        out.append([float(p[0]), float(p[1])])
    return out


def parse_message(msg: Any) -> Action:
    """Check one message from the page; an :class:`Action`, or :class:`GankitError` naming the problem."""
    if not isinstance(msg, dict):
        raise GankitError("a message must be a JSON object with an 'action'")
    kind = msg.get("action")
    if kind not in ACTIONS:
        raise GankitError(f"action must be one of {', '.join(ACTIONS)}, got {_show(kind)}")
    extra = set(msg) - {"action", "values", "points", "count", "path"}
    if extra:
        raise GankitError(f"unknown field(s) {', '.join(sorted(map(str, extra)))[:80]}")
    if kind == "set":
        values = msg.get("values")
        if not isinstance(values, dict) or not values:
            raise GankitError(f"set needs 'values': an object of controls ({', '.join(CONTROL_KEYS)})")
        unknown = [k for k in values if k not in CONTROLS]
        if unknown:
            raise GankitError(f"unknown control {_show(unknown[0])}; known: {', '.join(CONTROL_KEYS)}")
        checked: dict[str, Any] = {}
        for name, value in values.items():
            checked.update(_control(name, value))
        return Action("set", values=checked)
    if kind == "draw":
        return Action("draw", points=_points(msg.get("points")))
    if kind == "step":
        return Action("step", count=_number("count", msg.get("count", 1), int, 1, 1000))
    if kind == "save":
        path = msg.get("path")
        if not isinstance(path, str) or not path.strip() or len(path) > 500 or "\x00" in path:
            raise GankitError("save needs 'path': the run directory to write (at most 500 characters)")
        return Action("save", path=path.strip())
    return Action(kind)
