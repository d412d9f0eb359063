"""One self-contained HTML page for one or several runs (``gankit report``).

The page needs nothing but itself: pictures are embedded as base64 ``data:`` URIs, the
CSS is inline, and there is no script and no network access. Layout, for each run: a
headline (data, objective, steps, final metrics, each with a one-line explanation), the
pictures (final samples and the training animation), the curves over steps, and the
config. With several runs a comparison comes first: runs with the same config except the
seed form a group, shown as mean ± sample standard deviation over seeds, with overlaid
curves; runs on different data sources are compared within each data source only, in
clearly marked separate sections. Unfinished runs (no ``metrics.json``) are shown with a
banner and left out of the comparison. The file is written atomically.

The page is rendered with Jinja2 from ``gankit/report/templates/report.html.j2`` with
``autoescape=True``: every name, path, label and config text is escaped. Images arrive in the
template as ``{"src": data URI, "alt": text}``.
"""

from __future__ import annotations

import base64
import datetime as _dt
import math
from pathlib import Path
from typing import Any

import jinja2

from ..config import ObjectiveConfig
from ..data.toy import make_source
from ..errors import GankitError
from ..io import atomic_write_bytes
from ..objectives import make_objective
from .animate import gif_bytes, list_frames, make_readable
from .curves import group_curves_svg, run_curves_svg
from .feature_nets import feature_net_note
from .runs import METRIC_KEYS, Group, RunRecord, group_runs, load_run_record, run_dirs_in

__all__ = ["render_report", "write_report", "load_runs", "METRIC_HELP", "summary"]

#: one line per metric, shown next to its value
METRIC_HELP = {
    "modes": "modes captured: mixture components that are the nearest centre of at least one high-quality "
             "sample (higher is better; the maximum is the number of modes)",
    "high_quality": "high-quality fraction: share of generated samples within 3 standard deviations of their "
                    "nearest centre (higher is better)",
    "reverse_kl": "reverse KL: KL(p̂ ‖ uniform) of the high-quality samples over the modes; "
                  "0 when every mode gets the same share (lower is better)",
    "w1": "W1: exact earth mover's distance between generated and real samples (lower is better; 0 = same sample)",
}
_NAMES = {"modes": "modes", "high_quality": "HQ", "reverse_kl": "reverse KL", "w1": "W1"}

