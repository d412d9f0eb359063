"""``gankit list``: every preset and registered data source, model, objective, metric and divergence."""

from __future__ import annotations

import argparse

from ..registry import ALL
from ..run import preset_help, preset_names
from .common import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list presets, data sources, models, objectives, metrics, divergences")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    tables = {"presets": {name: preset_help(name) for name in preset_names()},
              **{kind: {e.name + (":<arg>" if e.family else ""): e.help for e in reg.entries()}
                 for kind, reg in ALL.items()}}
    if args.json:
        print_json(tables)
        return 0
    for kind, table in tables.items():
        print("presets (gankit train --preset NAME):" if kind == "presets" else f"{kind}:")
        for name, text in table.items():
            print(f"  {name:<18} {text}")
    return 0
