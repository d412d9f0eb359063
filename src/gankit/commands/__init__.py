"""Subcommands of ``gankit``; each module has ``register(subparsers)``. Add a module here to add a command."""

from . import divergence, evaluate, listing, sample, theory, train

COMMANDS = [train, sample, evaluate, listing, divergence, theory]
