"""The theory beside training: what the critic's bound says against the exact value, now.

For the current generator G and critic D of a lab session:

- **bound**: the divergence the objective estimates, from the critic, on fresh samples: the
  objective's own ``estimate`` (V(G, D) for ns/minimax, the f-GAN variational bound
  ``E_P[T] − E_Q[f*(T)]``, the critic's ``E_P[D] − E_Q[D]`` for WGAN, ``1 − L_hinge/2`` for hinge);
- **exact**: the same divergence between the data and G. For 1-D data: quadrature of
  ``q f(p/q)`` (:func:`gankit.divergences.exact.perspective`) with the data's exact density and a
  Gaussian KDE of G's samples (G has no density of its own; labelled so). For Wasserstein
  objectives, in 1-D or 2-D: the exact EMD between samples (POT, :func:`gankit.divergences.wasserstein.w1`);
- mode coverage, high-quality share and reverse KL (:func:`gankit.metrics.modes.mode_coverage`)
  where the data have modes.

The exact values stand for ``D(P‖Q)``; with packing (``model.pack = m``) the critic judges ``m``
samples at once and bounds ``D(P^m‖Q^m)`` instead, which the panel says.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ..data.toy import Mixture1D
from ..divergences.exact import perspective
from ..divergences.wasserstein import w1
from ..metrics.modes import mode_coverage
from ..objectives.wgan import hinge_discriminator_loss

__all__ = ["theory_panel", "gaussian_kde", "kde_mixture", "exact_divergence_1d", "target_of", "N_THEORY"]

N_THEORY = 1000  # samples of each side for the bound (divisible by every pack size up to 8)
N_KDE = 300  # generated samples in the KDE of G's density (1-D)
N_EMD = 500  # samples of each side for the exact EMD
N_MODES = 2500  # DESIGN.md: mode metrics on 2,500 samples
QUAD_POINTS = 2000


def target_of(objective_name: str) -> tuple[str | None, str]:
    """``(divergence, label)``: what the objective's critic estimates (``None``: no named divergence).

    The divergence is an f-divergence name, or ``"w1"`` for the Wasserstein objectives.
    """
    if objective_name in ("ns", "minimax", "fgan:gan"):
        return "gan", "V(G,D) ≤ V(G,D*) = 2·JSD − log 4"
    if objective_name.startswith("fgan:"):
        div = objective_name.partition(":")[2]
        return div, f"E_P[T] − E_Q[f*(T)] ≤ D_{div}(P‖Q)"
    if objective_name in ("wgan", "wgan-gp"):
        return "w1", "E_P[D] − E_Q[D] ≤ K·W1 (K: the critic's Lipschitz constant)"
    if objective_name == "hinge":
        return "total_variation", "1 − L_hinge/2 ≤ TV(P,Q)"
    return None, "this objective's critic estimates no named divergence"


def _scott(x: np.ndarray) -> float:
    """Scott's bandwidth ``1.06 σ n^{-1/5}`` (at least 1e-3)."""
    return max(1.06 * float(np.std(x)) * len(x) ** -0.2, 1e-3)


