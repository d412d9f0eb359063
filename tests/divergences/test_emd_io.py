"""Point-file loading and the JSON-ready ``emd_command`` used by ``gankit emd``."""

from __future__ import annotations

import doctest
import json
import os

import numpy as np
import pytest
import scipy.sparse

import gankit.divergences.emd_io as iomod
from gankit.divergences.emd_io import emd_command, load_points
from gankit.divergences.wasserstein import emd
from gankit.errors import GankitError


@pytest.fixture
def pts():
    rng = np.random.default_rng(0)
    return rng.normal(size=(12, 2)), rng.normal(size=(9, 2)) + 1.0


def test_npy_round_trip(tmp_path, pts):
    x, _ = pts
    np.save(tmp_path / "a.npy", x)
    ps = load_points(tmp_path / "a.npy")
    assert np.array_equal(ps.points, x) and ps.weights is None and ps.n == 12 and ps.dim == 2
    np.save(tmp_path / "one.npy", x[:, 0])
    assert load_points(tmp_path / "one.npy").points.shape == (12, 1)


def test_npz_round_trip_with_weights(tmp_path, pts):
    x, _ = pts
    w = np.arange(1.0, 13.0)
    np.savez(tmp_path / "a.npz", points=x, weights=w)
    ps = load_points(tmp_path / "a.npz")
    assert np.array_equal(ps.points, x) and np.array_equal(ps.weights, w)
    np.savez(tmp_path / "b.npz", points=x)
    assert load_points(tmp_path / "b.npz").weights is None


def test_csv_round_trip_plain_and_with_weight_header(tmp_path, pts):
    x, _ = pts
    np.savetxt(tmp_path / "a.csv", x, delimiter=",")
    assert np.allclose(load_points(tmp_path / "a.csv").points, x, rtol=1e-15)
    w = np.linspace(0.5, 2, 12)
    body = "\n".join(f"{float(r[0])!r}, {float(wi)!r}, {float(r[1])!r}" for r, wi in zip(x, w, strict=True))
    (tmp_path / "w.csv").write_text("# comment\nx, Weight, y\n\n" + body + "\n")
    ps = load_points(tmp_path / "w.csv")
    assert np.array_equal(ps.points, x) and np.array_equal(ps.weights, w)
    (tmp_path / "h.csv").write_text("x,y\n1,2\n3,4\n")
    ps = load_points(tmp_path / "h.csv")
    assert ps.points.tolist() == [[1.0, 2.0], [3.0, 4.0]] and ps.weights is None


@pytest.mark.parametrize(
    "name, content, match",
    [
        ("empty.csv", "", "empty"),
        ("blank.csv", "\n\n# only a comment\n", "no data rows"),
        ("header.csv", "x,y\n", "header but no data rows"),
        ("text.csv", "1,2\n3,abc\n", "line 2: 'abc' is not a number"),
        ("ragged.csv", "1,2\n3\n", "line 2: 1 columns, expected 2"),
        ("nan.csv", "1,2\nnan,4\n", "NaN or infinite coordinate"),
        ("negw.csv", "x,weight\n1,1\n2,-1\n", "negative weight"),
        ("onlyw.csv", "weight\n1\n", "no coordinate columns"),
        ("twow.csv", "x,weight,weights\n1,1,1\n", "more than one weight column"),
        ("binary.csv", b"\xff\xfe\x00\x81", "cannot read"),
        ("bad.npy", b"not a numpy file at all", "cannot read"),
        ("bad.npz", b"PK not a zip", "cannot read"),
        ("points.json", "[1, 2]", "accepted: .npy, .npz, .csv, .txt"),
    ],
)
def test_bad_files_raise_gankit_error(tmp_path, name, content, match):
    f = tmp_path / name
    f.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(GankitError, match=match):
        load_points(f)


