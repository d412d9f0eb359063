"""`gankit classic`: gmm / naive-bayes on data sources, nb-text on CSV files, and their errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gankit.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_gmm_on_ring8_reaches_the_true_log_likelihood(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "s.npy"
    rc, out, _ = _run(capsys, "classic", "gmm", "--data", "ring8", "--n-components", "8", "--n-train", "2000",
                      "--n-test", "2000", "--samples", "20", "-o", str(out_file), "--json")
    assert rc == 0
    rep = json.loads(out)
    # exact mean log-density of ring8: 8 equal isotropic Gaussians with std 0.01, far apart
    exact = -np.log(8) - np.log(2 * np.pi * 0.01**2) - 1
    assert abs(rep["test_log_likelihood"] - exact) < 0.1
    assert np.load(out_file).shape == (20, 2)


def test_naive_bayes_on_digits_reports_accuracy(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys, "classic", "naive-bayes", "--data", "digits", "--json")
    assert rc == 0
    rep = json.loads(out)
    assert rep["n_train"] == 1438 and rep["n_test"] == 359 and rep["n_features"] == 64
    assert rep["test_accuracy"] > 0.6
    assert np.isfinite(rep["test_log_likelihood"])
    rc, out, _ = _run(capsys, "classic", "naive-bayes", "--data", "digits")
    assert rc == 0 and "held-out" in out and "accuracy" in out


def test_nb_text_on_a_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = ["label,text"] + [f"sport,goal match team win {i}" for i in range(10)] + \
           [f"food,bread cheese soup dinner {i}" for i in range(10)]
    csv = tmp_path / "t.csv"
    csv.write_text("\n".join(rows) + "\n")
    rc, out, _ = _run(capsys, "classic", "nb-text", str(csv), "--test-fraction", "0.3", "--top-k", "3", "--json")
    assert rc == 0
    rep = json.loads(out)
    assert rep["accuracy"] == 1.0 and rep["n_test"] == 6 and len(rep["top_words"]["sport"]) == 3
    rc, out, _ = _run(capsys, "classic", "nb-text", str(csv))
    assert rc == 0 and "test accuracy" in out


@pytest.mark.parametrize("argv, needle", [
    (["classic", "nb-text", "/no/such/file.csv"], "does not exist"),
    (["classic", "nb-text", "{csv}", "--label-col", "y"], "missing: y"),
    (["classic", "naive-bayes", "--data", "ring8"], "needs labelled data"),
    (["classic", "gmm", "--data", "nosuch"], "unknown data source 'nosuch'"),
    (["classic", "gmm", "--data", "ring8", "--samples", "5"], "needs -o"),
    (["classic", "gmm", "--data", "ring8", "--samples", "5", "-o", "x.txt"], "must end in .npy or .csv"),
])
def test_errors_are_one_line_exit_2(argv: list[str], needle: str, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "c.csv"
    csv.write_text("label,text\na,x\nb,y\n")
    rc, _, err = _run(capsys, *[a.replace("{csv}", str(csv)) for a in argv])
    assert rc == 2
    assert err.count("\n") == 1 and err.startswith("gankit: error:") and needle in err, err
