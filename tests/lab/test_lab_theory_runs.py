"""The theory panel against independent references, "save run" read by ``gankit eval``, ``--resume``, the command."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from lab_helpers import TINY, tiny_lab
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from gankit.cli import main
from gankit.data.toy import parse_mixture
from gankit.divergences.exact import divergence
from gankit.lab import LabSession, parse_message
from gankit.lab.controls import lab_objectives
from gankit.lab.panel import N_EMD, N_THEORY, _draw, exact_divergence_1d, target_of, theory_panel


@pytest.mark.parametrize("div", ["kl", "reverse_kl", "js", "gan", "hellinger", "total_variation", "pearson"])
def test_quadrature_matches_scipy_quad(div):
    p, q = parse_mixture("0.3*N(-2,0.5) + 0.7*N(1,1)"), parse_mixture("0.5*N(-1,0.7) + 0.5*N(0.5,1.2)")
    (ours,) = exact_divergence_1d([div], p, q)
    assert ours == pytest.approx(divergence(div, p, q).value, rel=1e-5, abs=1e-7)


def test_every_objective_has_a_panel_label():
    for name in lab_objectives():
        target, label = target_of(name)
        assert label
        if name.startswith("fgan:") and name != "fgan:gan":
            assert target == name.partition(":")[2]
    assert target_of("wgan-gp")[0] == "w1" and target_of("ns")[0] == "gan" and target_of("hinge")[0] == "total_variation"


def test_wasserstein_panel_is_the_exact_emd_of_its_samples(tmp_path):
    lab = tiny_lab(tmp_path)
    lab.handle(parse_message({"action": "set", "values": {"objective": "wgan-gp"}}))
    lab.handle(parse_message({"action": "step", "count": 2}))
    th = theory_panel(lab.game)
    real, fake = _draw(lab.game, N_THEORY, 4242)
    a, b = real[:N_EMD].reshape(N_EMD, -1).numpy(), fake[:N_EMD].reshape(N_EMD, -1).numpy()
    cost = cdist(a, b)  # equal weights, equal sizes: W1 is the optimal assignment's mean cost
    rows, cols = linear_sum_assignment(cost)
    assert th["exact"] == pytest.approx(cost[rows, cols].mean(), rel=1e-6)
    assert th["target"] == "w1" and isinstance(th["bound"], float) and th["n_modes"] == 8


def test_one_d_panel_and_frame(tmp_path):
    lab = tiny_lab(tmp_path, data="0.3*N(-2,0.5) + 0.7*N(1,1)")
    lab.handle(parse_message({"action": "step", "count": 2}))
    th = theory_panel(lab.game)
    assert th["target"] == "gan" and np.isfinite(th["exact"]) and 0 <= th["js"] <= np.log(2) + 1e-9
    # V(G, D*) = 2·JSD − log 4: the two exact numbers of the panel agree with the lecture's identity
    assert th["exact"] == pytest.approx(2 * th["js"] - np.log(4), abs=1e-6)
    lab.views.watch(10)
    lab.views.update()
    frame, data = json.loads(lab.views.frame_json), json.loads(lab.views.data_json)
    assert data["dim"] == 1 and data["p_data_kind"] == "exact density" and len(data["p_data"]) == 120
    assert frame["p_g_kind"] == "KDE of G's samples" and len(frame["d_star"]) == 120 and len(frame["d"]) == 120
    ok = [(d, s) for d, s in zip(frame["d"], frame["d_star"], strict=True) if s is not None]
    assert ok and all(0 <= d <= 1 and 0 <= s <= 1 for d, s in ok)


def test_saved_run_is_read_by_gankit_eval_and_resumed(tmp_path, capsys):
    lab = tiny_lab(tmp_path)
    lab.handle(parse_message({"action": "step", "count": 4}))
    lab.handle(parse_message({"action": "set", "values": {"lr_g": 5e-4}}))
    lab.handle(parse_message({"action": "step", "count": 2}))
    reply = lab.handle(parse_message({"action": "save", "path": "mine"}))
    assert reply["ok"], reply
    out = tmp_path / "runs" / "mine"
    for name in ("config.toml", "history.jsonl", "metrics.json", "samples.png", "losses.png", "report.html"):
        assert (out / name).is_file(), name
    assert list((out / "checkpoints").glob("step_000000006.ckpt"))
    assert "lr_g = 0.0005" in (out / "config.toml").read_text()
    again = lab.handle(parse_message({"action": "save", "path": "mine"}))
    assert not again["ok"] and "already exists" in again["error"]
    capsys.readouterr()
    assert main(["eval", str(out), "--json", "-n", "300"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert {"modes", "high_quality", "w1"} <= set(metrics)
    g_saved = {k: v.clone() for k, v in lab.game.parts.G.state_dict().items()}
    resumed = LabSession(resume=out, runs_root=tmp_path / "runs")
    assert resumed.step == 6 and resumed.game.cfg.train.lr_g == 5e-4
    assert all(torch.equal(g_saved[k], v) for k, v in resumed.game.parts.G.state_dict().items())
    resumed.handle(parse_message({"action": "step"}))
    assert resumed.step == 7


def test_command_without_the_extra_says_what_to_install(monkeypatch, capsys):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name, *a))
    assert main(["lab", "--no-browser"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install gankit[lab]" in err[0]


def test_command_warns_for_a_public_host_and_stops_the_thread(monkeypatch, capsys):
    from gankit.commands import lab as command
    seen = {}

    def fake_serve(lab, host, port):  # what uvicorn would serve; the test only checks the wiring
        seen.update(host=host, port=port, playing=lab.playing, alive=lab._thread.is_alive())
        lab.stop()

    monkeypatch.setattr(command, "serve", fake_serve)
    sets = [f"--set={k}={v}" for k, v in TINY.items()]
    assert main(["lab", "--no-browser", "--autoplay", "--host", "0.0.0.0", "--port", "9999", *sets]) == 0
    out, err = capsys.readouterr()
    assert "warning: --host 0.0.0.0" in err and "http://0.0.0.0:9999/" in out
    assert seen == {"host": "0.0.0.0", "port": 9999, "playing": True, "alive": True}
    assert main(["lab", "--no-browser", "--port", "0"]) == 2
    assert "--port must be in" in capsys.readouterr().err
