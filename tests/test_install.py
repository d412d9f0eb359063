"""The install path (issue 20 item 9): the Makefile passes TORCH_INDEX and PIP_ARGS to pip; the README says how."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _dry_run(tmp_path: Path, *assignments: str) -> list[str]:
    out = subprocess.run(["make", "-n", "-C", str(ROOT), "setup", f"VENV={tmp_path / 'venv'}", *assignments],
                         capture_output=True, text=True, check=True).stdout
    return [ln for ln in out.splitlines() if "pip install" in ln]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_setup_passes_the_torch_index_and_pip_args(tmp_path):
    plain = _dry_run(tmp_path)
    assert not any("--index-url" in ln for ln in plain) and any('-e ".[dev,lab,search,ray]"' in ln for ln in plain)
    cpu = _dry_run(tmp_path, "TORCH_INDEX=https://download.pytorch.org/whl/cpu", "PIP_ARGS=--no-cache-dir")
    torch_line = [ln for ln in cpu if ln.rstrip().endswith(" torch")]
    assert len(torch_line) == 1 and "--index-url https://download.pytorch.org/whl/cpu" in torch_line[0]
    assert "-c constraints.txt" in torch_line[0]  # the pinned version, from the CPU index
    assert cpu.index(torch_line[0]) < next(i for i, ln in enumerate(cpu) if '-e ".[dev,lab,search,ray]"' in ln)
    assert all("--no-cache-dir" in ln for ln in cpu)


def test_readme_says_how_to_get_cpu_torch_and_what_is_downloaded():
    text = (ROOT / "README.md").read_text()
    assert "make demo TORCH_INDEX=https://download.pytorch.org/whl/cpu" in text
    assert "What gets downloaded" in text and "No data set is downloaded" in text
    assert "pinned to the CPU build" not in text  # constraints.txt pins the version, not the build
