"""Subcommands of ``gankit``; each module has ``register(subparsers)``. Add a module here to add a command."""

from . import evaluate, listing, report, sample, train

COMMANDS = [train, sample, evaluate, listing, report]
