"""One small registry for every open set: data sources, models, objectives, metrics.

Modelled on timm's ``@register_model`` / ``create_model``: a name maps to a factory;
an unknown name raises :class:`~gankit.errors.GankitError` listing the known names.
A *family* registers a prefix, so ``"fgan:reverse_kl"`` resolves to the ``fgan``
factory called with the argument ``"reverse_kl"``.

Example
-------
>>> from gankit.registry import Registry
>>> shapes = Registry("shape")
>>> @shapes.register("square", help="a square")
... def make_square():
...     return "[]"
>>> shapes.get("square")()
'[]'
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .errors import GankitError

__all__ = ["Registry", "Entry", "DATA", "MODELS", "OBJECTIVES", "METRICS", "DIVERGENCES", "ALL"]

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    name: str
    obj: T
    help: str
    family: bool = False


class Registry(Generic[T]):
    """A name → object map with helpful errors.

    Parameters
    ----------
    kind : str
        What is registered, used in error messages (``"data source"``).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}
        self._families: dict[str, Entry[Callable[[str], T]]] = {}

    def register(self, name: str, *, help: str = "") -> Callable[[T], T]:
        """Decorator that registers ``obj`` under ``name``."""

        def deco(obj: T) -> T:
            if name in self._entries:
                raise RuntimeError(f"{self.kind} {name!r} registered twice")
            self._entries[name] = Entry(name, obj, help or _first_line(obj))
            return obj

        return deco

    def add(self, name: str, obj: T, *, help: str = "") -> None:
        """Register ``obj`` under ``name`` (non-decorator form)."""
        self.register(name, help=help)(obj)

    def register_family(self, prefix: str, *, help: str = "") -> Callable[[Callable[[str], T]], Callable[[str], T]]:
        """Register a factory for names of the form ``prefix:argument``."""

        def deco(factory: Callable[[str], T]) -> Callable[[str], T]:
            self._families[prefix] = Entry(prefix, factory, help or _first_line(factory), family=True)
            return factory

        return deco

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        if name in self._entries:
            return True
        prefix, sep, _ = name.partition(":")
        return bool(sep) and prefix in self._families

    def get(self, name: str) -> T:
        """Return the object registered as ``name``; raise a listing error if unknown."""
        if not isinstance(name, str):
            raise GankitError(f"{self.kind} name must be a string, got {type(name).__name__}; known: {self.known()}")
        if name in self._entries:
            return self._entries[name].obj
        prefix, sep, arg = name.partition(":")
        if sep and prefix in self._families:
            return self._families[prefix].obj(arg)
        raise GankitError(f"unknown {self.kind} {name!r}; known: {self.known()}{self.suggest(name)}")

    def suggest(self, name: str) -> str:
        """``; did you mean 'x'?`` for the closest registered name (or ``prefix:arg``), else ``""``."""
        names = list(self._entries) + [f"{p}:" for p in self._families]
        prefix, sep, arg = name.partition(":")
        if sep:  # a family's prefix mistyped: keep the argument
            close = difflib.get_close_matches(prefix, list(self._families), n=1, cutoff=0.6)
            return f"; did you mean {close[0] + ':' + arg!r}?" if close else ""
        key = name.lower().replace("_", "-")
        norm = {n.lower().replace("_", "-"): n for n in names}
        close = difflib.get_close_matches(key, list(norm), n=1, cutoff=0.6)
        return f"; did you mean {norm[close[0]]!r}?" if close else ""

    def known(self) -> str:
        """The registered names, comma-separated (families as ``prefix:<arg>``)."""
        return ", ".join(sorted(self._entries) + sorted(f"{p}:<arg>" for p in self._families)) or "(none)"

    def entries(self) -> Iterator[Entry[Any]]:
        yield from (self._entries[k] for k in sorted(self._entries))
        yield from (self._families[k] for k in sorted(self._families))


def _first_line(obj: object) -> str:
    return (getattr(obj, "__doc__", None) or "").strip().partition("\n")[0]


DATA: Registry[Any] = Registry("data source")
MODELS: Registry[Any] = Registry("model")
OBJECTIVES: Registry[Any] = Registry("objective")
METRICS: Registry[Any] = Registry("metric")
DIVERGENCES: Registry[Any] = Registry("divergence")

#: Every registry, in the order ``gankit list`` prints them.
ALL: dict[str, Registry[Any]] = {
    "data": DATA,
    "models": MODELS,
    "objectives": OBJECTIVES,
    "metrics": METRICS,
    "divergences": DIVERGENCES,
}
