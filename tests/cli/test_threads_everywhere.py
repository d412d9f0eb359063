"""--threads on every command that computes (DESIGN.md contract), and report's output suffix checked."""

from __future__ import annotations

import pytest
import torch

from gankit.cli import build_parser, main

COMPUTING = [["train"], ["sample"], ["eval"], ["report"], ["divergence"], ["emd"], ["theory", "optimal-d"],
             ["theory", "fgan-fit"], ["theory", "conjugate"], ["theory", "variational"], ["classic", "nb-text"],
             ["metrics-net", "train"]]


@pytest.fixture(autouse=True)
def _restore_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


@pytest.mark.parametrize("command", COMPUTING, ids=" ".join)
def test_every_computing_command_takes_threads(command, capsys):
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    assert "--threads N" in capsys.readouterr().out


def test_threads_apply_to_a_theory_command(capsys):
    assert main(["divergence", "--p", "N(0,1)", "--q", "N(1,1)", "--divergence", "kl", "-n", "1000",
                 "--threads", "2", "--json"]) == 0
    assert torch.get_num_threads() == 2
    assert main(["divergence", "--p", "N(0,1)", "--q", "N(1,1)", "--divergence", "kl", "-n", "1000", "--json"]) == 0
    assert torch.get_num_threads() == 1  # the default


def test_bad_threads_is_one_line(capsys):
    assert main(["emd", "a.npy", "b.npy", "--threads", "-3"]) == 2
    err = capsys.readouterr().err
    assert "--threads" in err and len(err.strip().splitlines()) == 1


def test_report_refuses_a_non_html_output(tmp_path, capsys):
    out = tmp_path / "out.htm"
    assert main(["report", str(tmp_path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert ".html" in err and len(err.strip().splitlines()) == 1 and not out.exists()


def test_list_has_no_threads():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert "--threads" not in sub.choices["list"].format_help()
