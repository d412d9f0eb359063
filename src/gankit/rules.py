"""Dataclass fields that declare the values they accept, and one validator for all of them.

A field states its rule once, beside its default; a frozen dataclass deriving from
:class:`Checked` checks every field when it is built and raises one
:class:`~gankit.errors.GankitError` line naming the field, what it accepts and what it got.

Example
-------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Opt(Checked):
...     _section = "opt"
...     lr: float = bounded(1e-3, 0, open_lo=True)
...     kind: str = one_of("adam", "sgd")
>>> Opt(lr=-1.0)
Traceback (most recent call last):
gankit.errors.GankitError: opt.lr must be a positive number, got -1.0
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields
from typing import Any

from .errors import GankitError

__all__ = ["Rule", "bounded", "one_of", "text", "Checked", "printable", "check_number"]


@dataclass(frozen=True)
class Rule:
    """The values one field accepts, declared with :func:`bounded`, :func:`one_of` or :func:`text`.

    Numbers lie in ``[lo, hi]`` (``None``: unbounded; ``open_lo``/``open_hi`` exclude the bound);
    strings are one of ``choices``, a full match of ``pattern`` or, with ``nonempty``, not blank;
    ``note`` says in words what is accepted. Whatever the rule, a float must be finite and a
    string free of control characters.
    """

    lo: float | None = None
    hi: float | None = None
    open_lo: bool = False
    open_hi: bool = False
    choices: tuple[str, ...] = ()
    pattern: str = ""
    nonempty: bool = False
    note: str = ""


def bounded(default: float, lo: float | None = None, hi: float | None = None, *, open_lo: bool = False,
            open_hi: bool = False, note: str = "") -> Any:
    """A numeric field: ``default``, accepting ``lo <= v <= hi`` (``<`` where open)."""
    return field(default=default, metadata={"rule": Rule(lo, hi, open_lo, open_hi, note=note)})


def one_of(*choices: str) -> Any:
    """A string field accepting ``choices``; the first is the default."""
    return field(default=choices[0], metadata={"rule": Rule(choices=choices)})


def text(default: str, *, nonempty: bool = False, pattern: str = "", note: str = "") -> Any:
    """A string field: not blank (``nonempty``) or matching ``pattern``; ``note`` says what is accepted."""
    return field(default=default, metadata={"rule": Rule(pattern=pattern, nonempty=nonempty, note=note)})


def printable(s: str) -> bool:
    """Whether ``s`` holds no control character (C0, DEL or C1)."""
    return not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in s)


def _bound(x: float) -> str:
    """A bound as messages write it: ``2**62`` and ``10**7`` rather than their digits."""
    if isinstance(x, int) and x >= 2**16 and x & (x - 1) == 0:
        return f"2**{x.bit_length() - 1}"
    return f"10**{len(str(x)) - 1}" if isinstance(x, int) and x >= 10**6 and str(x).rstrip("0") == "1" else str(x)


def _number_problem(r: Rule, v: float) -> str | None:
    finite = not isinstance(v, float) or math.isfinite(v)
    if finite and (r.lo is None or (v > r.lo if r.open_lo else v >= r.lo)) and (
            r.hi is None or (v < r.hi if r.open_hi else v <= r.hi)):
        return None
    if r.lo is not None and r.hi is not None:
        span = f"in {'(' if r.open_lo else '['}{_bound(r.lo)}, {_bound(r.hi)}{')' if r.open_hi else ']'}"
        words = span if finite else f"a finite number {span}"
    elif r.lo is not None:
        op = f"{'>' if r.open_lo else '>='} {_bound(r.lo)}"
        words = op if isinstance(v, int) else ("a positive number" if op == "> 0" else f"a number {op}")
    else:
        words = f"<= {_bound(r.hi)}" if r.hi is not None else "a finite number"
    return f"be {words}{f' ({r.note})' if r.note else ''}, got {v}"


def _problem(r: Rule, v: Any) -> str | None:
    """What ``v`` lacks under ``r``, worded to follow "<key> must", or None when it is accepted."""
    if isinstance(v, str):
        if r.choices:
            return None if v in r.choices else f"be one of {', '.join(r.choices)}; got {v!r}"
        if not printable(v):
            return f"not contain control characters, got {v!r}"
        if r.nonempty and not v.strip():
            return f"not be empty; {r.note}"
        return None if not r.pattern or re.fullmatch(r.pattern, v) else f"be {r.note}; got {v!r}"
    return _number_problem(r, v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def check_number(name: str, value: float, lo: float | None = None, hi: float | None = None, *,
                 note: str = "") -> None:
    """Raise one :class:`GankitError` line when ``value`` (a flag's, say) is not in ``[lo, hi]``.

    >>> check_number("--seed", 2**64, 0, 2**62)
    Traceback (most recent call last):
    gankit.errors.GankitError: --seed must be in [0, 2**62], got 18446744073709551616
    """
    problem = _number_problem(Rule(lo, hi, note=note), value)
    if problem:
        raise GankitError(f"{name} must {problem}")


class Checked:
    """Base of a dataclass whose fields carry rules: checks every field once the instance is built.

    ``_section`` (a plain class attribute, not a field) prefixes the field names in messages:
    ``train.steps must be >= 1, got 0``. A subclass adding a rule across fields extends
    ``__post_init__`` and calls ``super().__post_init__()`` first.
    """

    _section = ""

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            problem = _problem(f.metadata.get("rule", Rule()), getattr(self, f.name))
            if problem:
                raise GankitError(f"{self._section}.{f.name} must {problem}")

