"""The page's views as compact frames: points, a coarse D heatmap, G's gradient arrows, the latent mesh.

A frame is a few KB of JSON: coordinates are integers on a 0..1000 grid of the view box (the
page maps them back), D's output is a 24 × 24 grid of integers 0..99 between ``lo`` and ``hi``,
and the loss curves are decimated to at most :data:`LOSS_POINTS` points. The real points go in
a separate ``data`` message, sent again only when the data change. The pieces are the ones the
run's PNG frames use (:mod:`gankit.report.frames`), computed by the training thread between two
steps; the theory panel (:mod:`gankit.lab.panel`) is recomputed every so often within a time
budget.
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import torch

from ..data.toy import Mixture1D
from ..report.frames import d_values, decision_level, generator_push, latent_mesh
from .panel import gaussian_kde, theory_panel

__all__ = ["Views", "GRID", "LOSS_POINTS", "encode"]

GRID = 24  # heatmap cells per side
N_FAKE = 250  # generated points per frame
N_REAL = 400  # real points in the data message
N_ARROWS = 40
LOSS_POINTS = 120
CURVE = 120  # x positions of the 1-D curves
#: the share of the training thread's time the theory panel may take
THEORY_BUDGET = 0.1


def encode(obj: Any) -> str:
    """Compact JSON (no spaces)."""
    return json.dumps(obj, separators=(",", ":"), allow_nan=False)


def _q(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> list[int]:
    """Coordinates as integers on 0..1000 of the view box (clipped to a margin of one box around it)."""
    v = np.clip(np.rint(1000 * (x - lo) / (hi - lo)), -1000, 2000)
    return v.astype(int).reshape(-1).tolist()


def _r(x: Any, digits: int = 4) -> Any:
    """Finite floats rounded; NaN and inf become None (JSON has no NaN)."""
    if isinstance(x, dict):
        return {k: _r(v, digits) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [_r(v, digits) for v in np.asarray(x).tolist()] if isinstance(x, np.ndarray) else [_r(v, digits) for v in x]
    if isinstance(x, (float, np.floating)):
        return round(float(x), digits) if np.isfinite(x) else None
    return x


class Views:
    """Frames of one lab session, made by its training thread when a page is watching."""

    def __init__(self, lab: Any) -> None:
        self.lab = lab
        self.fps = 10.0
        self.dirty = True
        self.frame_json = ""
        self.frame_id = 0
        self.data_json = ""
        self.data_version = -1
        self.theory: dict[str, Any] = {}
        self.losses: list[tuple[int, float, float]] = []
        self._watch_until = 0.0
        self._last_frame = 0.0
        self._theory_step = -10**9
        self._theory_cost = 0.0
        self._theory_at = 0.0
        self._game_version = -1

    def watch(self, fps: float) -> None:
        """A page is watching at ``fps`` frames per second (call at least every few seconds)."""
        self.fps = fps
        self._watch_until = time.monotonic() + 3.0

    @property
    def watched(self) -> bool:
        return time.monotonic() < self._watch_until

    def maybe_update(self) -> None:
        """Make a frame if one is due (a page watches, the step or the controls changed, time is up)."""
        now = time.monotonic()
        if not self.watched or now - self._last_frame < 1.0 / self.fps:
            return
        step = self.lab.step
        if not self.dirty and self._frame_step == step:
            return
        self.update(now)

    _frame_step = -1

    def update(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        g = self.lab.game
        if g.version != self._game_version:
            self._new_game(g)
        self._record_losses(g)
        if self._theory_due(g, now):
            t0 = time.perf_counter()
            try:
                self.theory = _r(theory_panel(g), 5)
            except Exception as exc:  # e.g. a diverged G far outside float range: say so, keep training
                self.theory = {"step": g.trainer.step, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
            self._theory_cost = time.perf_counter() - t0
            self._theory_step, self._theory_at = g.trainer.step, time.monotonic()
        frame = self.make_frame(g)
        self.frame_json = encode(frame)
        self.frame_id += 1
        self._last_frame, self._frame_step, self.dirty = now, g.trainer.step, False

    def _theory_due(self, g: Any, now: float) -> bool:
        if self.dirty or not self.theory:
            return True
        waited = now - self._theory_at
        return g.trainer.step - self._theory_step >= 50 and waited * THEORY_BUDGET >= self._theory_cost

    def _new_game(self, g: Any) -> None:
        src = g.parts.source
        real = src.sample(N_REAL, torch.Generator().manual_seed(2024)).reshape(N_REAL, -1).numpy()
        lo, hi = np.percentile(real, [0.5, 99.5], axis=0)
        pad = 0.3 * (hi - lo) + 0.25
        self.lo, self.hi = lo - pad, hi + pad
        self.dim = real.shape[1]
        self.z = torch.randn(N_FAKE, g.parts.G.latent_dim, generator=torch.Generator().manual_seed(7)).to(g.parts.device)
        data: dict[str, Any] = {"version": g.version, "dim": self.dim, "lo": _r(self.lo), "hi": _r(self.hi),
                                "name": g.data_label}
        if self.dim == 2:
            data["real"] = _q(real, self.lo, self.hi)
        else:
            xs = np.linspace(self.lo[0], self.hi[0], CURVE)
            self.xs = xs
            if isinstance(src, Mixture1D):  # the exact density
                data["p_data"], data["p_data_kind"] = _r(src.pdf(xs)), "exact density"
            else:
                data["p_data"], data["p_data_kind"] = _r(gaussian_kde(real[:, 0], xs)), "KDE of data samples"
            data["real"] = _q(real[:150], self.lo, self.hi)
        self.data_json, self.data_version = encode(data), g.version
        if not self.losses or self.losses[-1][0] > g.trainer.step:  # new networks: new curves (kept ones go on)
            self.losses = []
        self.theory, self._game_version = {}, g.version

    def after_step(self, g: Any) -> None:
        """Called by the training thread after each step: the loss curves cover every step range."""
        if g.trainer.step % 10 == 0 or self.watched:
            self._record_losses(g)

    def _record_losses(self, g: Any) -> None:
        t = g.trainer
        pend, last = t.pending, g.session.history.last
        d = float(pend["d_loss"][-1]) if pend.get("d_loss") else last.get("d_loss")
        gl = float(pend["g_loss"][-1]) if pend.get("g_loss") else last.get("g_loss")
        if isinstance(d, float) and isinstance(gl, float) and (not self.losses or self.losses[-1][0] != t.step):
            self.losses.append((t.step, d, gl))
        if len(self.losses) > 4 * LOSS_POINTS:  # keep every other old point: a long run stays small
            self.losses = self.losses[:-LOSS_POINTS:2] + self.losses[-LOSS_POINTS:]

    def make_frame(self, g: Any) -> dict[str, Any]:
        """The frame of the current G and D (a dict of JSON-ready values)."""
        G, D, obj = g.parts.G, g.parts.D, g.parts.objective
        was_g, was_d = G.training, D.training
        G.eval()
        D.eval()
        try:
            fake, push = generator_push(G, D, obj, self.z)
            frame = self._frame_2d(g, fake, push) if self.dim == 2 else self._frame_1d(g, fake, push)
        finally:
            G.train(was_g)
            D.train(was_d)
        losses = self.losses[:: max(1, len(self.losses) // LOSS_POINTS + 1)] + self.losses[-1:]
        frame.update(step=g.trainer.step, steps=g.trainer.cfg.steps, playing=self.lab.playing,
                     version=g.version, objective=g.cfg.objective.name, theory=self.theory,
                     losses=[[s, _r(d, 4), _r(gl, 4)] for s, d, gl in losses],
                     events=list(self.lab.events)[-8:], controls=self.lab.controls())
        return frame

    def _arrows(self, fake: np.ndarray, push: np.ndarray) -> list[int]:
        k = min(N_ARROWS, len(fake))
        p = push[:k]
        norm = float(np.linalg.norm(p, axis=1).max()) if k else 0.0
        span = self.hi - self.lo
        scale = 0.08 * float(np.max(span)) / norm if norm > 0 and np.isfinite(norm) else 0.0
        tips = fake[:k] + p * scale
        return _q(tips, self.lo, self.hi)

    def _frame_2d(self, g: Any, fake: np.ndarray, push: np.ndarray) -> dict[str, Any]:
        G, D, obj, dev = g.parts.G, g.parts.D, g.parts.objective, g.parts.device
        xs = np.linspace(self.lo[0], self.hi[0], GRID)
        ys = np.linspace(self.lo[1], self.hi[1], GRID)
        gx, gy = np.meshgrid(xs, ys)  # row i: y = ys[i]
        dv = d_values(D, obj, np.stack([gx.ravel(), gy.ravel()], 1), dev)
        level = decision_level(obj)
        finite = dv[np.isfinite(dv)]
        lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
        if level == 0.5 and 0.0 <= lo and hi <= 1.0:
            lo, hi = 0.0, 1.0  # probabilities: one colour scale throughout
        hi = hi if hi > lo else lo + 1e-6
        heat = np.clip(np.rint(99 * (np.nan_to_num(dv, nan=lo) - lo) / (hi - lo)), 0, 99).astype(int).tolist()
        mesh = [_q(line, self.lo, self.hi) for line in latent_mesh(G, lines=9, points=17, device=dev)]
        return {"fake": _q(fake, self.lo, self.hi), "arrows": self._arrows(fake, push), "heat": heat,
                "heat_lo": _r(lo), "heat_hi": _r(hi), "level": _r(level), "mesh": mesh}

    def _frame_1d(self, g: Any, fake: np.ndarray, push: np.ndarray) -> dict[str, Any]:
        D, obj, dev = g.parts.D, g.parts.objective, g.parts.device
        xs = self.xs
        dx = d_values(D, obj, xs.reshape(-1, 1), dev)
        p_g = gaussian_kde(fake[:, 0], xs)
        src = g.parts.source
        p_d = src.pdf(xs) if isinstance(src, Mixture1D) else gaussian_kde(
            src.sample(1000, torch.Generator().manual_seed(5)).reshape(-1).numpy(), xs)
        with np.errstate(invalid="ignore", divide="ignore"):
            d_star = np.where(p_d + p_g > 1e-12, p_d / (p_d + p_g), np.nan)
        level = decision_level(obj)
        return {"fake": _q(fake, self.lo, self.hi), "arrows": self._arrows(fake, push), "d": _r(dx, 3),
                "p_g": _r(p_g, 4), "p_g_kind": "KDE of G's samples", "d_star": _r(d_star, 3),
                "d_is_probability": bool(level == 0.5), "level": _r(level)}
