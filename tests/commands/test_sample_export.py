"""`gankit sample -o grid.png` for image runs (--nrow), .npy/.csv kept, other suffixes and --class refused."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import gankit.metrics.classifier as clf
from gankit.cli import main
from gankit.report.grids import image_grid
from gankit.run import Run


@pytest.fixture(scope="module")
def image_run(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    tmp = tmp_path_factory.mktemp("img")
    mp.setitem(clf.RECIPE, "epochs", 1)  # a 1-epoch feature classifier keeps the test short
    mp.setenv("GANKIT_CACHE", str(tmp / "cache"))
    mp.setattr(clf, "_MEMO", {})
    out = tmp / "run"
    try:
        assert main(["train", "--data", "digits", "--steps", "2", "--set", "model.channels=4", "--set",
                     "eval.n_samples=50", "--set", "train.eval_every=0", "--out", str(out), "--json"]) == 0
    finally:
        mp.undo()
    return out


@pytest.fixture(scope="module")
def vector_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("vec") / "run"
    sets = ["train.steps=5", "model.g_width=8", "model.d_width=8", "model.g_depth=1", "model.d_depth=1",
            "train.eval_every=0", "eval.n_samples=50", "eval.w1_samples=20", "train.progress=false"]
    assert main(["train", "--out", str(out), "--json", *[a for kv in sets for a in ("--set", kv)]]) == 0
    return out


def test_png_grid_of_an_image_run_holds_the_samples(image_run, tmp_path, capsys):
    png, npy = tmp_path / "grid.png", tmp_path / "x.npy"
    assert main(["sample", str(image_run), "-n", "12", "--seed", "3", "-o", str(png), "--nrow", "4"]) == 0
    assert main(["sample", str(image_run), "-n", "12", "--seed", "3", "-o", str(npy)]) == 0
    assert "wrote 12 samples of shape (1, 8, 8)" in capsys.readouterr().out
    x = np.load(npy)  # (12, 1, 8, 8) in [-1, 1]
    import torch

    expected = image_grid(torch.from_numpy(x), nrow=4)  # 3 rows of 4 images, 1-pixel borders
    assert expected.shape == (3 * 9 + 1, 4 * 9 + 1)
    img = np.asarray(Image.open(png).convert("L"))
    scale = img.shape[1] // expected.shape[1]
    assert scale >= 1 and img.shape == (expected.shape[0] * scale, expected.shape[1] * scale)
    assert np.array_equal(img[::scale, ::scale], expected)  # the same pixels, enlarged


def test_png_default_rows_and_json(image_run, tmp_path, capsys):
    png = tmp_path / "g.PNG"
    assert main(["sample", str(image_run), "-n", "10", "-o", str(png), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["shape"] == [10, 1, 8, 8]
    h, w = np.asarray(Image.open(png).convert("L")).shape
    assert h * (4 * 9 + 1) == w * (3 * 9 + 1)  # default: ceil(sqrt(10)) = 4 images per row, so 3 rows


@pytest.mark.parametrize("args, needle", [
    (["-o", "{tmp}/x.jpg"], "must end in .npy, .csv or .png"),
    (["-o", "{tmp}/x.npy", "--nrow", "3"], "--nrow sets the rows of a .png grid"),
    (["-o", "{tmp}/x.png", "--nrow", "0"], "--nrow must be in [1, 5]"),
    (["-o", "{tmp}/x.png", "-n", "20000"], "-n for a .png grid must be in [1, 10000]"),
    (["-o", "{tmp}/missing/x.png"], "does not exist"),
])
def test_bad_outputs_are_one_line_before_any_work(image_run, tmp_path, capsys, args, needle):
    argv = ["sample", str(image_run), "-n", "5", *[a.replace("{tmp}", str(tmp_path)) for a in args]]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_png_of_a_vector_run_and_class_of_an_unconditional_model_are_refused(vector_run, tmp_path, capsys):
    assert main(["sample", str(vector_run), "-o", str(tmp_path / "g.png")]) == 2
    err = capsys.readouterr().err
    assert "a .png grid needs an image run" in err and "shape (2,)" in err and len(err.strip().splitlines()) == 1
    assert main(["sample", str(vector_run), "-o", str(tmp_path / "x.npy"), "--class", "3"]) == 2
    err = capsys.readouterr().err
    assert "this run's model is not conditional" in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
    assert main(["sample", str(vector_run), "-n", "7", "-o", str(tmp_path / "x.csv")]) == 0  # .csv stays
    assert np.loadtxt(tmp_path / "x.csv", delimiter=",").shape == (7, 2)


def test_the_class_hook_draws_from_a_conditional_generator(vector_run):
    import torch

    run = Run.load(vector_run)

    class Conditional(torch.nn.Module):  # the contract of gankit.sampling.conditional
        num_classes, latent_dim = 3, run.parts.G.latent_dim

        def for_class(self, k):
            return Shifted(k)

        def forward(self, z):
            raise AssertionError("a class generator is sampled, not the conditional one")

    class Shifted(torch.nn.Module):
        latent_dim = run.parts.G.latent_dim

        def __init__(self, k):
            super().__init__()
            self.k = k

        def forward(self, z):
            return torch.full((z.shape[0], 2), float(self.k))

    run.parts.G = Conditional()
    assert torch.equal(run.sample(4, label=2), torch.full((4, 2), 2.0))
    with pytest.raises(Exception, match=r"--class must be an integer in \[0, 2\]"):
        run.sample(4, label=3)
