"""Curves of one run, and of groups of runs overlaid (mean ± std over seeds), as small SVG charts.

Hand-written SVG rather than matplotlib, because a report of many runs draws many panels
and SVG is much faster to make and stays sharp at any zoom. Each chart is one ``<svg>``
document with a grid of panels (one per quantity).
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np

from .runs import Group, RunRecord

__all__ = ["run_curves_svg", "group_curves_svg", "curve_keys", "nice_ticks", "COLORS"]

_TITLES = {
    "d_loss": "discriminator loss", "g_loss": "generator loss", "estimate": "divergence / value estimate",
    "modes": "modes captured (higher is better)", "high_quality": "high-quality fraction (higher is better)",
    "reverse_kl": "reverse KL over modes (lower is better)", "w1": "W1 to the data (lower is better)",
}
_ORDER = tuple(_TITLES)  # display order
#: matplotlib's tab10 colours, one per group
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
          "#17becf")
_W, _H, _COLS = 270, 190, 4  # panel size (px) and panels per row
_L, _R, _T, _B = 46, 10, 22, 30  # margins inside a panel


def _num(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan


def curve_keys(histories: list[list[dict[str, Any]]]) -> list[str]:
    """Keys with at least one finite value in some history, in display order."""
    return [k for k in _ORDER if any(math.isfinite(_num(r.get(k))) for h in histories for r in h)]


def nice_ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    """About ``n`` round tick values covering ``[lo, hi]`` (steps of 1, 2 or 5 times a power of ten)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [round(first + i * step, 12) for i in range(int((hi - first) / step + 1e-9) + 1)]


