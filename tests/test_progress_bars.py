"""Progress on long work (issue 20 item 6): the feature classifier's training, theory optimal-d / fgan-fit /
variational, the toy suite. Bars go to stderr, only on a terminal, and --no-progress turns them off."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
from pathlib import Path

import pytest
import torch

import gankit.metrics.classifier as clf
from gankit.cli import main

ROOT = Path(__file__).resolve().parents[1]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@contextlib.contextmanager
def _terminal():
    """stderr that says it is a terminal, and what was written to it (set inside the test: pytest's capture
    re-installs its own sys.stderr after fixtures are set up)."""
    fake, old = _Terminal(), sys.stderr
    sys.stderr = fake
    try:
        yield fake
    finally:
        sys.stderr = old


def _toy_suite():
    spec = importlib.util.spec_from_file_location("toy_suite_progress", ROOT / "benchmarks" / "toy_suite.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_classifier_training_shows_progress_only_on_a_terminal(monkeypatch):
    monkeypatch.setitem(clf.RECIPE, "epochs", 1)
    x, y = torch.rand(130, 1, 8, 8) * 2 - 1, torch.arange(130) % 10
    with _terminal() as terminal:
        clf.train_classifier(x, y, 10)
    assert "feature classifier" in terminal.getvalue() and "/3 " in terminal.getvalue()  # 130 images, batch 64
    with _terminal() as terminal:
        clf.train_classifier(x, y, 10, progress=False)
    assert terminal.getvalue() == ""


def test_classifier_training_is_silent_off_a_terminal(monkeypatch, capsys):
    monkeypatch.setitem(clf.RECIPE, "epochs", 1)
    clf.train_classifier(torch.rand(70, 1, 8, 8), torch.arange(70) % 10, 10)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("argv, desc", [
    (["theory", "optimal-d", "--steps", "5"], "optimal D"),
    (["theory", "variational", "--p", "N(0,1)", "--q", "N(1,1)", "--divergence", "kl", "--steps", "5"], "critic"),
])
def test_theory_bars_and_no_progress(argv, desc, capsys):
    with _terminal() as terminal:
        assert main(argv) == 0
    assert desc in terminal.getvalue()
    with _terminal() as terminal:
        assert main(argv + ["--no-progress"]) == 0
    assert desc not in terminal.getvalue() and "\r" not in terminal.getvalue()


def test_fgan_fit_names_the_divergence_being_fitted(monkeypatch, capsys):
    import gankit.commands.theory as theory_cmd

    monkeypatch.setattr(theory_cmd, "fit_table", lambda *a, **k: [])  # the bar, not the fit
    monkeypatch.setattr(theory_cmd, "format_table", lambda *a, **k: "")
    with _terminal() as terminal:
        assert main(["theory", "fgan-fit", "--divergence", "js"]) == 0
    assert "f-GAN fit" in terminal.getvalue() and "js" in terminal.getvalue()


def test_toy_suite_bar():
    ts = _toy_suite()
    with _terminal() as terminal:
        bar = ts.progress_bar(3, no_progress=False)
        bar.update()
        bar.close()
    assert "toy suite" in terminal.getvalue() and "1/3" in terminal.getvalue()
    assert ts.progress_bar(3, no_progress=True).disable
