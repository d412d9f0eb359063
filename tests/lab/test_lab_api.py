"""The lab's server API in-process (Starlette's TestClient): controls act at the next step, bad input is
answered with an error and never stops the server, frames are small and well formed."""

from __future__ import annotations

import json
import warnings

import pytest
import torch

pytest.importorskip("starlette", reason="the lab extra is not installed: pip install gankit[lab]")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx (the dev extra)")
with warnings.catch_warnings():  # Starlette 1.x prefers httpx2 for its TestClient; httpx works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient  # noqa: E402

from lab_helpers import read_stream, tiny_lab, wait_for  # noqa: E402

from gankit.lab.controls import MAX_BODY, MAX_POINTS  # noqa: E402
from gankit.lab.server import build_app  # noqa: E402


@pytest.fixture
def lab(tmp_path):
    lab = tiny_lab(tmp_path).start()
    yield lab
    lab.stop()


@pytest.fixture
def client(lab):
    with TestClient(build_app(lab)) as c:
        yield c


def post(client, msg):
    r = client.post("/api/control", content=json.dumps(msg))
    return r.status_code, r.json()


def test_page_and_static_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "<canvas id=\"view\"" in page.text
    assert "http" not in page.text.replace("http-equiv", "")  # no CDN, no external font: everything is local
    for name in ("lab.js", "lab.css"):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and len(r.content) > 500
        assert "https://" not in r.text and "http://" not in r.text
    assert client.get("/static/../session.py").status_code == 404
    assert client.get("/static/session.py").status_code == 404


def test_state_lists_every_objective_and_toy_source(client):
    st = client.get("/api/state").json()
    assert st["ok"] and st["step"] == 0 and st["playing"] is False
    assert {"ns", "minimax", "wgan", "wgan-gp", "hinge", "fgan:kl", "fgan:js", "fgan:pearson"} <= set(st["objectives"])
    assert {"ring8", "grid25", "moons", "spiral", "mixture1d"} <= set(st["data_sources"])
    assert "digits" not in st["data_sources"]  # images are not drawn by the lab
    assert st["controls"]["width"] == 32 and st["controls"]["objective"] == "ns"


def test_step_then_live_controls_keep_the_weights(client, lab):
    code, reply = post(client, {"action": "step", "count": 3})
    assert code == 200 and reply["step"] == 3
    before = {k: v.clone() for k, v in lab.game.parts.G.state_dict().items()}
    code, reply = post(client, {"action": "set", "values": {"lr_d": 5e-4, "d_steps": 2, "batch_size": 32}})
    assert code == 200 and reply["ok"], reply
    assert any(c.startswith("train.lr_d: 0.001 → 0.0005") for c in reply["changed"])
    t = lab.game.trainer
    assert [g["lr"] for g in t.opt_d.param_groups] == [5e-4] and t.cfg.d_steps == 2
    assert t.n_batch == 32 * lab.game.cfg.model.pack and t.step == 3
    assert all(torch.equal(before[k], v) for k, v in lab.game.parts.G.state_dict().items())
    assert any(e["level"] == "changed" and "lr_d" in e["text"] for e in lab.events)


def test_objective_change_keeps_g_and_d_and_takes_the_objectives_defaults(client, lab):
    post(client, {"action": "step", "count": 2})
    g_before = {k: v.clone() for k, v in lab.game.parts.G.state_dict().items()}
    code, reply = post(client, {"action": "set", "values": {"objective": "wgan"}})
    assert code == 200, reply
    assert "objective.name: ns → wgan" in reply["changed"] and reply["step"] == 2
    assert lab.game.cfg.train.optimizer == "rmsprop" and lab.game.cfg.train.d_steps == 5  # WGAN's own defaults
    assert all(torch.equal(g_before[k], v) for k, v in lab.game.parts.G.state_dict().items())
    code, reply = post(client, {"action": "set", "values": {"width": 16}})  # a new architecture: new networks
    assert code == 200 and reply["step"] == 0 and lab.game.parts.G.net[0].out_features == 16


