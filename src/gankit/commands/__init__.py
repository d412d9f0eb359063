"""Subcommands of ``gankit``; each module has ``register(subparsers)``. Add a module here to add a command."""

from . import emd, evaluate, listing, report, sample, train

COMMANDS = [train, sample, evaluate, emd, report, listing]
