"""Every plotting helper returns its matplotlib Figure and writes a file only where a path is given (issue 20 item 7)."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from gankit.config import ObjectiveConfig
from gankit.data.toy import make_source, parse_mixture
from gankit.models.mlp import MLPDiscriminator, MLPGenerator
from gankit.objectives import make_objective
from gankit.report.plots import plot_losses, plot_samples
from gankit.report.vae_plots import plot_vae_losses, show_grid
from gankit.theory.conjugate import check_biconjugate, plot_conjugate
from gankit.theory.fgan_fit.table import FitRow, plot_fits
from gankit.theory.optimal_d import optimal_discriminator, plot_optimal_d
from gankit.theory.variational import plot_variational, variational_estimate

HISTORY = [{"step": s, "d_loss": 1.0 / s, "g_loss": 0.5, "modes": 3.0, "loss": 2.0, "elbo": -2.0} for s in (10, 20, 30)]


def _cases():
    P, Q = parse_mixture("0.5*N(-1,0.5) + 0.5*N(1,0.5)"), parse_mixture("N(0,1.5)")
    G, D = MLPGenerator(2, (2,), width=8, depth=1), MLPDiscriminator((2,), width=8, depth=1)
    ns = make_objective(ObjectiveConfig(name="ns"))
    yield "samples", lambda path: plot_samples(G, D, make_source("ring8"), ns, path, n=200)
    yield "losses", lambda path: plot_losses(HISTORY, path, title="t")
    yield "vae_losses", lambda path: plot_vae_losses(HISTORY, path)
    yield "grid", lambda path: show_grid(np.zeros((16, 16), np.uint8), path, "g")
    yield "conjugate", lambda path: plot_conjugate(check_biconjugate("kl", n=20), path)
    r = optimal_discriminator(P, Q, steps=3)
    yield "optimal_d", lambda path: plot_optimal_d(r, P, Q, path)
    yield "fits", lambda path: plot_fits(P, [FitRow("kl", 0.1, 0.1, 0.1, 0.0, 0.0, 1.1, 1.1, 0.0, "")], path)
    v = variational_estimate("kl", P, Q, steps=3, n_eval=1000)
    yield "variational", lambda path: plot_variational([v], path)


CASES = dict(_cases())


@pytest.mark.parametrize("name", sorted(CASES))
def test_returns_the_figure_and_writes_only_when_asked(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fig = CASES[name](None)
    assert isinstance(fig, Figure) and fig.axes
    assert list(tmp_path.iterdir()) == []  # nothing written without a path
    path = tmp_path / f"{name}.png"
    again = CASES[name](path)
    assert isinstance(again, Figure) and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", ["kl", "pearson", "jeffrey", "reverse_kl", "js", "gan", "neyman", "hellinger"])
def test_conjugate_panel_is_drawn(name):
    """The f* panel has a curve over [-6, 6] ∩ dom f* (it had 0-3 points for kl, pearson and jeffrey)."""
    fig = plot_conjugate(check_biconjugate(name, n=20))
    line = fig.axes[1].lines[0]
    t, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    assert len(t) >= 200 and np.isfinite(y).all() and t.max() - t.min() > 1.0
