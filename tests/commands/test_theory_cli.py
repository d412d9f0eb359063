"""`gankit divergence` and `gankit theory`: output formats and one-line errors."""

from __future__ import annotations

import json
import math

import pytest
import torch

from gankit.cli import main

P = "0.3*N(-2,0.5) + 0.7*N(1,1)"


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _fails(capsys, argv: list[str], *needles: str) -> str:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gankit"), err
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


@pytest.mark.parametrize("argv, needles", [
    (["divergence", "--p", "0.3*N(-2,0.5) + 0.7*N(1,1", "--q", "N(0,1)"], ["--p", "malformed mixture term", "accepted form"]),
    (["divergence", "--p", P, "--q", "N(0,-1)"], ["--q", "stds must be positive"]),
    (["divergence", "--p", P, "--q", "N(0,1)", "--divergence", "kll"], ["unknown divergence 'kll'", "kl", "reverse_kl"]),
    (["divergence", "--p", P, "--q", "N(0,1)", "--divergence", "alpha:1"], ["α", "other than 0 and 1"]),
    (["divergence", "--p", P, "--q", "N(0,1)", "--divergence", "alpha:x"], ["alpha:<α>", "'x'"]),
    (["divergence", "--p", P, "--q", "N(0,1)", "-n", "1"], ["--samples must be in [2, 10**7]"]),
    (["theory"], ["needs a subcommand", "optimal-d"]),
    (["theory", "conjugate", "--divergence", "alpha:0"], ["other than 0 and 1"]),
    (["theory", "conjugate", "-o", "c.jpg"], ["must end in .png"]),
    (["theory", "conjugate", "-o", "/no/such/folder/c.png"], ["does not exist"]),
    (["theory", "optimal-d", "--q", "N(0,1"], ["--q", "malformed"]),
    (["theory", "optimal-d", "--steps", "0"], ["--steps must be >= 1"]),
    (["theory", "fgan-fit", "--divergence", "nope"], ["unknown divergence 'nope'"]),
    (["theory", "fgan-fit", "--p", "N(0,1)+"], ["--p", "malformed"]),
    (["theory", "variational", "--p", P, "--q", "N(0,1)", "--divergence", "alpha:inf"], ["other than 0 and 1"]),
    (["theory", "fgan-fit", "--expectation", "mc"], ["invalid choice"]),
])
def test_errors_are_one_line_exit_2(capsys, argv, needles):
    if "invalid choice" in needles:  # argparse usage errors exit through SystemExit(2)
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "invalid choice" in err
        return
    _fails(capsys, argv, *needles)


def test_divergence_json_writes_inf_as_a_string(capsys):
    # Neyman χ²(P‖Q) = ∫ q²/p − 1 is infinite when Q's tail is wider than √2 × P's widest tail
    assert main(["divergence", "--p", P, "--q", "N(0,1.5)", "--divergence", "neyman", "--json", "-n", "1000"]) == 0
    obj = json.loads(capsys.readouterr().out)
    row = obj["divergences"]["neyman"]  # keyed by name, as in gankit theory fgan-fit / variational
    assert row["value"] == "inf" and row["monte_carlo"] == "inf"


def test_divergence_table_has_every_row_and_prints_inf(capsys):
    from gankit.divergences import divergence, divergence_names

    assert main(["divergence", "--p", P, "--q", "N(0,1.5)", "--json", "--samples", "20000"]) == 0
    rows = json.loads(capsys.readouterr().out)["divergences"]
    assert sorted(rows) == sorted(divergence_names())
    from gankit.data.toy import parse_mixture

    kl = divergence("kl", parse_mixture(P), parse_mixture("N(0,1.5)")).value
    assert rows["kl"]["value"] == pytest.approx(kl, rel=1e-12)
    assert abs(rows["kl"]["monte_carlo"] - kl) <= 5 * rows["kl"]["mc_stderr"]
    assert main(["divergence", "--p", P, "--q", "N(0,1.5)", "--divergence", "neyman", "-n", "100"]) == 0
    line = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("neyman")][0]
    assert line.split()[1] == "inf"


def test_conjugate_json_and_plot(capsys, tmp_path):
    png = tmp_path / "conj.png"
    assert main(["theory", "conjugate", "--divergence", "jeffrey", "--json", "-o", str(png)]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["name"] == "jeffrey" and obj["max_abs_error"] < 1e-8 and png.stat().st_size > 1000


def test_optimal_d_json_and_plot(capsys, tmp_path):
    png = tmp_path / "d.png"
    assert main(["theory", "optimal-d", "--steps", "30", "--json", "-o", str(png)]) == 0
    obj = json.loads(capsys.readouterr().out)
    for key in ("max_abs_error", "mean_abs_error", "value", "value_star", "jsd", "region"):
        assert key in obj
    assert obj["value_star"] == pytest.approx(2 * obj["jsd"] - math.log(4), abs=1e-12)
    assert png.stat().st_size > 1000


def test_fgan_fit_json_carries_the_fit(capsys, tmp_path):
    png = tmp_path / "fit.png"
    argv = ["theory", "fgan-fit", "--divergence", "kl", "--steps", "200", "--json", "-o", str(png)]
    assert main(argv) == 0
    obj = json.loads(capsys.readouterr().out)
    row = obj["divergences"]["kl"]
    for key in ("mu", "sigma", "mu_star", "sigma_star", "d_f_star", "bound", "error", "note"):
        assert key in row
    # KL(P‖Q) over Gaussians is minimised by moment matching: an independent check of mu*, sigma*
    assert row["mu_star"] == pytest.approx(0.3 * -2 + 0.7 * 1, abs=1e-4)
    var = 0.3 * (0.25 + 4) + 0.7 * (1 + 1) - 0.1**2
    assert row["sigma_star"] == pytest.approx(math.sqrt(var), abs=1e-4)
    assert png.stat().st_size > 1000
