"""``gankit emd A B``: exact EMD from files, human and JSON output, plan files, one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse
import scipy.stats
import torch
from scipy.spatial.distance import cdist

from gankit.cli import main


@pytest.fixture(autouse=True)
def _one_thread():
    """One torch thread: on a loaded 2-core machine two OpenMP threads make small ops ~100x slower."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _lp_w1(x: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Independent reference: the transport LP solved by scipy's HiGHS."""
    n, m = len(x), len(y)
    rows = np.zeros((n + m, n * m))
    for i in range(n):
        rows[i, i * m:(i + 1) * m] = 1
    for j in range(m):
        rows[n + j, j::m] = 1
    res = scipy.optimize.linprog(cdist(x, y).ravel(), A_eq=rows, b_eq=np.r_[a, b], bounds=(0, None), method="highs")
    assert res.status == 0
    return float(res.fun)


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(7, 2)), rng.normal(size=(5, 2)) + 1.0
    np.save(tmp_path / "a.npy", x)
    np.save(tmp_path / "b.npy", y)
    return tmp_path, x, y


def test_json_output_matches_an_independent_lp(files, capsys):
    d, x, y = files
    assert main(["emd", str(d / "a.npy"), str(d / "b.npy"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    ref = _lp_w1(x, y, np.full(7, 1 / 7), np.full(5, 1 / 5))
    assert out["cost"] == pytest.approx(ref, rel=1e-9)
    assert out["distance"] == pytest.approx(ref, rel=1e-9)
    assert out["n"] == 7 and out["m"] == 5 and out["dim"] == 2 and out["p"] == 1.0
    assert 1 <= out["n_nonzero"] <= 7 + 5 - 1 and out["plan"] is None


def test_human_output_and_dense_plan(files, capsys):
    d, x, y = files
    plan_path = d / "plan.npy"
    assert main(["emd", str(d / "a.npy"), str(d / "b.npy"), "-o", str(plan_path)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("W_1 = ") and "nonzero plan entries" in text and str(plan_path) in text
    plan = np.load(plan_path)
    assert plan.shape == (7, 5)
    assert np.allclose(plan.sum(1), 1 / 7, atol=1e-12) and np.allclose(plan.sum(0), 1 / 5, atol=1e-12)
    cost = float((plan * cdist(x, y)).sum())
    assert f"{cost:.6g}" in text


def test_sparse_plan_p2_and_1d_against_scipy(tmp_path, capsys):
    rng = np.random.default_rng(0)
    u, v = rng.normal(size=40), rng.normal(size=30) * 2 + 1
    np.save(tmp_path / "u.npy", u)
    np.save(tmp_path / "v.npy", v)
    assert main(["emd", str(tmp_path / "u.npy"), str(tmp_path / "v.npy"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cost"] == pytest.approx(scipy.stats.wasserstein_distance(u, v), rel=1e-10)
    plan_path = tmp_path / "plan.npz"
    assert main(["emd", str(tmp_path / "u.npy"), str(tmp_path / "v.npy"), "--order", "2", "-o", str(plan_path),
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    plan = scipy.sparse.load_npz(plan_path).toarray()
    assert plan.shape == (40, 30) and np.count_nonzero(plan) == out["n_nonzero"]
    assert out["cost"] == pytest.approx(float((plan * (u[:, None] - v[None]) ** 2).sum()), rel=1e-10)
    assert out["distance"] == pytest.approx(out["cost"] ** 0.5, rel=1e-12)


def test_weighted_csv_needs_normalize_when_masses_differ(tmp_path, capsys):
    (tmp_path / "a.csv").write_text("x,y,weight\n0,0,1\n1,1,2\n")
    (tmp_path / "b.csv").write_text("x,y\n0,1\n")
    assert main(["emd", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--json"]) == 2
    err = capsys.readouterr().err
    assert "--normalize" in err and len(err.strip().splitlines()) == 1
    assert main(["emd", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--normalize", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cost"] == pytest.approx(1 / 3 * 1 + 2 / 3 * 1, rel=1e-12)  # every point moves distance 1


@pytest.mark.parametrize(
    "b_name, b_content, extra, match",
    [
        ("c.npy", np.zeros((3, 3)), [], "dimension"),
        ("nan.csv", "1,2\nnan,3\n", [], "NaN"),
        ("neg.csv", "x,y,weight\n0,0,-1\n1,1,2\n", ["--normalize"], "negative"),
        ("heavy.csv", "x,y,weight\n0,0,1\n1,1,2\n", [], "masses differ"),
        ("empty.npy", "", [], "empty"),
        ("missing.npy", None, [], "not found"),
        ("b.npy", np.ones((2, 2)), ["--order", "0.5"], "--order"),
        ("b.npy", np.ones((2, 2)), ["-o", "plan.txt"], ".npy"),
        ("bad.csv", "1,2\n1,x\n", [], "not a number"),
    ],
)
def test_errors_are_one_line_exit_2(tmp_path, capsys, b_name, b_content, extra, match):
    np.save(tmp_path / "a.npy", np.array([[0.0, 0.0], [1.0, 0.0]]))
    target = tmp_path / b_name
    if isinstance(b_content, np.ndarray):
        np.save(target, b_content)
    elif b_content is not None:
        target.write_text(b_content)
    extra = [str(tmp_path / e) if e.endswith(".txt") else e for e in extra]
    assert main(["emd", str(tmp_path / "a.npy"), str(target), *extra]) == 2
    cap = capsys.readouterr()
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gankit: error:") and match in lines[0]
    assert "Traceback" not in cap.err and cap.out == ""
    assert not (tmp_path / "plan.txt").exists()
