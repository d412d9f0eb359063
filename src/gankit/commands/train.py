"""``gankit train``: train a run from defaults, a TOML file and overrides; or resume one."""

from __future__ import annotations

import argparse
import sys
import tomllib
from dataclasses import asdict
from pathlib import Path

from ..config import RunConfig, apply_overrides, dumps_toml, load_toml
from ..errors import GankitError
from ..objectives.defaults import explicit_keys, with_objective_defaults
from ..train.health import EXIT_DIVERGED, TrainingDiverged
from ..train.trainer import TrainingInterrupted
from .common import print_json, warn

#: The default run, ``gankit train`` with no config-shaping argument: the ns-GAN on ring8 with the
#: settings measured to find all 8 modes (docs/leaderboard.md): PacGAN packing m = 2 (Lin et al. 2018),
#: R1 penalty γ = 0.01 (Mescheder et al. 2018), EMA of G β = 0.999 (Yazıcı et al. 2019), linear LR
#: decay to 1 %, batch 128. The library's own defaults (``RunConfig()``) stay plain Algorithm 1, so
#: every objective means what its paper says unless asked otherwise; ``--print-config`` shows both.
DEFAULT_RUN = {"model.pack": 2, "objective.r1": 0.01, "train.batch_size": 128, "train.ema": 0.999,
               "train.lr_schedule": "linear", "train.lr_final": 0.01}


def is_default_run(args: argparse.Namespace) -> bool:
    """No --config, --set, --data, --objective, --model, --device, --resume or --seeds: the default run."""
    shaping = (args.config, args.overrides, args.data, args.objective, args.model, args.device, args.resume,
               getattr(args, "seeds", None))
    return not any(shaping)


# Sections that may change when a run is resumed (the rest define the run).
RESUMABLE = ("train", "eval")
FIXED_ON_RESUME = ("seed", "batch_size", "d_steps", "optimizer", "lr_g", "lr_d", "beta1", "beta2")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a GAN (default: ns-GAN on the 8-Gaussian ring)",
                       description="Train a run. With no argument: a GAN on ring8 with defaults that succeed.")
    p.add_argument("--config", metavar="FILE.toml", help="TOML config (missing keys take defaults)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="dotted override, e.g. --set train.steps=5000 (repeatable)")
    p.add_argument("--data", help="data source name, 1-D mixture spec, or an image file/folder (data.name; "
                                  "a path becomes images:PATH); image data get the DCGAN defaults of docs/images.md")
    p.add_argument("--objective", help="objective name (objective.name)")
    p.add_argument("--model", help="model name (model.name)")
    p.add_argument("--steps", type=int, help="generator steps (train.steps)")
    p.add_argument("--seed", type=int, help="seed of Python, NumPy and torch (train.seed)")
    p.add_argument("--device", help="cpu, cuda, cuda:N or auto (train.device)")
    p.add_argument("--out", metavar="RUN_DIR", help="run directory (default runs/<data>-<objective>-seed<seed>)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its newest checkpoint")
    p.add_argument("--seeds", type=int, metavar="N",
                   help="train seeds seed..seed+N-1 vectorised in one process (mlp; ns, minimax, fgan:*); "
                        "one run directory per seed under --out, plus summary.json")
    p.add_argument("--print-config", action="store_true", help="print the resolved config as TOML and exit")
    p.add_argument("--json", action="store_true", help="print the final metrics as one JSON object")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--tensorboard", action="store_true",
                   help="log scalars and frames to RUN_DIR/tensorboard (train.tensorboard=true; "
                        "needs pip install 'gankit[tensorboard]')")
    p.set_defaults(func=run)


def resolve_config(args: argparse.Namespace, base: RunConfig | None = None) -> RunConfig:
    """Defaults < objective defaults < TOML file < flags < ``--set``; a resumed run's config is final."""
    from ..train.presets import apply_image_defaults, data_name_for

    cfg = base if base is not None else (load_toml(args.config) if args.config else RunConfig())
    if base is None and is_default_run(args):
        cfg = apply_overrides(cfg, DEFAULT_RUN)
    data = data_name_for(args.data) if args.data is not None else None
    flags = {"data.name": data, "objective.name": args.objective, "model.name": args.model,
             "train.steps": args.steps, "train.seed": args.seed, "train.device": args.device}
    overrides = {k: v for k, v in flags.items() if v is not None}
    if getattr(args, "tensorboard", False):
        overrides["train.tensorboard"] = True
    from ..train.preflight import check_names

    cfg = apply_overrides(cfg, overrides)
    cfg = apply_overrides(cfg, args.overrides)
    check_names(cfg)  # unknown data/model/objective names fail here, before any folder is made
    if base is not None:  # resuming: the saved config is already resolved
        return cfg
    # Keys the user chose keep their values; image data get the image defaults for the rest, then the
    # objective's own defaults (e.g. RMSProp 5e-5 and 5 critic steps for wgan) fill what the user left unset.
    explicit = set(overrides) | {o.partition("=")[0].strip() for o in args.overrides}
    if args.config:
        explicit |= explicit_keys(tomllib.loads(Path(args.config).read_text(encoding="utf-8")))
    cfg = apply_image_defaults(cfg, explicit)
    return with_objective_defaults(cfg, explicit)