def _tick_label(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 1e4 else f"{v:.2g}"


class _Panel:
    """Maps data to pixels inside one panel at offset (x0, y0)."""

    def __init__(self, x0: float, y0: float, xs: np.ndarray, ys: np.ndarray) -> None:
        self.x0, self.y0 = x0, y0
        fx, fy = xs[np.isfinite(xs)], ys[np.isfinite(ys)]
        self.xlo, self.xhi = (float(fx.min()), float(fx.max())) if fx.size else (0.0, 1.0)
        self.ylo, self.yhi = (float(fy.min()), float(fy.max())) if fy.size else (0.0, 1.0)
        if self.xhi == self.xlo:
            self.xhi = self.xlo + 1.0
        pad = 0.06 * (self.yhi - self.ylo) or (abs(self.ylo) * 0.1 + 0.1)
        self.ylo, self.yhi = self.ylo - pad, self.yhi + pad

    def px(self, x: float) -> float:
        return self.x0 + _L + (x - self.xlo) / (self.xhi - self.xlo) * (_W - _L - _R)

    def py(self, y: float) -> float:
        return self.y0 + _H - _B - (y - self.ylo) / (self.yhi - self.ylo) * (_H - _T - _B)

    def path(self, xs: np.ndarray, ys: np.ndarray) -> str:
        """Polyline points, broken at non-finite values (as SVG path data)."""
        out, pen = [], "M"
        for x, y in zip(xs, ys, strict=True):
            if not (math.isfinite(x) and math.isfinite(y)):
                pen = "M"
                continue
            out.append(f"{pen}{self.px(x):.1f},{self.py(y):.1f}")
            pen = "L"
        return " ".join(out)

    def frame(self, title: str) -> list[str]:
        x0, y0 = self.x0, self.y0
        s = [f'<rect x="{x0 + _L}" y="{y0 + _T}" width="{_W - _L - _R}" height="{_H - _T - _B}" fill="#fff" '
             'stroke="#889"/>',
             f'<text x="{x0 + _W / 2:.0f}" y="{y0 + 14}" text-anchor="middle" font-size="11">{html.escape(title)}</text>',
             f'<text x="{x0 + (_L + _W - _R) / 2:.0f}" y="{y0 + _H - 3}" text-anchor="middle" font-size="9" '
             'fill="#555">generator step</text>']
        for t in nice_ticks(self.ylo, self.yhi):
            y = self.py(t)
            s.append(f'<line x1="{x0 + _L}" x2="{x0 + _W - _R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e6ea"/>')
            s.append(f'<text x="{x0 + _L - 3}" y="{y + 3:.1f}" text-anchor="end" font-size="9">{_tick_label(t)}</text>')
        for t in nice_ticks(self.xlo, self.xhi, 3):
            x = self.px(t)
            s.append(f'<text x="{x:.1f}" y="{y0 + _H - _B + 11}" text-anchor="middle" font-size="9">'
                     f'{_tick_label(t)}</text>')
        return s


def _svg(panels: list[list[str]], legend: list[tuple[str, str]] | None = None) -> bytes:
    rows = math.ceil(len(panels) / _COLS)
    cols = min(len(panels), _COLS)
    extra = 18 * math.ceil(len(legend) / 2) + 6 if legend else 0
    width, height = cols * _W, rows * _H + extra
    body = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif">',
            f'<rect width="{width}" height="{height}" fill="#fff"/>']
    for p in panels:
        body += p
    for i, (color, label) in enumerate(legend or []):
        x, y = 10 + (i % 2) * (width / 2), rows * _H + 14 + 18 * (i // 2)
        body.append(f'<line x1="{x}" x2="{x + 22}" y1="{y - 4}" y2="{y - 4}" stroke="{color}" stroke-width="3"/>')
        body.append(f'<text x="{x + 28}" y="{y}" font-size="11">{html.escape(label)}</text>')
    body.append("</svg>")
    return "\n".join(body).encode("utf-8")


def _grid_xy(i: int) -> tuple[float, float]:
    return (i % _COLS) * _W, (i // _COLS) * _H


def run_curves_svg(run: RunRecord, estimate_label: str = "") -> bytes | None:
    """Losses, the objective's estimate and the metrics of one run over generator steps."""
    keys = curve_keys([run.history])
    if not keys:
        return None
    all_steps = np.array([_num(r.get("step")) for r in run.history])
    panels = []
    for i, k in enumerate(keys):
        ys = np.array([_num(r.get(k)) for r in run.history])
        ok = np.isfinite(ys)  # losses come every train.log_every steps, metrics every eval_every: one line each
        steps, ys = all_steps[ok], ys[ok]
        p = _Panel(*_grid_xy(i), steps, ys)
        title = f"estimate: {estimate_label}" if k == "estimate" and estimate_label else _TITLES[k]
        color = COLORS[2] if k in _ORDER[3:] else COLORS[0]
        s = p.frame(title)
        s.append(f'<path d="{p.path(steps, ys)}" fill="none" stroke="{color}" stroke-width="1.8"/>')
        s += [f'<circle cx="{p.px(x):.1f}" cy="{p.py(y):.1f}" r="2" fill="{color}"/>'
              for x, y in zip(steps, ys, strict=True) if math.isfinite(x) and math.isfinite(y)]
        panels.append(s)
    return _svg(panels)


def _aligned(group: Group, key: str) -> tuple[np.ndarray, np.ndarray]:
    """Steps where every run of the group has ``key``, and values (runs, steps) at those steps."""
    common = set.intersection(*({rec.get("step") for rec in r.history if rec.get(key) is not None}
                                for r in group.runs))  # (a loss-only record has no metric: not a step of it)
    steps = np.array(sorted(x for x in common if isinstance(x, (int, float))), dtype=float)
    table = [{rec.get("step"): _num(rec.get(key)) for rec in r.history} for r in group.runs]
    vals = np.array([[t.get(s, math.nan) for s in steps] for t in table], dtype=float)
    return steps, vals.reshape(len(group.runs), len(steps))


def _mean_std(vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means (NaN where no finite entry) and sample standard deviations (ddof=1; 0 where undefined)."""
    m = np.ma.masked_invalid(vals)
    return m.mean(0).filled(np.nan), m.std(0, ddof=1).filled(0.0)


def group_curves_svg(groups: list[Group]) -> bytes | None:
    """Each group's mean over seeds (thick line) ± one sample standard deviation (band); seeds as thin lines."""
    keys = curve_keys([r.history for g in groups for r in g.runs])
    if not keys:
        return None
    panels = []
    for i, k in enumerate(keys):
        data = [_aligned(g, k) for g in groups]
        all_x = np.concatenate([s for s, _ in data] or [np.zeros(0)])
        stats = [_mean_std(v) for _, v in data]
        all_y = np.concatenate([v.ravel() for _, v in data] + [m - s for m, s in stats] + [m + s for m, s in stats])
        p = _Panel(*_grid_xy(i), all_x, all_y)
        s = p.frame(_TITLES[k])
        for j, ((steps, vals), (mean, std)) in enumerate(zip(data, stats, strict=True)):
            if steps.size == 0:
                continue
            color = COLORS[j % len(COLORS)]
            ok = np.isfinite(mean)
            if ok.any():
                top = [f"{p.px(x):.1f},{p.py(y):.1f}" for x, y in zip(steps[ok], (mean + std)[ok], strict=True)]
                bot = [f"{p.px(x):.1f},{p.py(y):.1f}" for x, y in zip(steps[ok][::-1], (mean - std)[ok][::-1], strict=True)]
                s.append(f'<polygon points="{" ".join(top + bot)}" fill="{color}" fill-opacity="0.18"/>')
            s += [f'<path d="{p.path(steps, row)}" fill="none" stroke="{color}" stroke-opacity="0.45" '
                  'stroke-width="0.8"/>' for row in vals]
            s.append(f'<path d="{p.path(steps, mean)}" fill="none" stroke="{color}" stroke-width="2.2"/>')
        panels.append(s)
    legend = [(COLORS[j % len(COLORS)], f"{g.label} (n={len(g.runs)})") for j, g in enumerate(groups)]
    return _svg(panels, legend)