def test_missing_directory_object_and_bad_npz_keys(tmp_path):
    with pytest.raises(GankitError, match="not found"):
        load_points(tmp_path / "nope.npy")
    (tmp_path / "d.npy").mkdir()
    with pytest.raises(GankitError, match="not a regular file"):
        load_points(tmp_path / "d.npy")
    np.savez(tmp_path / "k.npz", x=np.zeros(3))
    with pytest.raises(GankitError, match="no array named 'points'"):
        load_points(tmp_path / "k.npz")
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object))
    with pytest.raises(GankitError, match="cannot read"):
        load_points(tmp_path / "o.npy")
    np.save(tmp_path / "s.npy", np.array(["a", "b"]))
    with pytest.raises(GankitError, match="real numbers"):
        load_points(tmp_path / "s.npy")
    np.savez(tmp_path / "w.npz", points=np.zeros((3, 2)), weights=np.ones(2))
    with pytest.raises(GankitError, match=r"must have shape \(3,\)"):
        load_points(tmp_path / "w.npz")


def test_emd_command_json_and_dense_plan(tmp_path, pts):
    x, y = pts
    np.save(tmp_path / "a.npy", x)
    np.savetxt(tmp_path / "b.csv", y, delimiter=",")
    out = emd_command(tmp_path / "a.npy", tmp_path / "b.csv", p=2, plan_path=tmp_path / "plan.npy")
    ref = emd(x, y, p=2)
    assert {"cost", "distance", "n_nonzero", "n", "m", "p"} <= set(out)
    assert np.isclose(out["cost"], ref.cost, rtol=1e-12) and np.isclose(
        out["distance"], ref.distance, rtol=1e-12
    )
    assert (out["n"], out["m"], out["p"], out["n_nonzero"]) == (12, 9, 2.0, ref.n_nonzero)
    assert json.loads(json.dumps(out)) == out
    plan = np.load(tmp_path / "plan.npy")
    assert (
        plan.shape == (12, 9)
        and np.allclose(plan.sum(1), 1 / 12)
        and np.count_nonzero(plan) == out["n_nonzero"]
    )
    assert sorted(os.listdir(tmp_path)) == ["a.npy", "b.csv", "plan.npy"]  # no temp file left


def test_emd_command_sparse_plan_weights_and_normalize(tmp_path):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=300), rng.normal(size=200)
    np.savez(tmp_path / "a.npz", points=x, weights=np.full(300, 2.0))
    np.save(tmp_path / "b.npy", y)
    with pytest.raises(GankitError, match="normalize"):
        emd_command(tmp_path / "a.npz", tmp_path / "b.npy")
    out = emd_command(tmp_path / "a.npz", tmp_path / "b.npy", normalize=True, plan_path=tmp_path / "plan.npz")
    assert np.isclose(out["cost"], emd(x, y).cost, rtol=1e-12) and out["method"] == "exact-1d"
    plan = scipy.sparse.load_npz(tmp_path / "plan.npz")
    assert plan.shape == (300, 200) and plan.nnz == out["n_nonzero"]
    assert np.allclose(plan.toarray().sum(0), 1 / 200)


def test_emd_command_errors_leave_no_plan(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((3, 2)))
    np.save(tmp_path / "b.npy", np.zeros((3, 3)))
    np.save(tmp_path / "c.npy", np.ones((3, 2)))
    with pytest.raises(GankitError, match="dimension 2 but .* dimension 3"):
        emd_command(tmp_path / "a.npy", tmp_path / "b.npy")
    with pytest.raises(GankitError, match=r"\.npy \(dense\) or \.npz"):
        emd_command(tmp_path / "a.npy", tmp_path / "c.npy", plan_path=tmp_path / "plan.txt")
    with pytest.raises(GankitError, match="does not exist"):
        emd_command(tmp_path / "a.npy", tmp_path / "c.npy", plan_path=tmp_path / "no" / "plan.npy")
    with pytest.raises(GankitError, match="sliced"):
        emd_command(tmp_path / "a.npy", tmp_path / "c.npy", plan_path=tmp_path / "plan.npy", max_size=5)
    assert sorted(os.listdir(tmp_path)) == ["a.npy", "b.npy", "c.npy"]


def test_docstring_examples_run():
    assert doctest.testmod(iomod).failed == 0
