"""The files the docs use ship in examples/, and the commands quoted with them print what the docs say."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import numpy as np
import pytest

from gankit.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _quoted(doc: str) -> list[tuple[str, list[str]]]:
    """``$ gankit ...`` commands in ``doc``'s code blocks with the lines printed after them."""
    out, cmd, printed = [], None, []
    for line in (ROOT / "docs" / doc).read_text().splitlines():
        if line.startswith("$ gankit ") or line.startswith("```"):
            if cmd:
                out.append((cmd, printed))
            cmd, printed = (line[2:], []) if line.startswith("$ gankit ") else (None, [])
        elif cmd:
            printed.append(line)
    return out


def _run_in_examples(tmp_path, monkeypatch, capsys, command: str) -> str:
    shutil.copytree(ROOT / "examples", tmp_path / "examples", dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path / "examples")
    assert main(shlex.split(command)[1:]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command, printed", _quoted("wasserstein.md"))
def test_wasserstein_emd_example(command, printed, tmp_path, monkeypatch, capsys):
    out = _run_in_examples(tmp_path, monkeypatch, capsys, command)
    assert out.splitlines() == printed


def test_emd_example_files_are_what_the_doc_says():
    a, b = np.load(ROOT / "examples" / "a.npy"), np.load(ROOT / "examples" / "b.npy")
    assert a.tolist() == [[0.0, 0.0], [2.0, 0.0]] and b.tolist() == [[0.0, 1.0], [1.0, 1.0], [2.0, 1.0]]
    assert f"{(2 + np.sqrt(2)) / 3:.5f}" == "1.13807"  # the closed form the doc derives


def test_nb_text_example(tmp_path, monkeypatch, capsys):
    text = (ROOT / "docs" / "vae_classic.md").read_text()
    command = re.search(r"gankit classic nb-text examples/reviews\.csv [^\[\n]*", text).group(0).strip()
    block = text[text.index("the command above prints"):]
    printed = block.split("```")[1].strip("\n").splitlines()
    monkeypatch.chdir(ROOT)
    assert main(shlex.split(command)[1:]) == 0
    assert capsys.readouterr().out.splitlines() == printed


def test_run_toml_example_resolves_as_the_readme_uses_it(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert "gankit train --config examples/run.toml" in (ROOT / "README.md").read_text()
    assert main(["train", "--config", "examples/run.toml", "--set", "model.d_width=512", "--print-config"]) == 0
    printed = capsys.readouterr().out
    assert 'name = "grid25"' in printed and "d_width = 512" in printed and "lr_d = 0.0002" in printed