def run(args: argparse.Namespace) -> int:
    from ..train.run import default_out, train_run

    if args.resume:
        if args.out or args.config:
            raise GankitError("--resume RUN_DIR continues a run with its own config; don't pass --out or --config")
        run_dir = Path(args.resume)
        if not run_dir.is_dir():
            raise GankitError(f"run directory {str(run_dir)!r} does not exist")
        saved = load_toml(run_dir / "config.toml")
        cfg = resolve_config(args, saved)
        _check_resume_changes(saved, cfg)
        out, resume = run_dir, True
    else:
        cfg = resolve_config(args)
        out, resume = (Path(args.out) if args.out else None), False
    if args.print_config:
        sys.stdout.write(dumps_toml(cfg))
        return 0
    progress = False if (args.no_progress or args.json) else None
    if args.seeds is not None:
        return _run_seeds(args, cfg, out, resume, progress)
    out = out or default_out(cfg)
    try:
        final = train_run(cfg, out, resume=resume, progress=progress, warn=warn)
    except TrainingInterrupted as exc:
        warn(f"{exc}; checkpoint saved. Continue with: gankit train --resume {out}")
        return 130
    except TrainingDiverged as exc:
        sys.stderr.write(f"gankit: error: {exc}\n")
        return EXIT_DIVERGED
    if not final:  # a rank other than 0 under torchrun: rank 0 reports
        return 0
    if args.json:
        print_json({"run_dir": str(out), **final})
    else:
        shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in final.items()
                          if k in ("step", "modes", "high_quality", "reverse_kl", "w1", "eval_elbo", "frechet_distance",
                                   "frechet_floor", "classes_covered", "wall_time"))
        print(f"run {out}: {shown}")
        plain = ", ".join(f"{k[6:]}={v:.4g}" for k, v in final.items()
                          if k in ("plain_modes", "plain_high_quality", "plain_reverse_kl", "plain_w1"))
        if plain:  # a sampler (eval.hpd / eval.polarity) chose the samples above; the generator itself:
            print(f"  plain generator (no sampler): {plain}")
        print(f"  pictures: {out / 'samples.png'}, {out / 'losses.png'}; metrics: {out / 'metrics.json'}")
        if (out / "report.html").exists():
            print(f"  report: {out / 'report.html'}")
    return 0


def _run_seeds(args: argparse.Namespace, cfg: RunConfig, out: Path | None, resume: bool, progress: bool | None) -> int:
    from ..train.seeds import check_supported, train_seeds

    if resume:
        raise GankitError("--seeds cannot be combined with --resume; resume one seed's directory instead")
    check_supported(cfg, args.seeds)
    if out is None:
        stem = f"{cfg.data.name}-{cfg.objective.name.replace(':', '_')}-seeds{cfg.train.seed}-{cfg.train.seed + args.seeds - 1}"
        out = Path("runs") / stem
    show = cfg.train.progress if progress is None else progress
    try:
        summary = train_seeds(cfg, args.seeds, out, progress=show)
    except TrainingInterrupted as exc:
        warn(f"{exc}; checkpoints saved in {out}/seed*/ (each resumes with gankit train --resume {out}/seed<s>)")
        return 130
    if args.json:
        print_json({"run_dir": str(out), **summary})
    else:
        shown = ", ".join(f"{k}={v['mean']:.4g}±{v['std']:.2g}" for k, v in summary["metrics"].items()
                          if k in ("modes", "high_quality", "reverse_kl", "w1"))
        print(f"runs {out}/seed*: {args.seeds} seeds, {shown}; summary: {out / 'summary.json'}")
    return 0


def _check_resume_changes(saved: RunConfig, cfg: RunConfig) -> None:
    a, b = asdict(saved), asdict(cfg)
    for section, values in a.items():
        for key, old in values.items():
            new = b[section][key]
            if new == old:
                continue
            if section not in RESUMABLE or key in FIXED_ON_RESUME:
                raise GankitError(
                    f"cannot change {section}.{key} ({old!r} -> {new!r}) when resuming; "
                    f"only eval.* and the train.* settings other than {', '.join(FIXED_ON_RESUME)} may change"
                )
