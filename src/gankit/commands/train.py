"""``gankit train``: train a run from a preset, your TOML file, flags and ``--set``; or resume one."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm.auto import tqdm

from ..config import RunConfig, apply_overrides, dumps_toml, load_toml
from ..errors import GankitError
from ..io import CONFIG_FILE, METRICS_FILE, REPORT_FILE
from ..run import Run, data_name_for, default_out, preset_names, resolve
from ..run.preflight import check_names, check_resume_changes
from ..run.seeds import train_seeds
from ..run.threads import THREADS_HELP
from ..train.health import EXIT_DIVERGED, TrainingDiverged
from ..train.trainer import Callback, Trainer, TrainingInterrupted
from .common import print_json, warn

#: keys printed on the summary line, in this order
HEADLINE = ("step", "modes", "high_quality", "reverse_kl", "w1", "eval_elbo", "frechet_distance", "frechet_floor",
            "classes_covered", "class_in_mode", "class_coverage", "intra_fd", "wall_time")
#: a sampler's settings, printed before its numbers
SAMPLER_SETTINGS = ("rho", "pool", "mass", "classifier_steps", "time")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a GAN (default: the preset 'default', ns-GAN on the 8-Gaussian ring)",
                       description="Train a run: a preset, then your --config file, then flags, then --set.")
    p.add_argument("--preset", metavar="NAME",
                   help=f"named config to start from: {', '.join(preset_names())} (default: 'images' for image "
                        f"data, else 'default'; 'plain' is Algorithm 1 with the library's defaults)")
    p.add_argument("--config", metavar="FILE.toml", help="your TOML config, applied over the preset")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="dotted override, e.g. --set train.steps=5000 (repeatable)")
    p.add_argument("--data", help="data source name, 1-D mixture spec, or an image file/folder (data.name; "
                                  "a path becomes images:PATH)")
    p.add_argument("--objective", help="objective name (objective.name); its own defaults come with it")
    p.add_argument("--model", help="model name (model.name)")
    p.add_argument("--conditional", nargs="?", const="projection", choices=("projection", "acgan"),
                   help="a class-conditional GAN on labelled data (digits, ring8/grid25 modes, npz:FILE): a "
                        "projection discriminator, or 'acgan' (model.conditional; sets model.pack=1)")
    p.add_argument("--steps", type=int, help="generator steps (train.steps)")
    p.add_argument("--seed", type=int, help="seed of Python, NumPy and torch (train.seed)")
    p.add_argument("--device", help="cpu, cuda, cuda:N or auto (train.device)")
    p.add_argument("--threads", type=int, metavar="N", help=f"{THREADS_HELP} (train.threads)")
    p.add_argument("--out", metavar="RUN_DIR", help="run directory (default runs/<data>-<objective>-seed<seed>)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its newest checkpoint")
    p.add_argument("--seeds", type=int, metavar="N",
                   help="train seeds seed..seed+N-1 together in one process; one run directory per seed "
                        "under --out, plus summary.json")
    p.add_argument("--print-config", action="store_true", help="print the resolved config as TOML and exit")
    p.add_argument("--json", action="store_true", help="print the final metrics as one JSON object")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--tensorboard", action="store_true",
                   help="log scalars and frames to RUN_DIR/tensorboard (train.tensorboard=true; "
                        "needs pip install 'gankit[tensorboard]')")
    p.set_defaults(func=run)


def flag_values(args: argparse.Namespace) -> dict[str, object]:
    """The dotted keys the named flags set (``None``: not given)."""
    return {"data.name": data_name_for(args.data) if args.data is not None else None,
            "objective.name": args.objective, "model.name": args.model, "train.steps": args.steps,
            "model.conditional": getattr(args, "conditional", None),
            "model.pack": 1 if getattr(args, "conditional", None) else None,
            "train.seed": args.seed, "train.device": args.device, "train.threads": getattr(args, "threads", None),
            "train.tensorboard": True if getattr(args, "tensorboard", False) else None}


def resolve_config(args: argparse.Namespace) -> tuple[RunConfig, str]:
    """The config of a new run and the name of its preset (see :mod:`gankit.run.presets`)."""
    r = resolve(args.preset, args.config, flag_values(args), args.overrides)
    check_names(r.cfg)  # unknown data/model/objective names fail here, before any folder is made
    return r.cfg, r.preset


def resume_config(args: argparse.Namespace) -> RunConfig:
    """A stopped run's saved config with the train/eval changes that resuming allows."""
    if args.out or args.config or args.preset:
        raise GankitError("--resume RUN_DIR continues a run with its own config; don't pass --out, --config or --preset")
    run_dir = Path(args.resume)
    if not run_dir.is_dir():
        raise GankitError(f"run directory {str(run_dir)!r} does not exist")
    saved = load_toml(run_dir / CONFIG_FILE)
    flags = {k: v for k, v in flag_values(args).items() if v is not None}
    cfg = apply_overrides(apply_overrides(saved, flags), args.overrides)
    check_names(cfg)
    check_resume_changes(saved, cfg)
    return cfg


