"""Subcommands of ``gankit``; each module has ``register(subparsers)``. Add a module here to add a command."""

from . import (
    classic,
    divergence,
    emd,
    evaluate,
    lab,
    listing,
    metrics_net,
    report,
    sample,
    sweep,
    theory,
    train,
)

COMMANDS = [train, sample, evaluate, report, sweep, divergence, emd, theory, classic, metrics_net, lab, listing]
