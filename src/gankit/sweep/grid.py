"""The plan of a sweep: configs × ``--set`` grid × seeds → one :class:`Job` per run directory.

A combination is one config file (or the preset) with one value of every grid key; each
combination gets a folder ``OUT/<name>/`` holding one run directory per seed,
``OUT/<name>/seed<s>/``. The name is made of the values of the axes with more than one value
(``objective-ns_data-ring8``; ``<data>-<objective>`` without such an axis), so
the same command always plans the same folders: that is how a second run of a sweep finds the
runs it already has.

>>> split_values("[0.5,0.9],1")
['[0.5,0.9]', '1']
>>> parse_grid(["objective.name=ns,hinge", "train.steps=200"])
[('objective.name', ['ns', 'hinge']), ('train.steps', ['200'])]
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..config import MAX_SEED, RunConfig, apply_overrides, parse_toml
from ..errors import GankitError
from ..run import resolve
from ..run.preflight import check_names
from ..run.presets import MAX_CONFIG_BYTES

__all__ = ["Combo", "Job", "parse_grid", "split_values", "seed_list", "plan", "combo_name", "MAX_RUNS",
           "load_config"]

#: a sweep larger than this is refused (a typo such as --seeds 100000)
MAX_RUNS = 100_000
_SAFE = re.compile(r"[^A-Za-z0-9.+-]+")


@dataclass(frozen=True)
class Combo:
    """One combination: its folder name, the grid values that made it, and its resolved config (seed unset)."""

    name: str
    settings: dict[str, str]
    cfg: RunConfig
    preset: str


@dataclass(frozen=True)
class Job:
    """One run of a sweep: its combination, seed, config and run directory."""

    combo: Combo
    seed: int
    cfg: RunConfig
    out: Path
    #: extra fields a caller keeps with the run (e.g. a search trial's number)
    tags: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.combo.name}/seed{self.seed}"


def split_values(text: str) -> list[str]:
    """Split ``v1,v2,...`` at the commas outside brackets, parentheses and quotes (a TOML array or a
    mixture spec such as ``0.5*N(-2,0.5) + 0.5*N(2,0.5)`` stays one value)."""
    out, depth, quote, cur = [], 0, "", []
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    out.append("".join(cur).strip())
    return out


def parse_grid(sets: Sequence[str]) -> list[tuple[str, list[str]]]:
    """``--set key=v1,v2`` (repeatable) → ``[(key, [v1, v2]), ...]``; one :class:`GankitError` line if malformed."""
    grid: list[tuple[str, list[str]]] = []
    for text in sets:
        key, sep, values = text.partition("=")
        key = key.strip()
        vals = split_values(values) if sep else []
        if not sep or not key or "." not in key or any(not v for v in vals):
            raise GankitError(f"malformed --set {text!r}; accepted form: section.key=value or section.key=v1,v2,... "
                              f"(a grid), e.g. objective.name=ns,hinge")
        if any(k == key for k, _ in grid):
            raise GankitError(f"--set {key} is given twice; list all its values once: {key}=v1,v2,...")
        if len(set(vals)) != len(vals):
            raise GankitError(f"--set {text!r} repeats a value")
        grid.append((key, vals))
    return grid


def seed_list(seeds: int | None, listed: str | None, first: int = 0) -> list[int]:
    """The seeds of ``--seeds N`` (``first .. first+N-1``) or ``--seed-list 1,2,5``."""
    if seeds is not None and listed is not None:
        raise GankitError("give --seeds N or --seed-list, not both")
    if listed is not None:
        try:
            out = [int(s) for s in listed.split(",")]
        except ValueError:
            raise GankitError(f"--seed-list must be integers separated by commas, e.g. 1,2,5; got {listed!r}") from None
        if len(set(out)) != len(out):
            raise GankitError(f"--seed-list {listed!r} repeats a seed")
    else:
        n = 1 if seeds is None else seeds
        if not 1 <= n <= MAX_RUNS:
            raise GankitError(f"--seeds must be an integer in [1, {MAX_RUNS}], got {n}")
        out = list(range(first, first + n))
    bad = [s for s in out if not 0 <= s <= MAX_SEED]
    if bad:
        raise GankitError(f"seed {bad[0]} is out of range [0, {MAX_SEED}]")
    return out


def load_config(path: str | Path) -> tuple[tuple[str, dict[str, Any]], dict[str, Any]]:
    """A config file as ``((stem, dotted keys), search table)``: its ``[search]`` table apart, the rest checked."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_CONFIG_BYTES:
            raise GankitError(f"config file {str(p)!r} is larger than {MAX_CONFIG_BYTES} bytes; a config is a few lines")
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GankitError(f"cannot read config file {str(p)!r}: {getattr(exc, 'strerror', None) or exc}") from None
    data = parse_toml(text, f"config file {str(p)!r}")
    search = data.pop("search", {})
    if not isinstance(search, dict):
        raise GankitError(f"[search] of {str(p)!r} must be a table of ranges, e.g. lr_d = {{log = [1e-5, 1e-2]}}")
    keys = _flatten(data)
    try:
        apply_overrides(RunConfig(), keys)
    except GankitError as exc:
        raise GankitError(f"config file {str(p)!r}: {exc}") from None
    return (p.stem, keys), search


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        out.update(_flatten(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
    return out


def _slug(value: str) -> str:
    return _SAFE.sub("_", value).strip("_") or "x"


def _short(key: str) -> str:
    section, _, name = key.rpartition(".")
    return section.rpartition(".")[2] if name == "name" else name


def combo_name(settings: dict[str, str]) -> str:
    """``{"objective.name": "ns", "train.lr_d": "1e-4"}`` → ``objective-ns_lr_d-1e-4``."""
    return "_".join(f"{_short(k)}-{_slug(v)}" for k, v in settings.items())


def plan(configs: Sequence[str | Path | dict[str, Any]], grid: list[tuple[str, list[str]]], seeds: list[int],
         out: str | Path, preset: str | None = None, flags: dict[str, Any] | None = None) -> list[Job]:
    """Every run of the sweep, seed-major (each combination gets its first seed before any gets its second).

    ``configs``: TOML files (or dicts of dotted keys, or ``(label, dict)`` as :func:`load_config` gives)
    applied over the preset, one axis of the grid (``config-<stem>`` in the names when there are several). Every config is resolved and checked here,
    so bad input fails before anything is written.
    """
    out = Path(out)
    axes: list[tuple[str, list[str]]] = list(grid)
    sources: list[tuple[str, Any]] = [(_config_label(c, i), c) for i, c in enumerate(configs)] or [("", None)]
    combos: list[Combo] = []
    for (label, source), values in itertools.product(sources, itertools.product(*[v for _, v in axes])):
        settings = {"config": label} if len(sources) > 1 else {}
        settings.update({k: v for (k, _), v in zip(axes, values, strict=True)})
        varying = {k: v for k, v in settings.items() if k == "config" or len(dict(axes)[k]) > 1}
        combos.append(_combo(source, preset, flags or {}, settings, varying))
    names = [c.name for c in combos]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise GankitError(f"two combinations of the grid get the same folder name {dup!r}; give values that differ "
                          f"in letters or digits")
    if len(combos) * len(seeds) > MAX_RUNS:
        raise GankitError(f"the sweep has {len(combos) * len(seeds)} runs, more than {MAX_RUNS}; shrink the grid")
    return [Job(c, s, _with_seed(c.cfg, s), out / c.name / f"seed{s}") for s in seeds for c in combos]


def _config_label(source: Any, i: int) -> str:
    if isinstance(source, (str, Path)):
        return Path(source).stem
    return str(source[0]) if isinstance(source, tuple) else f"config{i}"


def _combo(source: Any, preset: str | None, flags: dict[str, Any], settings: dict[str, str],
           varying: dict[str, str]) -> Combo:
    file = source if isinstance(source, (str, Path)) else None
    source = source[1] if isinstance(source, tuple) else source
    keys = dict(source) if isinstance(source, dict) else {}
    keys.update({k: v for k, v in flags.items() if v is not None})
    sets = [f"{k}={v}" for k, v in settings.items() if k != "config"]
    r = resolve(preset, file, keys, sets)
    check_names(r.cfg)
    name = combo_name(varying) or _slug(f"{r.cfg.data.name}-{r.cfg.objective.name}")
    return Combo(name, varying, r.cfg, r.preset)


def _with_seed(cfg: RunConfig, seed: int) -> RunConfig:
    return replace(cfg, train=replace(cfg.train, seed=seed))
