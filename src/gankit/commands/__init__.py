"""Subcommands of ``gankit``; each module has ``register(subparsers)``. Add a module here to add a command."""

from . import classic, evaluate, listing, sample, train

COMMANDS = [train, sample, evaluate, listing, classic]