def gaussian_kde(samples: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """A Gaussian KDE of 1-D ``samples`` (Scott's bandwidth) at ``xs``."""
    return kde_mixture(samples).pdf(np.asarray(xs, dtype=np.float64))


def kde_mixture(samples: np.ndarray) -> Mixture1D:
    """The Gaussian KDE of 1-D samples, as the equal-weight mixture it is."""
    s = np.asarray(samples, dtype=np.float64).reshape(-1)
    return Mixture1D(np.full(len(s), 1.0 / len(s)), s, np.full(len(s), _scott(s)), name="KDE of G")


def exact_divergence_1d(divs: list[str], p: Mixture1D, q: Mixture1D, points: int = QUAD_POINTS) -> list[float]:
    """``∫ q f(p/q) dx`` for each divergence, by the trapezoid rule on ``points`` points covering both
    distributions to 8 standard deviations of every component."""
    lo = min(float((p.means - 8 * p.stds).min()), float((q.means - 8 * q.stds).min()))
    hi = max(float((p.means + 8 * p.stds).max()), float((q.means + 8 * q.stds).max()))
    xs = np.linspace(lo, hi, points)
    log_p, log_q = p.log_pdf(xs), q.log_pdf(xs)
    return [float(np.trapezoid(perspective(d, log_p, log_q), xs)) for d in divs]


@torch.no_grad()
def _draw(g: Any, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    dev = g.parts.device
    real = g.parts.source.sample(n, torch.Generator().manual_seed(seed)).to(dev)
    z = torch.randn(n, g.parts.G.latent_dim, generator=torch.Generator().manual_seed(seed + 1)).to(dev)
    return real, g.parts.G(z)


def _bound(g: Any, name: str, real: torch.Tensor, fake: torch.Tensor) -> float | None:
    obj, D = g.parts.objective, g.parts.D
    if name == "hinge":
        with torch.no_grad():
            return 1.0 - 0.5 * float(hinge_discriminator_loss(D(real), D(fake)))
    with torch.enable_grad():  # a penalty (R1, GP) needs gradients of D
        _, logs = obj.discriminator_loss(D, real.detach(), fake.detach())
    est = logs.get("estimate")
    return float(est) if est is not None else None


def theory_panel(g: Any, seed: int = 4242) -> dict[str, Any]:
    """The panel's numbers for the game ``g`` of a lab session (see the module docstring)."""
    name = g.cfg.objective.name
    target, label = target_of(name)
    G, D = g.parts.G, g.parts.D
    was_g, was_d = G.training, D.training
    G.eval()
    D.eval()
    try:
        real, fake = _draw(g, N_THEORY, seed)
        out: dict[str, Any] = {"step": g.trainer.step, "objective": name, "target": target, "label": label,
                               "bound": _bound(g, name, real, fake) if target is not None else None,
                               "exact": None, "exact_how": "", "pack": int(getattr(D, "pack", 1))}
        _exact(g, target, real, fake, out)
        out.update(_modes(g, seed))
    finally:
        G.train(was_g)
        D.train(was_d)
    return out


def _exact(g: Any, target: str | None, real: torch.Tensor, fake: torch.Tensor, out: dict[str, Any]) -> None:
    src = g.parts.source
    x_fake = fake.reshape(len(fake), -1).float().cpu().numpy()
    if target == "w1":
        out["exact"] = w1(real[:N_EMD].reshape(N_EMD, -1).cpu().numpy(), x_fake[:N_EMD])
        out["exact_how"] = f"exact EMD (POT) between {N_EMD} data and {N_EMD} generated samples"
    elif target is not None and isinstance(src, Mixture1D):
        q = kde_mixture(x_fake[:N_KDE, 0])
        out["exact"], out["js"] = exact_divergence_1d([target, "js"], src, q)
        out["exact_how"] = (f"quadrature of q·f(p/q) on {QUAD_POINTS} points: p exact, q a Gaussian KDE of {N_KDE} "
                            f"samples of G (bandwidth {q.stds[0]:.3g})")
    elif target is not None:
        out["exact_how"] = "needs the data's density: shown for 1-D mixtures, and W1 for Wasserstein objectives"
    if out["exact"] is not None and not math.isfinite(out["exact"]):
        out["exact_how"] += " (infinite)"


def _modes(g: Any, seed: int) -> dict[str, float]:
    src = g.parts.source
    if src.centres is None or src.std is None:
        return {}
    with torch.no_grad():
        z = torch.randn(N_MODES, g.parts.G.latent_dim, generator=torch.Generator().manual_seed(seed + 2))
        x = g.parts.G(z.to(g.parts.device)).reshape(N_MODES, -1).float().cpu()
    return {**mode_coverage(x, src.centres, src.std), "n_modes": len(src.centres)}
