"""The feature classifier (determinism, disk cache, corrupt cache, no cache) and image_metrics on real images."""

from __future__ import annotations

import math

import pytest
import torch

torch.set_num_threads(1)  # 2 shared cores: no thread oversubscription

import gankit.metrics.classifier as clf
from gankit.errors import GankitError
from gankit.metrics.images import _subset, image_metrics


def test_training_is_deterministic_and_cached(digits, quick_recipe):
    train, test = digits
    a = clf.get_classifier(train, test)
    assert a.origin == "trained"
    files = list(quick_recipe.glob("classifier-*.pt"))
    assert len(files) == 1
    clf._MEMO.clear()
    b = clf.get_classifier(train, test)
    assert b.origin == "cache" and b.hash == a.hash and b.test_accuracy == a.test_accuracy
    c = clf.get_classifier(train, test, use_cache=False)  # trained again from scratch: same weights
    assert c.origin == "trained" and c.hash == a.hash
    x = test.images[:10]
    assert torch.equal(a.features(x), c.features(x))


def test_corrupt_cache_is_retrained(digits, quick_recipe):
    train, test = digits
    a = clf.get_classifier(train, test)
    (path,) = quick_recipe.glob("classifier-*.pt")
    # same file, other weights: the stored hash no longer matches
    blob = torch.load(path, weights_only=True)
    blob["state"]["head.bias"] += 1.0
    torch.save(blob, path)
    clf._MEMO.clear()
    b = clf.get_classifier(train, test)
    assert b.origin == "trained" and b.hash == a.hash
    path.write_bytes(b"not a checkpoint")  # unreadable
    clf._MEMO.clear()
    assert clf.get_classifier(train, test).origin == "trained"
    assert clf._load_cached(path, 1, 10) is not None  # rewritten with good weights


def test_cache_is_never_required(digits, quick_recipe, monkeypatch, tmp_path):
    train, test = digits
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("GANKIT_CACHE", str(blocker / "sub"))  # cannot be created
    fc = clf.get_classifier(train, test)
    assert fc.origin == "trained" and fc.features(test.images[:3]).shape == (3, clf.RECIPE["feature_dim"])


def test_unlabelled_data_is_refused(digits):
    train, _ = digits
    from gankit.data.image_dataset import ImageDataset

    with pytest.raises(GankitError, match="labels"):
        clf.get_classifier(ImageDataset(train.images[:10]), None)


def test_image_metrics_identities(digits, quick_recipe):
    """Training images scored as if generated give exactly the floor, precision = recall = 1."""
    train, test = digits
    fake = train.images[_subset(len(train), len(train), 12345)]
    out = image_metrics(fake, train, test, seed=12345)
    assert out["frechet_distance"] == pytest.approx(out["frechet_floor"], rel=1e-9)
    assert out["precision"] == 1.0 and out["recall"] == 1.0
    noise = torch.rand(400, *train.shape, generator=torch.Generator().manual_seed(0)) * 2 - 1
    bad = image_metrics(noise, train, test)
    assert bad["frechet_distance"] > 2 * out["frechet_floor"]
    assert bad["parzen_ll"] < out["parzen_floor"]


@pytest.mark.slow
def test_image_metrics_on_real_images(digits, monkeypatch, tmp_path):
    """The real recipe: test accuracy, and training images scored as if generated give exactly the floor."""
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(clf, "_MEMO", {})
    train, test = digits
    m_idx = _subset(len(train), len(train), 12345)
    fake = train.images[m_idx]
    out = image_metrics(fake, train, test, seed=12345)
    assert out["classifier_accuracy"] > 0.93
    assert out["frechet_distance"] == pytest.approx(out["frechet_floor"], rel=1e-9)
    assert 0 < out["frechet_floor"] < 20
    assert out["precision"] == 1.0 and out["recall"] == 1.0
    assert out["classes_covered"] == 10.0
    assert out["fd_samples"] == len(train) and out["fd_reference"] == f"test:{len(test)}"
    assert len(out["feature_net"]) == 16
    assert math.isfinite(out["parzen_ll"]) and out["parzen_sigma"] > 0
    # Noise is far from the data: larger distance, no precision, fewer classes.
    noise = torch.rand(500, *train.shape, generator=torch.Generator().manual_seed(0)) * 2 - 1
    bad = image_metrics(noise, train, test)
    assert bad["frechet_distance"] > 5 * out["frechet_floor"]
    assert bad["precision"] < 0.05
    assert bad["parzen_ll"] < out["parzen_floor"]