def run(args: argparse.Namespace) -> int:
    if args.resume:
        cfg, preset, out, resume = resume_config(args), None, Path(args.resume), True
    else:
        (cfg, preset), resume = resolve_config(args), False
        out = Path(args.out) if args.out else None
    if args.print_config:
        sys.stdout.write(f"# preset: {preset}\n" if preset else "")
        sys.stdout.write(dumps_toml(cfg))
        return 0
    progress = False if (args.no_progress or args.json) else None
    announce = [] if args.json or not preset else [Announce(
        f"gankit: preset {preset!r}{' with your changes' if _changed(args) else ''} (--print-config shows it all)")]
    if args.seeds is not None:
        return _run_seeds(args, cfg, out, progress)
    out = out or default_out(cfg)
    try:
        final = Run(cfg, out).fit(resume=resume, progress=progress, callbacks=announce, warn=warn)
    except TrainingInterrupted as exc:
        warn(f"{exc}; checkpoint saved. Continue with: gankit train --resume {out}")
        return 130
    except TrainingDiverged as exc:
        sys.stderr.write(f"gankit: error: {exc}\n")
        return EXIT_DIVERGED
    if final:  # ranks other than 0 under torchrun return {}: rank 0 reports
        _report(args, out, final)
    return 0


class Announce(Callback):
    """One line on stdout once the run has passed every check and training starts (stderr is for problems)."""

    def __init__(self, line: str) -> None:
        self.line = line

    def on_train_start(self, trainer: Trainer) -> None:
        tqdm.write(self.line, file=sys.stdout)


def _changed(args: argparse.Namespace) -> bool:
    return bool(args.config or args.overrides or any(v is not None for v in flag_values(args).values()))


def _report(args: argparse.Namespace, out: Path, final: dict[str, object]) -> None:
    if args.json:
        print_json({"run_dir": str(out), **final})
        return
    shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                      for k in HEADLINE if (v := final.get(k)) is not None)
    print(f"run {out}: {shown}")
    for line in sampler_lines(final):  # a sampler (eval.hpd / eval.polarity / eval.drs) beside the generator
        print(f"  {line}")
    print(f"  pictures: {out / 'samples.png'}, {out / 'losses.png'}; metrics: {out / METRICS_FILE}")
    if (out / REPORT_FILE).exists():
        print(f"  report: {out / REPORT_FILE}")


def sampler_lines(metrics: dict[str, object]) -> list[str]:
    """One line per sampler in ``metrics["samplers"]``: its settings and its headline numbers."""
    lines = []
    for name, m in (metrics.get("samplers") or {}).items():
        if not isinstance(m, dict):
            continue
        if "error" in m:
            lines.append(f"with the sampler {name}: failed ({m['error']})")
            continue
        shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                          for k in (*SAMPLER_SETTINGS, *HEADLINE) if (v := m.get(k)) is not None)
        lines.append(f"with the sampler {name}: {shown}")
    return lines


def _run_seeds(args: argparse.Namespace, cfg: RunConfig, out: Path | None, progress: bool | None) -> int:
    if args.resume:
        raise GankitError("--seeds cannot be combined with --resume; resume one seed's directory instead")
    if out is None:
        last = cfg.train.seed + args.seeds - 1
        out = Path("runs") / f"{cfg.data.name}-{cfg.objective.name.replace(':', '_')}-seeds{cfg.train.seed}-{last}"
    show = cfg.train.progress if progress is None else progress
    try:
        summary = train_seeds(cfg, args.seeds, out, progress=show, warn=warn)
    except TrainingInterrupted as exc:
        warn(f"{exc}; checkpoints saved in {out}/seed*/ (each resumes with gankit train --resume {out}/seed<s>)")
        return 130
    except TrainingDiverged as exc:
        sys.stderr.write(f"gankit: error: {exc}\n")
        return EXIT_DIVERGED
    if args.json:
        print_json({"run_dir": str(out), **summary})
    else:
        shown = ", ".join(f"{k}={v['mean']:.4g}±{v['std']:.2g}" for k, v in summary["metrics"].items()
                          if k in ("modes", "high_quality", "reverse_kl", "w1"))
        print(f"runs {out}/seed*: {args.seeds} seeds, {shown}; summary: {out / 'summary.json'}")
        for name, stats in summary.get("samplers", {}).items():
            shown = ", ".join(f"{k}={v['mean']:.4g}±{v['std']:.2g}" for k, v in stats.items()
                              if k in ("modes", "high_quality", "reverse_kl", "w1"))
            print(f"  with the sampler {name}: {shown}")
    return 0
