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
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import math
from pathlib import Path
from typing import Any

from ..errors import GankitError
from ..io import atomic_write_bytes
from .animate import gif_bytes, list_frames, make_readable
from .curves import group_curves_svg, run_curves_svg
from .runs import METRIC_KEYS, Group, RunRecord, group_runs, load_run_record

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

_ANIM = ("Training, one frame per evaluation: the discriminator's output (heatmap; dashed line: undecided, "
         "D = 0.5 for a GAN), real (black) and generated (orange) samples, green arrows: where the generator's loss "
         "pushes each generated sample, purple mesh: the generator's image of a regular latent grid "
         "(1-D data: densities and D(x)).")

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1180px;padding:18px;
color:#1d232a;background:#fbfbfc;line-height:1.45}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.3em;border-bottom:2px solid #dde;padding-bottom:.2em;margin-top:1.6em}
h3{font-size:1.05em;margin:1em 0 .4em}.sub{color:#5a6470;font-size:.92em}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:.6em 0}
.card{background:#fff;border:1px solid #dde;border-radius:8px;padding:8px 12px;flex:1 1 230px;max-width:280px}
.card .v{font-size:1.5em;font-weight:600}.card .h{font-size:.8em;color:#5a6470}
.pics{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
.pics figure{margin:0;background:#fff;border:1px solid #dde;border-radius:6px;padding:6px}
figcaption{font-size:.82em;color:#5a6470;max-width:460px}img{max-width:100%;height:auto;display:block}
table{border-collapse:collapse;background:#fff;font-size:.92em;margin:.5em 0}
th,td{border:1px solid #dde;padding:4px 9px;text-align:right}th{background:#eef1f5}td.l,th.l{text-align:left}
pre{background:#f1f3f6;padding:10px;border-radius:6px;overflow:auto;font-size:.85em}
.warn{background:#fff4d6;border:1px solid #e8c35a;border-radius:6px;padding:8px 12px;margin:.6em 0}
.run{border-top:1px solid #dde;margin-top:1.4em}details summary{cursor:pointer;color:#34506b}
"""


def _esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _fmt(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return "—" if v is None else str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "—" if not math.isfinite(v) else f"{v:.4g}"
    return _esc(v)


def _img(data: bytes, mime: str, alt: str) -> str:
    b64 = base64.b64encode(data).decode("ascii")
    return f'<img src="data:{mime};base64,{b64}" alt="{_esc(alt)}">'


def _img_file(path: Path, alt: str) -> str:
    mime = {".png": "image/png", ".gif": "image/gif"}[path.suffix.lower()]
    return _img(path.read_bytes(), mime, alt)


def _estimate_label(objective: str) -> str:
    try:
        from ..config import ObjectiveConfig
        from ..objectives import make_objective

        return str(make_objective(ObjectiveConfig(name=objective)).estimate_label)
    except Exception:  # noqa: BLE001 - an objective from a plugin not loaded here: generic label
        return ""


def _n_modes(data: str) -> int | None:
    try:
        from ..data.toy import make_source

        centres = make_source(data).centres
        return None if centres is None else int(centres.shape[0])
    except Exception:  # noqa: BLE001 - image data or an unknown source: no mode count
        return None


def load_runs(run_dirs: list[str | Path]) -> list[RunRecord]:
    """Read each run directory once (duplicates dropped); :class:`GankitError` on bad input."""
    if not run_dirs:
        raise GankitError("no run directory given; pass one or more RUN_DIRs made by 'gankit train'")
    seen: set[Path] = set()
    runs = []
    for d in run_dirs:
        real = Path(d).resolve()
        if real not in seen:
            seen.add(real)
            runs.append(load_run_record(d))
            runs[-1].anchor = f"run{len(runs)}"
    return runs


def _headline(run: RunRecord) -> str:
    f = run.final
    steps_cfg = run.get("train.steps", "?")
    parts = [f"<h2 id='{_esc(run.anchor)}'>{_esc(run.name)}</h2>",
             f"<p class='sub'>data <b>{_esc(run.data)}</b> · objective <b>{_esc(run.objective)}</b> · "
             f"{run.step} of {_esc(steps_cfg)} generator steps · seed {_esc(run.seed)}"
             + (f" · {_fmt(f.get('wall_time'))} s" if f.get("wall_time") is not None else "")
             + f" · <span class='sub'>{_esc(run.path)}</span></p>"]
    if not run.finished:
        parts.append("<div class='warn'><b>Unfinished run</b> (no metrics.json: still training, or interrupted). "
                     f"Numbers are those of its last evaluation, at step {run.step}; "
                     "it is left out of comparisons.</div>")
    cards = []
    n_modes = _n_modes(str(run.get("data.name", ""))) if "modes" in f else None
    for k in METRIC_KEYS:
        if k in f:
            v = _fmt(f[k]) + (f" / {n_modes}" if k == "modes" and n_modes else "")
            cards.append(f"<div class='card'><div>{_NAMES[k]}</div><div class='v'>{v}</div>"
                         f"<div class='h'>{_esc(METRIC_HELP[k])}</div></div>")
    if "estimate" in f:
        label = _estimate_label(run.objective) or "the objective's estimate"
        cards.append(f"<div class='card'><div>estimate</div><div class='v'>{_fmt(f['estimate'])}</div>"
                     f"<div class='h'>{_esc(label)}, from the discriminator's outputs on the last batches "
                     "(mean since the previous evaluation)</div></div>")
    known = set(METRIC_KEYS) | {"estimate", "step", "time", "wall_time", "seed", "d_loss", "g_loss"}
    other = {k: v for k, v in f.items() if k not in known and isinstance(v, (int, float)) and not isinstance(v, bool)}
    if other:  # metrics added by other components (e.g. image metrics), shown as they are
        cards.append("<div class='card'><div>other final numbers</div><div class='h'>"
                     + "<br>".join(f"{_esc(k)} = {_fmt(v)}" for k, v in other.items()) + "</div></div>")
    said = []
    if isinstance(f.get("modes"), (int, float)):
        said.append(f"{f['modes']:.0f}{f' of {n_modes}' if n_modes else ''} modes captured")
    if isinstance(f.get("high_quality"), (int, float)):
        said.append(f"{100 * f['high_quality']:.0f}% of generated samples are high quality")
    if isinstance(f.get("w1"), (int, float)):
        said.append(f"earth mover's distance to the data {f['w1']:.3g}")
    if said:
        parts.append(f"<p><b>In short:</b> {_esc('; '.join(said))}.</p>")
    if cards:
        parts.append("<div class='cards'>" + "".join(cards) + "</div>")
    return "\n".join(parts)


def _run_section(run: RunRecord) -> str:
    out = ["<section class='run'>", _headline(run)]
    figs = []
    if "samples.png" in run.pictures:
        figs.append("<figure>" + _img_file(run.pictures["samples.png"], "final samples")
                    + "<figcaption>Final samples: real data (black), generated samples (yellow) over the "
                    "discriminator's output (heatmap).</figcaption></figure>")
    if "training.gif" in run.pictures:
        figs.append("<figure>" + _img_file(run.pictures["training.gif"], "training animation")
                    + f"<figcaption>{_ANIM}</figcaption></figure>")
    elif list_frames(run.path / "frames"):  # no training.gif yet (unfinished run): animate the frames so far
        figs.append("<figure>" + _img(gif_bytes(list_frames(run.path / "frames")), "image/gif", "training so far")
                    + f"<figcaption>So far (unfinished run). {_ANIM}</figcaption></figure>")
    if figs:
        out.append("<h3>Pictures</h3><div class='pics'>" + "".join(figs) + "</div>")
    svg = run_curves_svg(run, _estimate_label(run.objective))
    if svg is not None:
        out.append("<h3>Curves over training</h3><div class='pics'><figure>" + _img(svg, "image/svg+xml", "curves")
                   + "<figcaption>Losses are means since the previous evaluation; metrics are computed at each "
                   "evaluation on fresh samples.</figcaption></figure></div>")
    out.append(f"<h3>Config</h3><details open><summary>config.toml</summary><pre>{_esc(run.config_text)}</pre>"
               "</details></section>")
    return "\n".join(out)


def _cell(g: Group, key: str) -> str:
    mean, std, n = g.stats(key)
    if n == 0:
        return "—"
    text = _fmt(mean) + (f" ± {_fmt(std)}" if n > 1 else "")
    return text + (f" (n={n})" if n < len(g.runs) else "")


def _comparison(runs: list[RunRecord]) -> str:
    groups = group_runs(runs)
    out = ["<h2 id='comparison'>Comparison</h2>",
           "<p class='sub'>Runs with the same config except the seed form a group; each cell is the mean ± sample "
           "standard deviation (n − 1) of the final metric over the group's seeds.</p>"]
    unfinished = [r.name for r in runs if not r.finished]
    if unfinished:
        out.append("<div class='warn'><b>Left out of the comparison</b> (unfinished, no metrics.json): "
                   + _esc(", ".join(unfinished)) + "</div>")
    datas = list(dict.fromkeys(g.data for g in groups))
    if len(datas) > 1:
        out.append(f"<div class='warn'><b>Different data sources</b>: these runs use {len(datas)} data sources "
                   f"({_esc(', '.join(datas))}). Metrics are comparable only on the same data, so each data "
                   "source has its own comparison below.</div>")
    keys = [k for k in METRIC_KEYS if any(k in r.final for g in groups for r in g.runs)]
    for data in datas:
        gs = [g for g in groups if g.data == data]
        out.append(f"<h3>Data: {_esc(data)}</h3><table><tr><th class='l'>group</th><th>seeds</th>"
                   + "".join(f"<th>{_NAMES[k]}</th>" for k in keys) + "<th class='l'>runs</th></tr>")
        for g in gs:
            seeds = ", ".join(str(r.seed) for r in g.runs)
            out.append(f"<tr><td class='l'>{_esc(g.label)}</td><td>{len(g.runs)} ({_esc(seeds)})</td>"
                       + "".join(f"<td>{_cell(g, k)}</td>" for k in keys)
                       + "<td class='l'>" + ", ".join(f"<a href='#{_esc(r.anchor)}'>{_esc(r.name)}</a>" for r in g.runs)
                       + "</td></tr>")
        out.append("</table>")
        svg = group_curves_svg(gs)
        if svg is not None:
            out.append("<div class='pics'><figure>" + _img(svg, "image/svg+xml", f"curves {data}")
                       + "<figcaption>Thick line: mean over seeds; band: ± one standard deviation; thin lines: "
                       "single seeds.</figcaption></figure></div>")
    return "\n".join(out)


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
    return {"groups": out, "unfinished": [str(r.path) for r in runs if not r.finished]}


def render_report(runs: list[RunRecord], title: str = "gankit report") -> str:
    """The HTML text of the report of ``runs`` (see the module docstring for its layout)."""
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    head = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_esc(title)}</title>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{_CSS}</style></head><body>")
    intro = [f"<h1>{_esc(title)}</h1>",
             f"<p class='sub'>{len(runs)} run{'s' if len(runs) != 1 else ''} · written {now} by gankit report"]
    if len(runs) > 1:
        intro.append(" · runs: " + ", ".join(f"<a href='#{_esc(r.anchor)}'>{_esc(r.name)}</a>" for r in runs))
    intro.append("</p>")
    body = ["".join(intro)]
    if len(runs) > 1:
        body.append(_comparison(runs))
    body += [_run_section(r) for r in runs]
    return head + "\n".join(body) + "\n</body></html>\n"


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
