"""One CLI vocabulary (issue 20 item 5): -o/--output, --divergence, -n/--samples, --order, --p/--q; old spellings
work with one deprecation line; "did you mean" for registry names and subcommands; --help shows defaults."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gankit.cli import build_parser, main
from gankit.errors import GankitError
from gankit.registry import DATA, DIVERGENCES, OBJECTIVES

P = "0.3*N(-2,0.5) + 0.7*N(1,1)"


def _run(capsys, argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("old, new", [
    (["--name", "kl", "--mc-samples", "500"], ["--divergence", "kl", "-n", "500"]),
])
def test_divergence_old_spellings_give_the_same_numbers_and_one_notice_each(capsys, old, new):
    base = ["divergence", "--p", P, "--q", "N(0,1.5)", "--json"]
    code_new, out_new, err_new = _run(capsys, base + new)
    code_old, out_old, err_old = _run(capsys, base + old)
    assert code_new == code_old == 0 and err_new == ""
    assert json.loads(out_new) == json.loads(out_old)
    lines = err_old.strip().splitlines()
    assert len(lines) == 2 and all("deprecated" in ln for ln in lines)
    assert "--name is deprecated" in lines[0] and "use --divergence" in lines[0]
    assert "use -n/--samples" in lines[1]


def test_emd_order_and_output(tmp_path, capsys):
    a, b = tmp_path / "a.npy", tmp_path / "b.npy"
    np.save(a, np.array([[0.0, 0.0], [1.0, 0.0]]))
    np.save(b, np.array([[0.0, 1.0], [1.0, 1.0]]))
    code, out, err = _run(capsys, ["emd", a, b, "--order", 2, "-o", tmp_path / "plan.npy", "--json"])
    assert code == 0 and err == "" and json.loads(out)["p"] == 2.0 and (tmp_path / "plan.npy").is_file()
    code, out_old, err = _run(capsys, ["emd", a, b, "--p", 2, "--plan", tmp_path / "plan2.npy", "--json"])
    assert code == 0 and err.count("deprecated") == 2 and (tmp_path / "plan2.npy").is_file()
    assert json.loads(out_old)["distance"] == json.loads(out)["distance"]


def test_the_old_spelling_is_named_in_its_error(capsys):
    code, _, err = _run(capsys, ["divergence", "--p", P, "--q", "N(0,1)", "--mc-samples", "1"])
    lines = err.strip().splitlines()
    assert code == 2 and "deprecated" in lines[0] and lines[1].startswith("gankit: error: --mc-samples must be")


def test_theory_output_and_old_plot(tmp_path, capsys):
    code, _, err = _run(capsys, ["theory", "conjugate", "--divergence", "kl", "-o", tmp_path / "c.png", "--json"])
    assert code == 0 and err == "" and (tmp_path / "c.png").stat().st_size > 1000
    code, _, err = _run(capsys, ["theory", "conjugate", "--name", "kl", "--plot", tmp_path / "d.png", "--json"])
    assert code == 0 and err.count("deprecated") == 2 and (tmp_path / "d.png").is_file()


def test_report_output_replaces_out():
    parser = build_parser()
    assert parser.parse_args(["report", "r", "--output", "x.html"]).output == "x.html"
    assert parser.parse_args(["report", "r", "--out", "x.html"]).output == "x.html"


@pytest.mark.parametrize("registry, typo, meant", [
    (OBJECTIVES, "wgangp", "wgan-gp"), (OBJECTIVES, "wgan_gp", "wgan-gp"), (DATA, "ring9", "ring8"),
    (DIVERGENCES, "reverse-kl", "reverse_kl"), (DIVERGENCES, "alpah:0.5", "alpha:0.5"),
])
def test_registry_suggests_the_closest_name(registry, typo, meant):
    with pytest.raises(GankitError) as err:
        registry.get(typo)
    assert str(err.value).endswith(f"did you mean {meant!r}?") and "known:" in str(err.value)


def test_far_names_get_no_suggestion():
    with pytest.raises(GankitError) as err:
        OBJECTIVES.get("zzzzzz")
    assert "did you mean" not in str(err.value)


def test_objective_typo_on_the_command_line(capsys, tmp_path):
    code, _, err = _run(capsys, ["train", "--objective", "wgangp", "--out", tmp_path / "r", "--no-progress"])
    assert code == 2 and "did you mean 'wgan-gp'?" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("argv, meant", [(["trian"], "train"), (["theory", "fgan-fti"], "fgan-fit"),
                                         (["metrics-net", "trian"], "train"), (["classic", "gmn"], "gmm")])
def test_subcommand_typos_suggest(capsys, argv, meant):
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and f"did you mean {meant!r}?" in err and len(err.strip().splitlines()) == 1


def _help(capsys, argv):
    with pytest.raises(SystemExit):
        main(argv + ["--help"])
    return " ".join(capsys.readouterr().out.split())


def test_help_shows_defaults_positionals_and_the_spec_grammar(capsys):
    text = _help(capsys, ["divergence"])
    assert "standard deviations s" in text and "(default: 0)" in text  # --seed's default, added by the formatter
    text = _help(capsys, ["emd"])
    assert "A first point file" in text and "--order P" in text and "--plan" not in text  # old spellings hidden
    assert "RUN_DIR run directories" in _help(capsys, ["report"])
    assert "standard deviations s" in _help(capsys, ["theory", "fgan-fit"])
    assert "(default: 0)" in _help(capsys, ["classic", "gmm"])  # --seed


def test_json_shape_of_divergences_is_the_same_in_every_command(capsys):
    _, out, _ = _run(capsys, ["divergence", "--p", P, "--q", "N(0,1.5)", "--divergence", "kl", "-n", "100", "--json"])
    assert isinstance(json.loads(out)["divergences"], dict) and "kl" in json.loads(out)["divergences"]
    _, out, _ = _run(capsys, ["theory", "variational", "--p", P, "--q", "N(0,1.5)", "--divergence", "kl",
                              "--steps", "5", "--json"])
    assert isinstance(json.loads(out)["divergences"], dict) and "kl" in json.loads(out)["divergences"]
