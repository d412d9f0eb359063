"""``gankit list``: every registered data source, model, objective, metric and divergence."""

from __future__ import annotations

import argparse

from .common import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list registered data sources, models, objectives, metrics, divergences")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import load_plugins
    from ..registry import ALL

    load_plugins()
    if args.json:
        print_json({kind: {e.name + (":<arg>" if e.family else ""): e.help for e in reg.entries()}
                    for kind, reg in ALL.items()})
        return 0
    for kind, reg in ALL.items():
        print(f"{kind}:")
        for e in reg.entries():
            name = e.name + (":<arg>" if e.family else "")
            print(f"  {name:<18} {e.help}")
    return 0
