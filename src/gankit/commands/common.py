"""Helpers shared by subcommands: JSON output, writing arrays, warnings, and the CLI's shared vocabulary.

The vocabulary every command uses: ``-o/--output`` for the file a command writes, ``--p``/``--q``
for the two distributions of D(P||Q) (as :data:`SPEC_HELP` spells them), ``--divergence`` for a
divergence's name, ``-n/--samples`` for a sample count, ``--json``, ``--no-progress``.
Old spellings stay for one release through :func:`add_deprecated` (a one-line notice on stderr).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GankitError
from ..io import atomic_write_bytes, json_safe
from ..run.threads import THREADS_HELP

__all__ = ["add_threads", "print_json", "warn", "save_array", "format_table", "add_progress", "progress_arg", "SPEC_HELP",
           "HelpFormatter", "add_deprecated", "spelled"]

#: the distribution spec grammar, for --help
SPEC_HELP = ('a 1-D Gaussian mixture "w1*N(m1,s1) + w2*N(m2,s2) + ...": weights w > 0 summing to 1, '
             "means m, standard deviations s > 0 (not variances); a single component may drop its weight: "
             '"N(0,1.5)"')


class HelpFormatter(argparse.HelpFormatter):
    """``--help`` with every option's default: "(default: X)" where the help text does not give it already."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if ("default" in text or default is None or default is False or default is argparse.SUPPRESS
                or default == [] or not action.option_strings or text == argparse.SUPPRESS):
            return text
        return f"{text} (default: %(default)s)"


class _Deprecated(argparse.Action):
    """An old spelling: stores like the new flag, says once on stderr which flag replaces it."""

    def __init__(self, option_strings: list[str], dest: str, new: str = "", **kw: object) -> None:
        self.new = new
        super().__init__(option_strings, dest, **kw)  # type: ignore[arg-type]

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        warn(f"{option_string} is deprecated and will be removed in the next release; use {self.new}")
        setattr(namespace, self.dest, values)
        spelled_as = dict(getattr(namespace, "_spelled", {}))
        spelled_as[self.dest] = option_string
        namespace._spelled = spelled_as


def add_deprecated(p: argparse.ArgumentParser, old: str, dest: str, new: str, **kw: object) -> None:
    """Accept ``old`` for ``dest`` (hidden from --help), with a deprecation line naming ``new``."""
    p.add_argument(old, dest=dest, action=_Deprecated, new=new, default=argparse.SUPPRESS, help=argparse.SUPPRESS,
                   **kw)


def spelled(args: argparse.Namespace, dest: str, flag: str) -> str:
    """The flag the user typed for ``dest``: ``flag``, or the deprecated spelling they used (for error messages)."""
    return getattr(args, "_spelled", {}).get(dest, flag)


def add_threads(p: argparse.ArgumentParser) -> None:
    """``--threads N`` (torch CPU threads; :func:`gankit.cli.main` applies it before the command runs)."""
    p.add_argument("--threads", type=int, default=None, metavar="N", help=THREADS_HELP)


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(json_safe(obj), indent=None) + "\n")


def warn(msg: str) -> None:
    sys.stderr.write(f"gankit: {msg}\n")


def save_array(path: str | Path, arr: np.ndarray) -> None:
    """Atomically write ``arr`` as ``.npy`` (or ``.csv``)."""
    path = Path(path)
    if path.suffix not in (".npy", ".csv"):
        raise GankitError(f"output file {str(path)!r} must end in .npy or .csv")
    if not path.parent.exists():
        raise GankitError(f"folder {str(path.parent)!r} of the output file does not exist")
    if path.suffix == ".npy":
        buf = io.BytesIO()
        np.save(buf, arr)
        data = buf.getvalue()
    else:
        buf = io.StringIO()
        np.savetxt(buf, arr.reshape(arr.shape[0], -1), delimiter=",", fmt="%.9g")
        data = buf.getvalue().encode()
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise GankitError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None


def format_table(rows: list[dict[str, Any]], cols: list[str] | None = None) -> str:
    """Rows as aligned columns (floats to 4 significant digits); ``cols`` defaults to the first row's keys."""
    cols = cols or list(rows[0])
    cells = [[f"{v:.4g}" if isinstance(v := r.get(c, ""), float) else str(v) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in [cols, *cells])


def add_progress(p: argparse.ArgumentParser) -> None:
    """``--no-progress``: no progress bar (bars go to stderr and only where it is a terminal)."""
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def progress_arg(args: argparse.Namespace) -> bool | None:
    """False under ``--no-progress`` or ``--json``, else None (a bar where stderr is a terminal)."""
    return False if getattr(args, "no_progress", False) or getattr(args, "json", False) else None