_ENV = jinja2.Environment(loader=jinja2.PackageLoader("gankit.report", "templates"), autoescape=True,
                          trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
_PAGE = _ENV.get_template("report.html.j2")


def _fmt(v: Any) -> str:
    """A number as shown on the page (plain text: the template escapes it)."""
    if isinstance(v, bool) or v is None:
        return "—" if v is None else str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "—" if not math.isfinite(v) else f"{v:.4g}"
    return str(v)


def _img(data: bytes, mime: str, alt: str) -> dict[str, str]:
    """An embedded picture for the template: a ``data:`` URI and its alt text."""
    return {"src": f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}", "alt": alt}


def _img_file(path: Path, alt: str) -> dict[str, str]:
    mime = {".png": "image/png", ".gif": "image/gif"}[path.suffix.lower()]
    return _img(path.read_bytes(), mime, alt)


def _estimate_label(objective: str) -> str:
    try:
        return str(make_objective(ObjectiveConfig(name=objective)).estimate_label)
    except Exception:  # noqa: BLE001 - an objective from a plugin not loaded here: generic label
        return ""


def _n_modes(data: str) -> int | None:
    try:
        centres = make_source(data).centres
        return None if centres is None else int(centres.shape[0])
    except Exception:  # noqa: BLE001 - image data or an unknown source: no mode count
        return None


def load_runs(run_dirs: list[str | Path]) -> list[RunRecord]:
    """Read each run directory once (duplicates dropped); :class:`GankitError` on bad input.

    A folder written by ``gankit train --seeds N`` stands for its seed runs (:func:`~gankit.report.runs.run_dirs_in`).
    """
    if not run_dirs:
        raise GankitError("no run directory given; pass one or more RUN_DIRs made by 'gankit train'")
    seen: set[Path] = set()
    runs = []
    for d in (p for given in run_dirs for p in run_dirs_in(given)):
        real = Path(d).resolve()
        if real not in seen:
            seen.add(real)
            runs.append(load_run_record(d))
            runs[-1].anchor = f"run{len(runs)}"
    return runs


def _cards(run: RunRecord) -> dict[str, Any]:
    """The headline numbers of a run: metric cards, the estimate, other numbers, a one-line summary."""
    f = run.final
    n_modes = _n_modes(str(run.get("data.name", ""))) if "modes" in f else None
    cards = [{"name": _NAMES[k], "help": METRIC_HELP[k],
              "value": _fmt(f[k]) + (f" / {n_modes}" if k == "modes" and n_modes else "")}
             for k in METRIC_KEYS if k in f]
    estimate = None
    if "estimate" in f:
        estimate = {"value": _fmt(f["estimate"]),
                    "label": _estimate_label(run.objective) or "the objective's estimate"}
    known = set(METRIC_KEYS) | {"estimate", "step", "time", "wall_time", "seed", "d_loss", "g_loss"}
    # metrics added by other components (e.g. image metrics), shown as they are
    other = [(k, _fmt(v)) for k, v in f.items()
             if k not in known and isinstance(v, (int, float)) and not isinstance(v, bool)]
    said = []
    if isinstance(f.get("modes"), (int, float)):
        said.append(f"{f['modes']:.0f}{f' of {n_modes}' if n_modes else ''} modes captured")
    if isinstance(f.get("high_quality"), (int, float)):
        said.append(f"{100 * f['high_quality']:.0f}% of generated samples are high quality")
    if isinstance(f.get("w1"), (int, float)):
        said.append(f"earth mover's distance to the data {f['w1']:.3g}")
    return {"cards": cards, "estimate": estimate, "other": other, "said": "; ".join(said),
            "samplers": _sampler_cards(f, n_modes)}


def _sampler_cards(final: dict[str, Any], n_modes: int | None) -> list[dict[str, Any]]:
    """A sampler's numbers (``final["samplers"][name]``), shown beside the generator's own."""
    cards = []
    for name, m in (final.get("samplers") or {}).items():
        if not isinstance(m, dict):
            continue
        lines = [(k, _fmt(v)) for k, v in m.items() if k not in METRIC_KEYS and k != "error"]
        lines = [(_NAMES[k], _fmt(m[k]) + (f" / {n_modes}" if k == "modes" and n_modes else ""))
                 for k in METRIC_KEYS if k in m] + lines
        if "error" in m:
            lines.append(("failed", str(m["error"])))
        cards.append({"name": name, "lines": lines})
    return cards


def _run_view(run: RunRecord) -> dict[str, Any]:
    """What the template shows of one run."""
    wall = run.final.get("wall_time")
    frames = list_frames(run.path / "frames") if "training.gif" not in run.pictures else []
    svg = run_curves_svg(run, _estimate_label(run.objective))
    return {
        "anchor": run.anchor, "name": run.name, "data": run.data, "objective": run.objective, "step": run.step,
        "steps": run.get("train.steps", "?"), "seed": run.seed, "path": run.path, "finished": run.finished,
        "wall_time": _fmt(wall) if wall is not None else None, "config_text": run.config_text, **_cards(run),
        # a conditional image run: samples.png has one row per class
        "class_rows": bool(run.get("model.conditional", "")) and run.final.get("class_coverage") is not None,
        "samples": _img_file(run.pictures["samples.png"], "final samples") if "samples.png" in run.pictures else None,
        "animation": (_img_file(run.pictures["training.gif"], "training animation")
                      if "training.gif" in run.pictures else None),
        # no training.gif yet (unfinished run): animate the frames so far
        "frames": _img(gif_bytes(frames), "image/gif", "training so far") if frames else None,
        "curves": _img(svg, "image/svg+xml", "curves") if svg is not None else None,
    }


def _cell(g: Group, key: str) -> str:
    mean, std, n = g.stats(key)
    if n == 0:
        return "—"
    text = _fmt(mean) + (f" ± {_fmt(std)}" if n > 1 else "")
    return text + (f" (n={n})" if n < len(g.runs) else "")


def _comparison(runs: list[RunRecord]) -> dict[str, Any]:
    """The comparison table of the groups, one section per data source."""
    groups = group_runs(runs)
    datas = list(dict.fromkeys(g.data for g in groups))
    keys = [k for k in METRIC_KEYS if any(k in r.final for g in groups for r in g.runs)]
    sections = []
    for data in datas:
        gs = [g for g in groups if g.data == data]
        svg = group_curves_svg(gs)
        rows = [{"label": g.label, "n": len(g.runs), "seeds": ", ".join(str(r.seed) for r in g.runs),
                 "cells": [_cell(g, k) for k in keys], "runs": g.runs} for g in gs]
        sections.append({"data": data, "rows": rows,
                         "curves": _img(svg, "image/svg+xml", f"curves {data}") if svg is not None else None})
    return {"unfinished": ", ".join(r.name for r in runs if not r.finished), "datas": datas,
            "feature_nets": feature_net_note([r for r in runs if r.finished]),
            "columns": [_NAMES[k] for k in keys], "sections": sections}


def summary(runs: list[RunRecord]) -> dict[str, Any]:
    """The comparison as plain data (for ``--json``): one entry per group with mean/std/n per metric."""
    out = []
    for g in group_runs(runs):
        entry: dict[str, Any] = {"data": g.data, "group": g.label, "runs": [str(r.path) for r in g.runs]}
        for k in METRIC_KEYS:
            mean, std, n = g.stats(k)
            if n:
                entry[k] = {"mean": mean, "std": std, "n": n}
        out.append(entry)
    return {"groups": out, "unfinished": [str(r.path) for r in runs if not r.finished],
            "feature_nets": feature_net_note([r for r in runs if r.finished])}


def render_report(runs: list[RunRecord], title: str = "gankit report") -> str:
    """The HTML text of the report of ``runs`` (see the module docstring for its layout)."""
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return _PAGE.render(title=title, now=now, runs=runs, comparison=_comparison(runs) if len(runs) > 1 else None,
                        sections=[_run_view(r) for r in runs])


def write_report(run_dirs: list[str | Path], out: str | Path, title: str = "gankit report") -> Path:
    """Read ``run_dirs``, render the report, write it atomically to ``out``; returns ``out``."""
    out = Path(out)
    runs = load_runs(run_dirs)
    if not out.parent.is_dir():
        raise GankitError(f"folder {str(out.parent)!r} of the report file does not exist")
    if out.suffix.lower() not in (".html", ".htm"):
        raise GankitError(f"report file {str(out)!r} must end in .html")
    text = render_report(runs, title)
    try:
        atomic_write_bytes(out, text.encode("utf-8"))
        make_readable(out)
    except OSError as exc:
        raise GankitError(f"cannot write {str(out)!r}: {exc.strerror or exc}") from None
    return out