BAD = [
    ({"action": "launch"}, "action must be one of"),
    ({"action": "set", "values": {"lr_d": "fast"}}, "lr_d must be a number"),
    ({"action": "set", "values": {"lr_d": -1}}, "lr_d must be a number in"),
    ({"action": "set", "values": {"d_steps": 2.5}}, "d_steps must be an integer"),
    ({"action": "set", "values": {"width": 10**9}}, "width must be an integer in [4, 1024]"),
    ({"action": "set", "values": {"spectral_norm": "yes"}}, "spectral_norm must be true or false"),
    ({"action": "set", "values": {"objective": "gan2"}}, "unknown objective 'gan2'"),
    ({"action": "set", "values": {"objective": "fgan:nope"}}, "unknown divergence 'nope'"),
    ({"action": "set", "values": {"data": "digits"}}, "data must be one of"),
    ({"action": "set", "values": {"data": "0.5*N(0,1) + 0.7*N(1,1)"}}, "weights must sum to 1"),
    ({"action": "set", "values": {"colour": 1}}, "unknown control 'colour'"),
    ({"action": "set", "values": {}}, "set needs 'values'"),
    ({"action": "draw", "points": [[0, 0]] * (MAX_POINTS + 1)}, "points must be a list of 1 to"),
    ({"action": "draw", "points": [[0, 1e9]]}, "each point must be [x, y]"),
    ({"action": "draw", "points": [[0, "a"]]}, "each point must be [x, y]"),
    ({"action": "step", "count": 10**6}, "count must be an integer in [1, 1000]"),
    ({"action": "save", "path": "../../etc"}, "run name must be"),
    ({"action": "save", "path": "/tmp/x"}, "run name must be"),
    ({"action": "play", "extra": 1}, "unknown field"),
    ([1, 2], "must be a JSON object"),
]


def test_bad_messages_get_an_error_and_the_server_stays_up(client, lab):
    for msg, error in BAD:
        code, reply = post(client, msg)
        assert code == 400 and reply["ok"] is False and error in reply["error"], (msg, reply)
        assert lab.events[-1]["level"] == "error" and lab.events[-1]["text"] == reply["error"]  # shown on the page
    assert client.get("/api/state").json()["ok"]
    assert post(client, {"action": "step"})[1]["step"] == 1
    assert lab.game.cfg.objective.name == "ns" and lab.game.cfg.train.lr_d == 1e-3  # nothing bad was applied


def test_malformed_bodies_are_refused(client):
    for body in (b"{not json", b"[" * 100000 + b"]" * 100000, b"x" * (MAX_BODY + 1), b'{"action": "set", "values": {"lr_d": NaN}}'):
        r = client.post("/api/control", content=body)
        assert r.status_code == 400 and r.json()["ok"] is False
    assert client.get("/api/stream?fps=1000").status_code == 400
    assert client.get("/api/stream?fps=abc").status_code == 400


def test_play_and_pause_from_the_thread(client, lab):
    assert post(client, {"action": "play"})[1]["playing"] is True
    assert wait_for(lambda: lab.step >= 5)
    code, reply = post(client, {"action": "pause"})
    assert code == 200 and reply["playing"] is False
    stopped = lab.step
    assert not wait_for(lambda: lab.step > stopped, timeout=0.5)


def test_frames_are_well_formed_and_small(client, lab):
    post(client, {"action": "step", "count": 2})
    msgs = read_stream(client, frames=2)
    kinds = [k for k, _, _ in msgs]
    assert kinds[0] == "data" and kinds.count("frame") == 2 and kinds[-1] == "end"
    data = msgs[0][1]
    assert data["dim"] == 2 and len(data["real"]) == 2 * 400 and data["lo"][0] < data["hi"][0]
    _, frame, size = next(m for m in msgs if m[0] == "frame")
    assert size < 12_000, size  # a few KB: integers on the view box's grid
    assert len(frame["heat"]) == 24 * 24 and all(0 <= v <= 99 for v in frame["heat"])
    assert len(frame["fake"]) == 2 * 250 and len(frame["arrows"]) == 2 * 40
    assert frame["mesh"] and all(len(line) == 2 * 17 for line in frame["mesh"])
    assert frame["step"] == 2 and frame["objective"] == "ns" and frame["controls"]["width"] == 32
    th = frame["theory"]
    assert th["target"] == "gan" and th["bound"] is not None and th["n_modes"] == 8 and 0 <= th["modes"] <= 8


def test_drawn_points_become_the_data(client, lab):
    pts = [[0.0, 0.0], [1.0, 1.0], [1.0, -1.0]]
    code, reply = post(client, {"action": "draw", "points": pts})
    assert code == 200 and reply["step"] == 0
    src = lab.game.parts.source
    assert src.name == "drawn (3 points)" and torch.equal(src.centres, torch.tensor(pts))
    assert post(client, {"action": "step", "count": 2})[1]["step"] == 2
    th = read_stream(client, frames=1)[1][1]["theory"]
    assert th["n_modes"] == 3  # the drawn points are the modes the panel counts
    code, reply = post(client, {"action": "save", "path": "drawn"})
    assert code == 400 and "drawn points cannot be saved" in reply["error"]
    code, reply = post(client, {"action": "set", "values": {"data": "ring8"}})  # back to a named source
    assert code == 200 and lab.game.drawn is None and lab.game.parts.source.centres.shape == (8, 2)
