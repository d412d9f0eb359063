"""``gankit lab``: train a GAN live in the browser, GAN Lab's views beside the exact theory."""

from __future__ import annotations

import argparse
import importlib.util
import sys
import threading
import webbrowser

from ..config import RunConfig, apply_overrides, to_dict
from ..errors import GankitError
from ..lab import LabSession
from ..lab.server import serve
from ..run.threads import THREADS_HELP
from .common import warn

#: the hosts that stay on this machine
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lab", help="train a GAN live in the browser: data, D heatmap, gradients, latent mesh, "
                                   "losses, and the exact theory beside them (needs pip install gankit[lab])",
                       description="Serve a local page that trains one GAN live (the 'default' preset, as "
                                   "gankit train), with play/pause/step/reset and every control.")
    p.add_argument("--data", default="ring8", help="data source (1-D or 2-D) or a 1-D mixture spec")
    p.add_argument("--objective", default="ns", help="objective name (every registered one, fgan:<divergence>)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="dotted config override, e.g. --set model.g_width=64 (repeatable)")
    p.add_argument("--port", type=int, default=8765, help="port to serve on")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind; anything but 127.0.0.1/localhost makes the lab reachable from other "
                        "machines (a warning is printed)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("--autoplay", action="store_true", help="start training at once")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a run directory (saved by the lab or gankit train)")
    p.add_argument("--runs", default="runs", metavar="DIR", help="folder that 'save run' writes into")
    p.add_argument("--threads", type=int, metavar="N", help=THREADS_HELP)
    p.set_defaults(func=run)


def _check_extra() -> None:
    missing = [m for m in ("starlette", "uvicorn") if importlib.util.find_spec(m) is None]
    if missing:
        raise GankitError(f"gankit lab needs {' and '.join(missing)}: pip install gankit[lab]")


def run(args: argparse.Namespace) -> int:
    _check_extra()
    if not isinstance(args.port, int) or not 1 <= args.port <= 65535:
        raise GankitError(f"--port must be in [1, 65535], got {args.port}")
    lab = LabSession(args.data, args.objective, sets=_typed(args.overrides), resume=args.resume, runs_root=args.runs)
    if args.host not in LOCAL_HOSTS:
        warn(f"warning: --host {args.host} serves the lab to other machines; it has no login, and anyone who "
             f"reaches it can train and save runs here")
    lab.playing = bool(args.autoplay)
    lab.start()
    url = f"http://{'[' + args.host + ']' if ':' in args.host else args.host}:{args.port}/"
    sys.stdout.write(f"gankit lab: {url} (Ctrl-C stops)\n")
    sys.stdout.flush()
    if not args.no_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    try:
        serve(lab, args.host, args.port)
    except OSError as exc:
        raise GankitError(f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}") from None
    return 0



def _typed(items: list[str]) -> dict[str, object]:
    """``--set KEY=VALUE`` items as typed dotted keys, checked by the config's own rules."""
    out: dict[str, object] = {}
    for item in items:
        data = to_dict(apply_overrides(RunConfig(), [item]))  # one line for a bad key or value
        key = item.partition("=")[0].strip()
        section, _, name = key.partition(".")
        out[key] = data[section][name]
    return out
