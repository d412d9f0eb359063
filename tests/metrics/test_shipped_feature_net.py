"""The shipped digits feature network: hash check, no training and no cache for digits, the recipe reproduced."""

from __future__ import annotations

import fnmatch
import io
import json
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

import gankit.metrics.classifier as clf
from gankit.cli import main
from gankit.errors import GankitError
from gankit.metrics.feature_net import describe
from gankit.metrics.images import _subset, image_metrics
from gankit.report.feature_nets import feature_net_note

ROOT = Path(__file__).resolve().parents[2]
#: the FD floor of the shipped network (1,438 training vs 359 test images), as docs/images.md states it
SHIPPED_FLOOR = 3.768341427963378


@pytest.fixture
def no_training(monkeypatch, tmp_path):
    """An empty cache that must stay empty, no memo, and training or cache writes fail the test."""
    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o555)
    monkeypatch.setenv("GANKIT_CACHE", str(cache))
    monkeypatch.setattr(clf, "_MEMO", {})

    def refuse(*a, **k):
        raise AssertionError("digits metrics must not train or cache a feature network")

    monkeypatch.setattr(clf, "train_classifier", refuse)
    monkeypatch.setattr(clf, "atomic_write_bytes", refuse)
    yield cache
    cache.chmod(0o755)


def test_shipped_file_matches_its_hash():
    fc = clf.load_shipped()
    assert fc.origin == "shipped" and fc.provenance == "shipped"
    assert fc.hash == clf.SHIPPED_DIGITS_SHA256 == clf.weights_hash(fc.net)
    assert fc.test_accuracy == pytest.approx(349 / 359, abs=1e-12)
    blob = torch.load(io.BytesIO(clf.shipped_file().read_bytes()), weights_only=True)
    assert blob["recipe"] == clf.RECIPE and blob["data_key"] == clf.SHIPPED_DIGITS_DATA_KEY
    assert 10_000 < len(clf.shipped_file().read_bytes()) < 400_000  # small


def test_digits_data_key_is_the_shipped_one(digits):
    train, _ = digits
    assert clf.data_key(train.images, train.labels, 10) == clf.SHIPPED_DIGITS_DATA_KEY


def test_digits_metrics_use_the_shipped_net_with_an_empty_read_only_cache(digits, no_training):
    train, test = digits
    fake = train.images[_subset(len(train), len(train), 12345)]
    out = image_metrics(fake, train, test, seed=12345)
    assert out["feature_net"] == clf.SHIPPED_DIGITS_SHA256[:16] and out["feature_net_provenance"] == "shipped"
    assert out["classifier_accuracy"] == pytest.approx(349 / 359, abs=1e-12)
    # the same on every machine: float64 features of fixed weights (to 1e-9, as docs/images.md says)
    assert out["frechet_floor"] == pytest.approx(SHIPPED_FLOOR, abs=1e-9)
    assert out["frechet_distance"] == pytest.approx(SHIPPED_FLOOR, abs=1e-9)
    assert list(no_training.iterdir()) == []


def _altered_copy(tmp_path: Path, mutate) -> Path:
    blob = torch.load(io.BytesIO(clf.shipped_file().read_bytes()), weights_only=True)
    mutate(blob)
    path = tmp_path / "digits_features.pt"
    torch.save(blob, path)
    return path


def test_an_altered_shipped_file_is_one_line(monkeypatch, tmp_path):
    def bump(blob):
        blob["state"]["head.bias"][0] += 1e-6

    path = _altered_copy(tmp_path, bump)
    monkeypatch.setattr(clf, "shipped_file", lambda: path)
    with pytest.raises(GankitError, match="expected 2a3bc6078549a780") as err:
        clf.load_shipped()
    assert "\n" not in str(err.value)
    path.write_bytes(path.read_bytes()[:500])  # truncated
    with pytest.raises(GankitError, match="cannot be read") as err:
        clf.load_shipped()
    assert "\n" not in str(err.value)


def test_other_data_get_a_local_net(digits, quick_recipe):
    """A recipe or data set other than the shipped one trains here and says so."""
    train, test = digits
    fake = train.images[:200]
    out = image_metrics(fake, train, test)
    assert out["feature_net_provenance"] == "local" and out["feature_net"] != clf.SHIPPED_DIGITS_SHA256[:16]
    assert len(list(quick_recipe.glob("classifier-*.pt"))) == 1


def test_weights_are_package_data():
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["gankit"]
    rel = Path(str(clf.shipped_file())).relative_to(ROOT / "src" / "gankit").as_posix()
    assert any(fnmatch.fnmatch(rel, g) for g in globs)


def test_report_flags_different_feature_nets():
    def run(name, net, prov="local", data="digits"):
        return SimpleNamespace(name=name, data=data, final={"feature_net": net, "feature_net_provenance": prov})

    same = [run("a", "2a3bc6078549a780", "shipped"), run("b", "2a3bc6078549a780", "shipped")]
    assert feature_net_note(same) is None
    assert feature_net_note([run("a", "aaaa", data="x"), run("b", "bbbb", data="y")]) is None  # compared apart
    note = feature_net_note([*same, run("c", "d6b802ae428a3011")])
    assert "not comparable" in note and "d6b802ae428a3011 (local) in c" in note and "(shipped) in a, b" in note


def test_metrics_net_train_refuses_bad_output(tmp_path, capsys):
    assert main(["metrics-net", "train", "-o", str(tmp_path / "w.txt")]) == 2
    assert main(["metrics-net", "train", "-o", str(tmp_path / "no" / "w.pt")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and ".pt" in err and "does not exist" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_metrics_net_train_reproduces_the_shipped_recipe(digits, tmp_path, capsys):
    """Retrained here: within 1.5 points of test accuracy and 2 % of the shipped FD floor (bits may differ by CPU)."""
    out = tmp_path / "w.pt"
    assert main(["metrics-net", "train", "--data", "digits", "-o", str(out), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    trained, shipped = res["trained"], res["shipped"]
    assert shipped["feature_net"] == clf.SHIPPED_DIGITS_SHA256
    assert shipped["frechet_floor"] == pytest.approx(SHIPPED_FLOOR, abs=1e-9)
    assert abs(trained["test_accuracy"] - shipped["test_accuracy"]) <= 0.015
    assert trained["frechet_floor"] == pytest.approx(shipped["frechet_floor"], rel=0.02)
    blob = torch.load(out, weights_only=True)
    net = clf.SmallCNN(1, 10)
    net.load_state_dict(blob["state"])
    assert clf.weights_hash(net) == blob["hash"] == trained["feature_net"]
    train, test = digits
    again = describe(clf.FeatureClassifier(net, 10, blob["test_accuracy"], blob["hash"], "trained"), train, test)
    assert again["frechet_floor"] == pytest.approx(trained["frechet_floor"], rel=1e-12)


def test_fd_does_not_hang_on_the_thread_count(digits, no_training):
    """Another reduction order (two threads instead of one) gives the same distance to 1e-9 (float64 features)."""
    train, test = digits
    noise = torch.rand(400, *train.shape, generator=torch.Generator().manual_seed(0)) * 2 - 1
    one = image_metrics(noise, train, test)["frechet_distance"]
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        clf._MEMO.clear()
        two = image_metrics(noise, train, test)["frechet_distance"]
    finally:
        torch.set_num_threads(threads)
    assert one == pytest.approx(237.57069437900634, abs=1e-9) and two == pytest.approx(one, abs=1e-9)
