"""Curves of one run, and of groups of runs overlaid (mean ± std over seeds), as PNG bytes."""

from __future__ import annotations

import io
import math
import warnings
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .runs import Group, RunRecord  # noqa: E402

__all__ = ["run_curves_png", "group_curves_png", "curve_keys"]

_TITLES = {
    "d_loss": "discriminator loss", "g_loss": "generator loss", "estimate": "divergence / value estimate",
    "modes": "modes captured (higher is better)", "high_quality": "high-quality fraction (higher is better)",
    "reverse_kl": "reverse KL over modes (lower is better)", "w1": "W1 to the data (lower is better)",
}
_ORDER = ("d_loss", "g_loss", "estimate", "modes", "high_quality", "reverse_kl", "w1")


def _num(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan


def curve_keys(histories: list[list[dict[str, Any]]]) -> list[str]:
    """Keys with at least one finite value in some history, in display order."""
    return [k for k in _ORDER if any(math.isfinite(_num(r.get(k))) for h in histories for r in h)]


def _figure(n: int) -> tuple[Any, list[Any]]:
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.7 * rows), squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    return buf.getvalue()


def run_curves_png(run: RunRecord, estimate_label: str = "") -> bytes | None:
    """Losses, the objective's estimate and the metrics of one run over generator steps."""
    keys = curve_keys([run.history])
    if not keys:
        return None
    fig, axes = _figure(len(keys))
    steps = [r.get("step", 0) for r in run.history]
    for ax, k in zip(axes, keys):
        ax.plot(steps, [_num(r.get(k)) for r in run.history], marker=".", color="C2" if k in _ORDER[3:] else "C0")
        title = _TITLES[k] if k != "estimate" or not estimate_label else f"estimate: {estimate_label}"
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("generator step", fontsize=8)
        ax.tick_params(labelsize=7)
    return _png(fig)


def _aligned(group: Group, key: str) -> tuple[np.ndarray, np.ndarray]:
    """Steps evaluated by every run of the group, and values (runs, steps) at those steps."""
    common = None
    for r in group.runs:
        s = {rec.get("step") for rec in r.history}
        common = s if common is None else common & s
    steps = np.array(sorted(x for x in (common or set()) if x is not None))
    vals = np.array([[_num(next(rec.get(key) for rec in r.history if rec.get("step") == s)) for s in steps]
                     for r in group.runs]).reshape(len(group.runs), len(steps))
    return steps, vals


def group_curves_png(groups: list[Group]) -> bytes | None:
    """Each group's mean over seeds (line) ± one standard deviation (band), seeds as thin lines."""
    keys = curve_keys([r.history for g in groups for r in g.runs])
    if not keys:
        return None
    fig, axes = _figure(len(keys))
    for ax, k in zip(axes, keys):
        for i, g in enumerate(groups):
            steps, vals = _aligned(g, k)
            if steps.size == 0:
                continue
            color = f"C{i % 10}"
            for row in vals:
                ax.plot(steps, row, color=color, lw=0.5, alpha=0.35)
            with warnings.catch_warnings():  # all-NaN columns: 'mean of empty slice'
                warnings.simplefilter("ignore", RuntimeWarning)
                mean = np.nanmean(vals, axis=0)
                std = np.nanstd(vals, axis=0, ddof=1) if len(vals) > 1 else np.zeros_like(mean)
            ax.plot(steps, mean, color=color, lw=1.8, label=f"{g.label} (n={len(g.runs)})")
            ax.fill_between(steps, mean - std, mean + std, color=color, alpha=0.2, linewidth=0)
        ax.set_title(_TITLES[k], fontsize=9)
        ax.set_xlabel("generator step", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7)
    return _png(fig)
