"""``gankit report RUN_DIR [RUN_DIR ...] [-o report.html]``: one self-contained HTML page of runs (``--out``: old spelling)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import GankitError
from ..report.html import load_runs, summary, write_report
from .common import add_deprecated, add_threads, print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report", help="write one self-contained HTML report of one or more runs (comparison across seeds)",
        description="Write one HTML file (pictures embedded, no network) with each run's metrics, pictures, "
                    "training animation, curves and config; with several runs, a comparison that groups runs "
                    "with the same config except the seed (mean ± std over seeds). Runs without metrics.json "
                    "(still training or interrupted) are shown marked and left out of the comparison.")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run directories made by 'gankit train', or the "
                   "folder of a 'gankit train --seeds' or a 'gankit sweep' (its runs, compared)")
    p.add_argument("-o", "--output", metavar="FILE.html",
                   help="output file (default: RUN_DIR/report.html for one run, ./report.html for several)")
    add_deprecated(p, "--out", "output", "-o/--output", metavar="FILE.html")
    p.add_argument("--title", default="gankit report", help="page title")
    p.add_argument("--json", action="store_true",
                   help="also print the comparison (mean/std/n per group and metric) as one JSON object")
    add_threads(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.output:
        out = Path(args.output)
        if out.suffix.lower() != ".html":
            raise GankitError(f"-o/--output of a report must end in .html (a self-contained HTML page), got {str(out)!r}")
    else:
        out = Path(args.run_dirs[0]) / "report.html" if len(args.run_dirs) == 1 else Path("report.html")
    path = write_report(args.run_dirs, out, title=args.title)
    if args.json:
        print_json({"report": str(path), **summary(load_runs(args.run_dirs))})
    else:
        print(f"report: {path}")
    return 0
