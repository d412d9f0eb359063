"""The ``gankit`` command: a thin shell that parses arguments and calls the library.

Every subcommand lives in ``gankit/commands/<name>.py`` with a ``register(subparsers)``
function. Bad input (:class:`~gankit.errors.GankitError`) becomes one line on stderr and
exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from typing import NoReturn

from . import __version__
from .commands import COMMANDS
from .commands.common import HelpFormatter
from .errors import GankitError
from .run.threads import set_threads

__all__ = ["main", "build_parser"]


_INVALID_CHOICE = re.compile(r"invalid choice: '([^']*)' \(choose from (.*)\)$")


def did_you_mean(message: str) -> str:
    """argparse's "invalid choice" message with the closest choice suggested (``trian`` → ``train``)."""
    m = _INVALID_CHOICE.search(message)
    if not m:
        return message
    choices = [c.strip().strip("'") for c in m.group(2).split(",")]
    close = difflib.get_close_matches(m.group(1), choices, n=1, cutoff=0.6)
    return message + (f"; did you mean {close[0]!r}?" if close else "")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``gankit: error: ...``, with "did you mean"), exit 2, and
    ``--help`` shows every option's default."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {did_you_mean(message)} (see '{self.prog} --help')\n")
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    """The ``gankit`` parser with every subcommand of :data:`gankit.commands.COMMANDS`."""
    parser = _Parser(prog="gankit", description="GANs from the divergence view: train, evaluate, check the theory.")
    parser.add_argument("--version", action="version", version=f"gankit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in COMMANDS:
        module.register(sub)
    return parser



def main(argv: list[str] | None = None) -> int:
    """Run ``gankit`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        if args.command not in ("train", "sample", "eval"):  # those apply a run's own train.threads
            set_threads(getattr(args, "threads", None))
        return int(args.func(args) or 0)
    except GankitError as exc:
        sys.stderr.write(f"gankit: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("gankit: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
