"""Frames (D heatmap, decision contour, generator push, latent mesh), the snapshot callback and animations."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from gankit.config import ObjectiveConfig, RunConfig, apply_overrides
from gankit.data.toy import make_source
from gankit.objectives import make_objective
from gankit.report import animate
from gankit.report.frames import FrameView, decision_level, generator_push, latent_mesh
from gankit.run import Run

TINY = ["train.steps=40", "train.eval_every=20", "train.batch_size=64", "model.g_width=32", "model.d_width=32",
        "model.g_depth=2", "model.d_depth=2", "eval.n_samples=400", "eval.w1_samples=200",
        "train.checkpoint_every=0", "train.progress=false"]



class Linear(nn.Module):
    def __init__(self, w: torch.Tensor, b: torch.Tensor, latent_dim: int | None = None) -> None:
        super().__init__()
        self.w, self.b = nn.Parameter(w), nn.Parameter(b)
        if latent_dim is not None:
            self.latent_dim = latent_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.w + self.b


class Critic:
    """An objective shown as is (identity ``d_output``), like a WGAN critic."""

    def d_output(self, logits: torch.Tensor) -> torch.Tensor:
        return logits


def test_decision_level_is_half_for_gans_and_zero_for_critics() -> None:
    assert decision_level(make_objective(ObjectiveConfig("ns"))) == pytest.approx(0.5, abs=1e-7)
    assert decision_level(Critic()) == 0.0


def test_generator_push_is_minus_gradient_of_ns_loss_closed_form() -> None:
    # D(x) = w.x + c; ns loss = mean softplus(-D(x_i)), so -n dL/dx_i = sigmoid(-D(x_i)) w.
    torch.manual_seed(0)
    w = torch.tensor([[1.5], [-0.7]])
    D = nn.Sequential(Linear(w, torch.tensor([0.3])), nn.Flatten(0))
    G = Linear(torch.randn(2, 2), torch.zeros(2), latent_dim=2)
    z = torch.randn(50, 2)
    fake, push = generator_push(G, D, make_objective(ObjectiveConfig("ns")), z)
    x = (z @ G.w + G.b).detach().numpy()
    expected = torch.sigmoid(-(torch.as_tensor(x) @ w + 0.3)).numpy() * w.numpy().T  # (50, 2)
    assert np.allclose(fake, x, atol=1e-6)
    assert np.allclose(push, expected, rtol=1e-5, atol=1e-7)
    assert D[0].w.grad is None  # no parameter gradient accumulated


def test_latent_mesh_is_the_image_of_grid_lines() -> None:
    A, c = torch.tensor([[2.0, 0.5], [0.0, 1.0]]), torch.tensor([1.0, -1.0])
    G = Linear(A, c, latent_dim=2)
    lines = latent_mesh(G, lines=5, points=7, radius=2.0)
    assert len(lines) == 10 and lines[0].shape == (7, 2)
    t = np.linspace(-2, 2, 7)
    horiz = np.stack([t, np.full(7, -2.0)], 1) @ A.numpy() + c.numpy()  # first line: z2 = -2
    assert np.allclose(lines[0], horiz, atol=1e-5)
    assert latent_mesh(Linear(torch.randn(3, 2), torch.zeros(2), latent_dim=3)) == []


@pytest.mark.parametrize("data,latent", [("ring8", 2), ("0.3*N(-2,0.5) + 0.7*N(1,1)", 1)])
def test_frame_view_draws_and_updates(tmp_path: Path, data: str, latent: int) -> None:
    torch.manual_seed(0)
    source = make_source(data)
    dim = source.shape[0]
    G = Linear(torch.randn(latent, dim), torch.zeros(dim), latent_dim=latent)
    D = nn.Sequential(Linear(torch.randn(dim, 1), torch.zeros(1)), nn.Flatten(0))
    view = FrameView(source, make_objective(ObjectiveConfig("ns")))
    a = view.draw(G, D, tmp_path / "a.png", title="first")
    with torch.no_grad():
        G.b += 0.5  # the generator moves: the second frame must differ
    t0 = time.process_time()
    b = view.draw(G, D, tmp_path / "b.png", title="second")
    cpu = time.process_time() - t0
    view.close()
    ia, ib = np.asarray(Image.open(a).convert("RGB")), np.asarray(Image.open(b).convert("RGB"))
    assert ia.shape == ib.shape and ia.shape[0] > 200
    assert np.abs(ia.astype(int) - ib.astype(int)).sum() > 0
    assert len(np.unique(ia.reshape(-1, 3), axis=0)) > 50  # a picture, not a blank canvas
    assert cpu < 1.0  # typically ~0.1-0.2 s of CPU; generous for a loaded CI machine


def test_train_run_saves_frames_gif_and_report(tmp_path: Path) -> None:
    cfg = apply_overrides(RunConfig(), TINY)
    Run(cfg, tmp_path / "run").fit(progress=False)
    frames = sorted(p.name for p in (tmp_path / "run" / "frames").iterdir())
    assert frames == ["step_0000000.png", "step_0000020.png", "step_0000040.png"]
    gif = Image.open(tmp_path / "run" / "training.gif")
    assert gif.n_frames == 3
    assert (tmp_path / "run" / "report.html").stat().st_size > 10_000
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.endswith(".tmp")]


def test_snapshots_switch_off(tmp_path: Path) -> None:
    cfg = apply_overrides(RunConfig(), TINY + ["train.snapshots=false"])
    Run(cfg, tmp_path / "run").fit(progress=False)
    assert not (tmp_path / "run" / "frames").exists()
    assert not (tmp_path / "run" / "training.gif").exists()
    assert (tmp_path / "run" / "report.html").exists()


def _frames(folder: Path, n: int) -> list[Path]:
    folder.mkdir()
    out = []
    for i in range(n):
        arr = np.zeros((40, 60, 3), np.uint8)
        arr[:, : 6 * (i + 1)] = (255, 140, 0)
        out.append(folder / f"step_{i * 10:07d}.png")
        Image.fromarray(arr).save(out[-1])
    return out


def test_gif_keeps_frame_order_and_limits_frames(tmp_path: Path) -> None:
    frames = _frames(tmp_path / "frames", 7)
    assert animate.list_frames(tmp_path / "frames") == frames
    gif = Image.open(animate.make_gif(frames, tmp_path / "a.gif"))
    assert gif.n_frames == 7
    for i in range(7):
        gif.seek(i)
        orange = (np.asarray(gif.convert("RGB"))[0] == (255, 140, 0)).all(axis=1).sum()
        assert orange == 6 * (i + 1)
    picked = Image.open(animate.make_gif(frames, tmp_path / "b.gif", max_frames=3))
    assert picked.n_frames == 3


def test_mp4_is_skipped_with_a_note_without_ffmpeg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    frames = _frames(tmp_path / "frames", 2)
    monkeypatch.setattr(animate.shutil, "which", lambda name: None)
    assert animate.make_mp4(frames, tmp_path / "a.mp4") is None
    out = animate.save_animations(tmp_path)
    assert out["mp4"].startswith("skipped") and Path(out["gif"]).exists()


@pytest.mark.skipif(animate.shutil.which("ffmpeg") is None, reason="ffmpeg is not on PATH")
def test_mp4_with_ffmpeg(tmp_path: Path) -> None:
    frames = _frames(tmp_path / "frames", 3)
    out = animate.make_mp4(frames, tmp_path / "a.mp4")
    assert out is not None and out.stat().st_size > 0
