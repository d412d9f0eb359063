"""Subcommands of ``gankit``; each module has ``register(subparsers)``. Add a module here to add a command."""

from . import classic, emd, evaluate, listing, report, sample, train

COMMANDS = [train, sample, evaluate, emd, report, classic, listing]
